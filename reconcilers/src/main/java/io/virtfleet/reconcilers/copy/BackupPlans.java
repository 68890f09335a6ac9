package io.virtfleet.reconcilers.copy;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.virtfleet.api.v1alpha1.VirtualMachineSpec;
import io.virtfleet.reconcilers.validation.DiskPaths;
import io.virtfleet.reconcilers.validation.Names;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The pure decisions of VirtualMachineBackup and of a VirtualMachineRestore from a backup.
 *
 * <p>A backup of VM {@code vm} named {@code b} with destination {@code D} lives in {@code D/b/}: one file per writable
 * disk ({@code <disk>.qcow2}, {@code .img} for raw), {@code domain.xml} (libvirt's persistent definition) and
 * {@code vm.json} (the VM's spec). A restore recreates the VM from the stored spec on the backup's host: the disks
 * go back to their original paths when the VM keeps its name, else next to them as {@code <new name>-<disk>.qcow2}
 * (as a clone's); it keeps its MACs and SMBIOS UUID (it is the same machine: under a new name only once the
 * original is gone) but gets genid {@code auto} (a fresh one; {@code none} stays none), and is pinned to the host
 * with {@code nodeName}.
 */
public final class BackupPlans {
    public static final String DOMAIN_XML = "domain.xml";
    public static final String VM_JSON = "vm.json";

    private BackupPlans() {
    }

    /** Field-named reasons a backup cannot be taken (empty: go ahead). */
    public static List<String> validateBackup(String vmName, VirtualMachineSpec vm, String destination,
                                              List<String> allowedRoots, String backupName) {
        List<String> errors = new ArrayList<>(requestErrors(vmName, destination, allowedRoots, backupName));
        if (vmName != null && !vmName.isEmpty() && vm == null) {
            errors.add(0, "spec.vmName: VirtualMachine " + vmName + " not found");
        }
        if (vm != null) {
            errors.addAll(ClonePlans.diskErrors(vm, "spec.vmName"));
        }
        return errors;
    }

    /**
     * The reasons a backup request is refused that need no cluster: what {@link #validateBackup} checks of the
     * request object itself ({@code virtfleet validate} applies exactly these offline, with the allowed roots it is
     * given).
     */
    public static List<String> requestErrors(String vmName, String destination, List<String> allowedRoots,
                                             String backupName) {
        List<String> errors = new ArrayList<>();
        if (vmName == null || vmName.isEmpty()) {
            errors.add("spec.vmName: required");
        }
        if (destination == null || destination.isEmpty()) {
            errors.add("spec.destination: required");
        } else {
            String p = DiskPaths.problem(destination, allowedRoots);
            if (p != null) {
                errors.add("spec.destination: " + p);
            }
        }
        if (!Names.isDnsLabel(backupName)) {
            errors.add("metadata.name: " + backupName + " must be a DNS label (it names the backup's directory)");
        }
        return errors;
    }

    public static String location(String destination, String backupName) {
        return destination + "/" + backupName;
    }

    /** The VM's writable disk path -> its file in the backup. */
    public static Map<String, String> backupFiles(VirtualMachineSpec vm, String location) {
        Map<String, String> out = new LinkedHashMap<>();
        for (VirtualMachineSpec.Disk d : vm.disks) {
            if (!ClonePlans.shared(d)) {
                out.put(d.volume.path, location + "/" + d.name
                        + ("qcow2".equals(ClonePlans.format(d)) ? ".qcow2" : ".img"));
            }
        }
        return out;
    }

    public static String toJson(VirtualMachineSpec spec) {
        try {
            return ClonePlans.JSON.writeValueAsString(spec);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a VirtualMachineSpec always serializes", e);
        }
    }

    public static VirtualMachineSpec fromJson(String json) {
        try {
            return ClonePlans.JSON.readValue(json, VirtualMachineSpec.class);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("the backup's stored spec is not a VirtualMachine spec: "
                    + e.getOriginalMessage());
        }
    }

    /**
     * Field-named reasons a restore from a backup cannot be made (empty: go ahead).
     *
     * <p>The recreated VM keeps the backed-up VM's MACs and firmware.uuid ({@link #restoredSpec}): under a new name
     * while the backed-up VM still exists that would put two machines with the same MACs and SMBIOS UUID on the
     * network, so it is refused.
     *
     * @param backupReady    the backup's status.readyToUse
     * @param targetExists   whether a VirtualMachine named {@code targetName} exists
     * @param originalName   the backed-up VM's name (the backup's spec.vmName)
     * @param originalExists whether a VirtualMachine named {@code originalName} exists
     */
    public static List<String> validateRestore(String backupName, boolean backupFound, boolean backupReady,
                                               String targetName, boolean targetExists, String originalName,
                                               boolean originalExists) {
        List<String> errors = new ArrayList<>();
        if (!backupFound) {
            errors.add("spec.backupName: VirtualMachineBackup " + backupName + " not found");
        } else if (!backupReady) {
            errors.add("spec.backupName: VirtualMachineBackup " + backupName + " is not ready to use");
        }
        if (targetName == null) {
            return errors; // defaults to the backup's VM, which is missing: already said
        }
        if (!Names.isDnsSubdomain(targetName)) {
            errors.add("spec.vmName: " + targetName + " is not a valid VirtualMachine name");
        } else if (targetExists) {
            errors.add("spec.vmName: a VirtualMachine named " + targetName + " exists; a restore from a backup "
                    + "recreates a VM (delete it first, or restore under another name) - nothing was changed");
        } else if (originalExists && originalName != null && !originalName.equals(targetName)) {
            errors.add("spec.vmName: the backed-up VM " + originalName + " still exists; restore under a new name "
                    + "would duplicate its MACs and UUID - nothing was changed");
        }
        return errors;
    }

    /**
     * Field-named reasons the recreated VM would duplicate an existing VM's identity (empty: none): it keeps the
     * stored spec's explicit MACs and firmware.uuid, so any existing VM with one of them — e.g. an earlier restore of
     * the same backup under another name — would share it.
     *
     * @param existing the VirtualMachines that exist now, by name
     */
    public static List<String> identityClashes(VirtualMachineSpec stored, Map<String, VirtualMachineSpec> existing) {
        List<String> out = new ArrayList<>();
        java.util.Set<String> macs = new java.util.HashSet<>();
        for (VirtualMachineSpec.NetworkInterface n : stored.interfaces) {
            if (n.macAddress != null) {
                macs.add(n.macAddress.toLowerCase(java.util.Locale.ROOT));
            }
        }
        String uuid = stored.firmware != null && stored.firmware.uuid != null
                ? stored.firmware.uuid.toLowerCase(java.util.Locale.ROOT) : null;
        existing.forEach((name, vm) -> {
            if (vm == null) {
                return;
            }
            for (VirtualMachineSpec.NetworkInterface n : vm.interfaces) {
                if (n.macAddress != null && macs.contains(n.macAddress.toLowerCase(java.util.Locale.ROOT))) {
                    out.add("spec.backupName: VirtualMachine " + name + " has the backed-up MAC " + n.macAddress
                            + "; the restored VM would duplicate it - nothing was changed");
                }
            }
            if (uuid != null && vm.firmware != null && vm.firmware.uuid != null
                    && uuid.equals(vm.firmware.uuid.toLowerCase(java.util.Locale.ROOT))) {
                out.add("spec.backupName: VirtualMachine " + name + " has the backed-up firmware.uuid " + uuid
                        + "; the restored VM would duplicate it - nothing was changed");
            }
        });
        return out;
    }

    /**
     * File in the backup -> disk path of the recreated VM: the original path when the VM keeps its name, else
     * {@link ClonePlans#targetPath} next to it.
     *
     * @param backupFiles the backup's status.disks (original disk path -> file in the backup)
     */
    public static Map<String, String> restoredDisks(VirtualMachineSpec stored, String namespace, String originalName,
                                                    String targetName, Map<String, String> backupFiles) {
        Map<String, String> out = new LinkedHashMap<>();
        for (VirtualMachineSpec.Disk d : stored.disks) {
            if (ClonePlans.shared(d) || d.volume == null || !backupFiles.containsKey(d.volume.path)) {
                continue;
            }
            out.put(backupFiles.get(d.volume.path), restoredPath(d, namespace, originalName, targetName));
        }
        return out;
    }

    private static String restoredPath(VirtualMachineSpec.Disk d, String namespace, String originalName,
                                       String targetName) {
        return targetName.equals(originalName) ? d.volume.path
                : ClonePlans.targetPath(d.volume.path, namespace, targetName, d.name, ClonePlans.format(d));
    }

    /**
     * The recreated VM's spec: the stored one with the restored disk paths ({@link #restoredDisks}), genid auto
     * (none stays none), pinned to {@code host}; MACs and firmware.uuid are kept.
     */
    public static VirtualMachineSpec restoredSpec(VirtualMachineSpec stored, String host, String namespace,
                                                  String originalName, String targetName) {
        return ClonePlans.copiedSpec(stored, host, d -> restoredPath(d, namespace, originalName, targetName));
    }
}
