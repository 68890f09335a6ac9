package io.virtfleet.agent.image;

import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.VirtualMachineSpec;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/** The cached bases Domains name in their disks' {@code volume.image}. Pure. */
public final class DomainImages {
    private DomainImages() {
    }

    /** Base names ({@code <sha256>.<format>}) of every disk made from an image, of all the Domains. */
    public static Set<String> bases(List<Domain> domains) {
        Set<String> out = new TreeSet<>();
        for (Domain d : domains) {
            if (d.getSpec() == null || d.getSpec().disks == null) {
                continue;
            }
            for (VirtualMachineSpec.Disk disk : d.getSpec().disks) {
                if (disk.volume != null && disk.volume.image != null && disk.volume.image.sha256 != null) {
                    out.add(DiskPlans.baseName(disk.volume.image.sha256, disk.volume.image.format));
                }
            }
        }
        return out;
    }
}
