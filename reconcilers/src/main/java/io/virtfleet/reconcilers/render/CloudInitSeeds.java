package io.virtfleet.reconcilers.render;

import io.virtfleet.api.v1alpha1.VirtualMachineSpec;

import java.util.List;

/**
 * Where a VM's cloud-init NoCloud seed lives on its host and how the domain attaches it: a read-only cdrom named
 * {@value #DISK_NAME} whose media is {@code <first allowed root>/cloud-init/<uuid>.iso}. The operator renders that
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

    /** The cdrom the seed is attached as (raw ISO 9660 media, read-only as every cdrom). */
    public static VirtualMachineSpec.Disk disk(List<String> allowedRoots, String uuid) {
        VirtualMachineSpec.Disk d = new VirtualMachineSpec.Disk();
        d.name = DISK_NAME;
        d.cdrom = true;
        d.readOnly = true;
        d.volume = new VirtualMachineSpec.Volume();
        d.volume.path = path(allowedRoots, uuid);
        d.volume.format = "raw";
        return d;
    }
}
