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
     * The host paths a VM uses (disk volumes, kernel, initrd), each once: what {@link #conflicts} compares, so a
     * caller can index VMs by path and pass {@link #conflicts} only the VMs that share one.
     */
    public static List<String> paths(VirtualMachineSpec s) {
        if (s == null) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        for (Use u : uses(s)) {
            if (!out.contains(u.path())) {
                out.add(u.path());
            }
        }
        return out;
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
