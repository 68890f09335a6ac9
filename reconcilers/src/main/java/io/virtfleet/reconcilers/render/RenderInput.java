package io.virtfleet.reconcilers.render;

import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.api.v1alpha1.VirtualMachineSpec;
import io.virtfleet.reconcilers.platform.Platform;

import java.util.List;

/** A validated VM with everything resolved that the per-hypervisor builders need. */
record RenderInput(VirtualMachine vm, String namespace, Platform platform, HostInfo host, String domainName,
                   String uuid, String genidOverride) {
    VirtualMachineSpec spec() {
        return vm.getSpec();
    }

    List<VirtualMachineSpec.Disk> disks() {
        return spec().disks == null ? List.of() : spec().disks;
    }

    /** The devices to attach: the spec's disks, then the cloud-init seed when the VM has cloudInit. */
    List<VirtualMachineSpec.Disk> attachedDisks() {
        if (spec().cloudInit == null || host.allowedDiskRoots().isEmpty()) {
            return disks();
        }
        List<VirtualMachineSpec.Disk> all = new java.util.ArrayList<>(disks());
        all.add(CloudInitSeeds.disk(host.allowedDiskRoots(), uuid));
        return all;
    }

    List<VirtualMachineSpec.NetworkInterface> interfaces() {
        return spec().interfaces == null ? List.of() : spec().interfaces;
    }

    String graphics() {
        return spec().graphics != null ? spec().graphics : platform.defaultGraphics();
    }
}
