package io.virtfleet.reconcilers.render;

import io.virtfleet.api.v1alpha1.VirtualMachineSpec;

/** The one place that decides how a disk file is read (libvirt's driver type). */
public final class DiskFormats {
    private DiskFormats() {
    }

    /**
     * As documented on Volume.format: explicit; else qcow2 for a disk made from an image (an overlay on the cached base)
     * and for .qcow2 files; raw otherwise, and always for cdrom media.
     */
    public static String of(VirtualMachineSpec.Disk spec) {
        if (spec.volume != null && spec.volume.format != null) {
            return spec.volume.format;
        }
        if (Boolean.TRUE.equals(spec.cdrom) || spec.volume == null) {
            return "raw";
        }
        if (spec.volume.image != null) {
            return "qcow2";
        }
        return spec.volume.path != null && spec.volume.path.endsWith(".qcow2") ? "qcow2" : "raw";
    }
}
