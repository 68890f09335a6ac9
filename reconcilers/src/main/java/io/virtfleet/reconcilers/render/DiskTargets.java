package io.virtfleet.reconcilers.render;

import io.virtfleet.api.v1alpha1.VirtualMachineSpec.Disk;
import io.virtfleet.reconcilers.platform.Platform;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Guest device names for disks. libvirt requires a target on every disk, so names the spec leaves open are allocated
 * here the way virt-install does: the first free name on the bus's prefix, after every explicit target is reserved,
 * so adding a disk later never renames an existing one.
 */
final class DiskTargets {
    private DiskTargets() {
    }

    record Placement(String bus, String target) {
    }

    static List<Placement> allocate(List<Disk> disks, Platform platform) {
        Set<String> used = new HashSet<>();
        for (Disk d : disks) {
            if (d.target != null) {
                used.add(d.target);
            }
        }
        List<Placement> out = new ArrayList<>(disks.size());
        for (Disk d : disks) {
            String bus = d.bus != null ? d.bus : platform.defaultDiskBus(Boolean.TRUE.equals(d.cdrom));
            String target = d.target;
            if (target == null) {
                String prefix = Platform.targetPrefix(bus);
                for (int i = 0; target == null; i++) {
                    String candidate = prefix + suffix(i);
                    if (used.add(candidate)) {
                        target = candidate;
                    }
                }
            }
            out.add(new Placement(bus, target));
        }
        return out;
    }

    /** 0 → a, 25 → z, 26 → aa: libvirt's disk index naming (bijective base 26). */
    static String suffix(int index) {
        StringBuilder b = new StringBuilder();
        for (int i = index + 1; i > 0; i = (i - 1) / 26) {
            b.append((char) ('a' + (i - 1) % 26));
        }
        return b.reverse().toString();
    }
}
