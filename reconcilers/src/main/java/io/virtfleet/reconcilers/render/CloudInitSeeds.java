package io.virtfleet.reconcilers.render;

import io.virtfleet.api.v1alpha1.VirtualMachineSpec;

import java.util.List;

/**
 * Where a VM's cloud-init NoCloud seed lives on its host and how the domain attaches it: a read-only disk named
 * {@value #DISK_NAME} on the platform's default disk bus (virtio for kvm/qemu) whose file is
 * {@code <first allowed root>/cloud-init/<uuid>.iso}. cloud-init's NoCloud source finds the filesystem by its label
 * on any block device, so a virtio disk works where a cdrom does not: Debian's cloud kernel has no AHCI driver and
 * sees no SATA cdrom (KubeVirt attaches its cloudInitNoCloud volume as a virtio disk too). The operator renders that
 * path; the host's agent writes the file there (and nowhere else), so both sides derive it from the same inputs.
 */
public final class CloudInitSeeds {
    /** The seed's device name (alias {@code ua-cidata}); a VM with cloudInit may not name a disk of its own so. */
    public static final String DISK_NAME = "cidata";
    /** The directory of seeds below the host's first allowed root, next to the image cache. */
    public static final String DIRECTORY = "cloud-init";

    private CloudInitSeeds() {
    }

    public static String directory(List<String> allowedRoots) {
        String first = allowedRoots.get(0);
        return (first.endsWith("/") ? first.substring(0, first.length() - 1) : first) + "/" + DIRECTORY;
    }

    /** The seed image of the domain with this SMBIOS UUID. */
    public static String path(List<String> allowedRoots, String uuid) {
        return directory(allowedRoots) + "/" + uuid + ".iso";
    }

    /** The disk the seed is attached as: the raw ISO 9660 image, read-only. */
    public static VirtualMachineSpec.Disk disk(List<String> allowedRoots, String uuid) {
        VirtualMachineSpec.Disk d = new VirtualMachineSpec.Disk();
        d.name = DISK_NAME;
        d.readOnly = true;
        d.volume = new VirtualMachineSpec.Volume();
        d.volume.path = path(allowedRoots, uuid);
        d.volume.format = "raw";
        return d;
    }
}
