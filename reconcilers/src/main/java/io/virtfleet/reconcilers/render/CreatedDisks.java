package io.virtfleet.reconcilers.render;

import io.virtfleet.api.v1alpha1.VirtualMachineSpec;

import java.util.List;

/** Disks the VM's host creates before it defines the domain: from an image ({@code volume.image}) or blank ({@code volume.size}). */
public final class CreatedDisks {
    private CreatedDisks() {
    }

    public static boolean created(VirtualMachineSpec.Disk d) {
        return d != null && d.volume != null && (d.volume.image != null || d.volume.size != null);
    }

    /**
     * What the Domain carries for its agent: the VM's whole disk list (indices as in the VM, so the agent's errors
     * name the VM's fields) when any disk must be created, else null (the Domain stays as before).
     */
    public static List<VirtualMachineSpec.Disk> forDomain(VirtualMachineSpec spec) {
        if (spec == null || spec.disks == null || spec.disks.stream().noneMatch(CreatedDisks::created)) {
            return null;
        }
        return List.copyOf(spec.disks);
    }
}
