package io.virtfleet.reconcilers.validation;

import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.api.v1alpha1.VirtualMachineSpec;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Namespace isolation of host files: a VM may not use a host path that a VM of another namespace uses, when either
 * use is writable (a disk that is neither cdrom nor readOnly). Read-only sharing (an installer ISO, a kernel) across
 * namespaces is allowed. The VM that existed first keeps the path (creation time, then namespace/name); the later one
 * gets the error, which does not name the other VM or namespace.
 */
public final class DiskClaims {
    private static final Comparator<VirtualMachine> FIRST = Comparator
            .comparing((VirtualMachine v) -> Objects.toString(v.getMetadata().getCreationTimestamp(), "~"))
            .thenComparing(v -> Objects.toString(v.getMetadata().getNamespace(), ""))
            .thenComparing(v -> Objects.toString(v.getMetadata().getName(), ""));

    private static final String ANY = "any:";
    private static final String WRITABLE = "writable:";

    private DiskClaims() {
    }

    private record Use(String field, String path, boolean writable) {
    }

    /** The errors for {@code vm}'s paths that an earlier VM of another namespace already uses; empty when none. */
    public static List<FieldError> conflicts(VirtualMachine vm, Collection<VirtualMachine> all) {
        List<FieldError> out = new ArrayList<>();
        if (vm == null || vm.getMetadata() == null || vm.getSpec() == null) {
            return out;
        }
        List<Use> mine = uses(vm.getSpec());
        if (mine.isEmpty()) {
            return out;
        }
        // Only paths this VM uses matter: the scan of every other VM (once per reconcile) then allocates nothing
        // for the usual VM that shares no path, and orders VMs only when they do share one.
        Set<String> paths = new HashSet<>();
        for (Use u : mine) {
            paths.add(u.path());
        }
        Map<String, Boolean> taken = new HashMap<>();
        String ns = vm.getMetadata().getNamespace();
        for (VirtualMachine other : all) {
            ObjectMeta m = other == null ? null : other.getMetadata();
            if (m == null || other.getSpec() == null || Objects.equals(ns, m.getNamespace())
                    || !usesAny(other.getSpec(), paths) || FIRST.compare(other, vm) >= 0) {
                continue;
            }
            for (Use u : uses(other.getSpec())) {
                taken.merge(u.path(), u.writable(), Boolean::logicalOr);
            }
        }
        for (Use u : mine) {
            Boolean otherWritable = taken.get(u.path());
            if (otherWritable != null && (otherWritable || u.writable())) {
                out.add(new FieldError(u.field(), Text.quote(u.path()) + " is in use by a VirtualMachine of another "
                        + "namespace (host files are not shared across namespaces unless every use is read-only)"));
            }
        }
        return out;
    }

    /**
     * The keys under which an index of VMs finds {@code vm} for {@link #lookupKeys}: {@code any:PATH} for every host
     * path it uses and, for a writable use, also {@code writable:PATH}. With such an index the operator gives
     * {@link #conflicts} only the VMs that can conflict, instead of every VM on every reconcile.
     */
    public static List<String> indexKeys(VirtualMachine vm) {
        if (vm == null || vm.getSpec() == null) {
            return List.of();
        }
        List<Use> uses = uses(vm.getSpec());
        if (uses.isEmpty()) {
            return List.of();
        }
        Set<String> keys = new HashSet<>();
        for (Use u : uses) {
            keys.add(ANY + u.path());
            if (u.writable()) {
                keys.add(WRITABLE + u.path());
            }
        }
        return List.copyOf(keys);
    }

    /**
     * The index keys ({@link #indexKeys}) of the VMs that can conflict with {@code vm}: for a path it writes, every
     * other use ({@code any:PATH}); for a path it only reads, the writable ones ({@code writable:PATH}), since
     * read-only sharing is allowed. {@link #conflicts} over the VMs found under these keys gives the same errors as
     * over every VM.
     */
    public static List<String> lookupKeys(VirtualMachine vm) {
        if (vm == null || vm.getSpec() == null) {
            return List.of();
        }
        Set<String> keys = new HashSet<>();
        for (Use u : uses(vm.getSpec())) {
            keys.add((u.writable() ? ANY : WRITABLE) + u.path());
        }
        // A path both read and written by this VM: the writable use's key (any:) covers the read-only one's.
        keys.removeIf(k -> k.startsWith(WRITABLE) && keys.contains(ANY + k.substring(WRITABLE.length())));
        return List.copyOf(keys);
    }

    private static boolean usesAny(VirtualMachineSpec s, Set<String> paths) {
        if (s.disks != null) {
            for (VirtualMachineSpec.Disk d : s.disks) {
                if (d != null && d.volume != null && d.volume.path != null && paths.contains(d.volume.path)) {
                    return true;
                }
            }
        }
        VirtualMachineSpec.KernelBoot k = s.firmware == null ? null : s.firmware.kernelBoot;
        return k != null && (k.kernel != null && paths.contains(k.kernel) || k.initrd != null
                && paths.contains(k.initrd));
    }

    private static List<Use> uses(VirtualMachineSpec s) {
        List<Use> out = new ArrayList<>();
        if (s.disks != null) {
            for (int i = 0; i < s.disks.size(); i++) {
                VirtualMachineSpec.Disk d = s.disks.get(i);
                if (d != null && d.volume != null && d.volume.path != null) {
                    boolean writable = !Boolean.TRUE.equals(d.cdrom) && !Boolean.TRUE.equals(d.readOnly);
                    out.add(new Use("spec.disks[" + i + "].volume.path", d.volume.path, writable));
                }
            }
        }
        VirtualMachineSpec.KernelBoot k = s.firmware == null ? null : s.firmware.kernelBoot;
        if (k != null && k.kernel != null) {
            out.add(new Use("spec.firmware.kernelBoot.kernel", k.kernel, false));
        }
        if (k != null && k.initrd != null) {
            out.add(new Use("spec.firmware.kernelBoot.initrd", k.initrd, false));
        }
        return out;
    }
}
