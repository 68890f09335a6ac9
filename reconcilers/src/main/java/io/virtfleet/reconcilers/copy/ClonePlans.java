package io.virtfleet.reconcilers.copy;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.virtfleet.api.v1alpha1.VirtualMachineSpec;
import io.virtfleet.reconcilers.genid.GenidPolicy;
import io.virtfleet.reconcilers.render.DiskFormats;
import io.virtfleet.reconcilers.validation.Names;
import io.virtfleet.reconcilers.validation.VirtualMachineValidator;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The pure decisions of a VirtualMachineClone: whether a clone request can be carried out, where each
 * copied disk goes, and the spec of the new VM. The operator calls these to validate and to create the target; the
 * agent of the source's host copies exactly the disks of {@link #copies}.
 *
 * <p>Writable disks are copied next to the original ({@code <dir>/<namespace>_<target>_<disk>.qcow2}, or {@code .img}
 * for raw),
 * so they stay under the same allowed root and on the same host; cdroms and read-only disks are shared (the new VM
 * references the same file). The new VM gets no explicit MACs, tap names or SMBIOS UUID (libvirt allocates new MACs,
 * virtfleet derives a new UUID from its name and uid), genid {@code auto} unless the source has {@code none}, and is
 * pinned to the source's host with {@code nodeName} (its disks exist only there).
 */
public final class ClonePlans {
    /** One disk to copy. {@code format} is the source's (and the copy's) image format. */
    public record DiskCopy(String disk, String source, String target, String format) {
    }

    static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private ClonePlans() {
    }

    /**
     * Field-named reasons the clone cannot be made (empty: go ahead).
     *
     * @param source       the source VM's spec, null when it does not exist
     * @param sourceHost   the host of the source's Domain (null: not placed yet — not an error, the caller waits)
     * @param targetExists whether a VirtualMachine named {@code targetName} exists in the namespace
     */
    public static List<String> validate(String sourceName, VirtualMachineSpec source, String targetName,
                                        boolean targetExists) {
        List<String> errors = new ArrayList<>();
        String sourceError = sourceError(sourceName);
        if (sourceError != null) {
            errors.add(sourceError);
        } else if (source == null) {
            errors.add("spec.source: VirtualMachine " + sourceName + " not found");
        }
        String targetError = targetError(sourceName, targetName);
        if (targetError != null) {
            errors.add(targetError);
        } else if (targetExists) {
            errors.add("spec.target: a VirtualMachine named " + targetName + " already exists (nothing was changed)");
        }
        if (source != null && targetName != null && Names.isDnsSubdomain(targetName)) {
            errors.addAll(diskErrors(source));
        }
        return errors;
    }

    /**
     * The reasons a clone request is refused that need no cluster: what {@link #validate} checks of the request
     * object itself ({@code virtfleet validate} applies exactly these offline).
     */
    public static List<String> requestErrors(String sourceName, String targetName) {
        List<String> errors = new ArrayList<>();
        String s = sourceError(sourceName);
        if (s != null) {
            errors.add(s);
        }
        String t = targetError(sourceName, targetName);
        if (t != null) {
            errors.add(t);
        }
        return errors;
    }

    private static String sourceError(String sourceName) {
        return sourceName == null || sourceName.isEmpty() ? "spec.source: required" : null;
    }

    private static String targetError(String sourceName, String targetName) {
        if (targetName == null || targetName.isEmpty()) {
            return "spec.target: required";
        }
        if (!Names.isDnsSubdomain(targetName)) {
            return "spec.target: " + targetName + " is not a valid VirtualMachine name (a DNS subdomain: "
                    + "lower-case letters, digits, '-' and '.', at most " + Names.DNS_SUBDOMAIN_MAX + " characters)";
        }
        if (targetName.equals(sourceName)) {
            return "spec.target: must differ from spec.source";
        }
        return null;
    }

    /** Why the VM's writable disks cannot be copied (clone, backup), field-named under {@code spec.source}. */
    static List<String> diskErrors(VirtualMachineSpec source) {
        return diskErrors(source, "spec.source");
    }

    /** As {@link #diskErrors(VirtualMachineSpec)}, the fields named under {@code field}. */
    public static List<String> diskErrors(VirtualMachineSpec source, String field) {
        List<String> errors = new ArrayList<>();
        for (int i = 0; i < source.disks.size(); i++) {
            VirtualMachineSpec.Disk d = source.disks.get(i);
            if (shared(d)) {
                continue;
            }
            String f = field + ": disk " + d.name + " (spec.disks[" + i + "])";
            if (d.volume == null || d.volume.path == null || d.volume.path.isEmpty()) {
                errors.add(f + " has no volume path to copy");
                continue;
            }
            String format = format(d);
            if (!"qcow2".equals(format) && !"raw".equals(format)) {
                errors.add(f + " has format " + format + "; only qcow2 and raw disks can be copied");
            }
            Path p = Path.of(d.volume.path);
            if (!p.isAbsolute() || p.getParent() == null) {
                errors.add(f + " path " + d.volume.path + " is not an absolute file path");
            }
        }
        return errors;
    }

    /** The writable disks to copy, in spec order; call only when {@link #validate} found nothing. */
    public static List<DiskCopy> copies(VirtualMachineSpec source, String namespace, String targetName) {
        List<DiskCopy> out = new ArrayList<>();
        for (VirtualMachineSpec.Disk d : source.disks) {
            if (shared(d)) {
                continue;
            }
            String format = format(d);
            out.add(new DiskCopy(d.name, d.volume.path, targetPath(d.volume.path, namespace, targetName, d.name, format),
                    format));
        }
        return out;
    }

    /** {@code source -> target} of {@link #copies}, as the clone's status.disks shows it. */
    public static Map<String, String> diskMap(List<DiskCopy> copies) {
        Map<String, String> m = new LinkedHashMap<>();
        for (DiskCopy c : copies) {
            m.put(c.source(), c.target());
        }
        return m;
    }

    /**
     * {@code <dir of source>/<namespace>_<vm>_<disk>.qcow2} (raw: {@code .img}). Namespaces, VM names and disk names
     * are DNS names, which have no underscore: no two (namespace, VM, disk) get one file name, so equal VM names in
     * two namespaces never collide.
     */
    public static String targetPath(String sourcePath, String namespace, String vmName, String diskName,
                                    String format) {
        Path parent = Path.of(sourcePath).getParent();
        return parent.resolve(namespace + "_" + vmName + "_" + diskName + ("qcow2".equals(format) ? ".qcow2" : ".img"))
                .toString();
    }

    /**
     * The new VM's spec: a deep copy of the source's with the copied disks' new paths, no explicit MACs or tap names,
     * no SMBIOS UUID, genid auto (none stays none), pinned to {@code host}. The source spec is not modified.
     *
     * @param diskMap source path -> copy path (only writable disks; shared ones keep their path)
     */
    public static VirtualMachineSpec targetSpec(VirtualMachineSpec source, String host, Map<String, String> diskMap) {
        VirtualMachineSpec t = copiedSpec(source, host, d -> diskMap.get(d.volume.path));
        for (VirtualMachineSpec.NetworkInterface n : t.interfaces) {
            n.macAddress = null;
            n.target = null;
        }
        if (t.firmware != null) {
            t.firmware.uuid = null;
        }
        return t;
    }

    /**
     * A deep copy of {@code spec} for a VM whose disks were copied: each writable disk with a path moves to
     * {@code newPath} of it (null: stays), genid auto (none stays none), pinned to {@code host}. {@code spec} is not
     * modified.
     */
    static VirtualMachineSpec copiedSpec(VirtualMachineSpec spec, String host,
                                         Function<VirtualMachineSpec.Disk, String> newPath) {
        VirtualMachineSpec t = JSON.convertValue(JSON.valueToTree(spec), VirtualMachineSpec.class);
        for (VirtualMachineSpec.Disk d : t.disks) {
            String path = shared(d) || d.volume == null || d.volume.path == null ? null : newPath.apply(d);
            if (path != null) {
                String format = format(d);
                d.volume.path = path;
                d.volume.format = format; // explicit: the new name must not change how it is read
            }
        }
        t.genid = GenidPolicy.mode(spec.genid) == GenidPolicy.Mode.NONE ? VirtualMachineValidator.GENID_NONE
                : VirtualMachineValidator.GENID_AUTO;
        t.hostSelector = null;
        t.nodeName = host;
        return t;
    }

    /**
     * Writable disks of the source's current spec that have no planned copy ({@code diskMap} was planned from the
     * spec at hand-over): added, re-pathed or made writable while the disks were copied. {@link #targetSpec} would
     * keep their source paths, so two VMs would share a writable disk; the clone must fail instead. Empty: fine.
     */
    public static List<String> uncopiedWritableDisks(VirtualMachineSpec current, Map<String, String> diskMap) {
        List<String> out = new ArrayList<>();
        for (VirtualMachineSpec.Disk d : current.disks) {
            if (!shared(d) && (d.volume == null || d.volume.path == null || !diskMap.containsKey(d.volume.path))) {
                out.add(d.name + (d.volume != null && d.volume.path != null ? " (" + d.volume.path + ")" : ""));
            }
        }
        return out;
    }

    /** cdroms and read-only disks are not copied: the clone references the same file. */
    public static boolean shared(VirtualMachineSpec.Disk d) {
        return Boolean.TRUE.equals(d.cdrom) || Boolean.TRUE.equals(d.readOnly);
    }

    /** How the disk file is read; see {@link DiskFormats#of}. */
    public static String format(VirtualMachineSpec.Disk d) {
        return DiskFormats.of(d);
    }
}
