package io.virtfleet.reconcilers.testing;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.virtfleet.api.v1alpha1.Hypervisor;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.api.v1alpha1.VirtualMachineSpec;

/** Small valid VirtualMachines for tests to bend out of shape. */
public final class Vms {
    public static final String UID = "7c1e0a2e-1b2c-4d5e-8f90-0123456789ab";

    private Vms() {
    }

    /** A valid VM of the given hypervisor with one disk and one NIC (OpenVZ: a template and a bridged NIC). */
    public static VirtualMachine of(Hypervisor h) {
        VirtualMachine vm = new VirtualMachine();
        vm.setMetadata(new ObjectMetaBuilder().withName("vm-1").withNamespace("default").withUid(UID).build());
        VirtualMachineSpec s = new VirtualMachineSpec();
        s.hypervisor = h;
        s.memory = new Quantity("1Gi");
        if (h == Hypervisor.OPENVZ) {
            s.os = new VirtualMachineSpec.OperatingSystem();
            s.os.template = "debian-12-x86_64";
            s.interfaces.add(bridge("eth0", "vmbr0"));
        } else {
            s.disks.add(disk("root", "/var/lib/virtfleet/images/vm-1.qcow2"));
            s.interfaces.add(network("lan", "default"));
        }
        vm.setSpec(s);
        return vm;
    }

    public static VirtualMachineSpec.Disk disk(String name, String path) {
        VirtualMachineSpec.Disk d = new VirtualMachineSpec.Disk();
        d.name = name;
        if (path != null) {
            d.volume = new VirtualMachineSpec.Volume();
            d.volume.path = path;
        }
        return d;
    }

    public static VirtualMachineSpec.Disk cdrom(String name, String path) {
        VirtualMachineSpec.Disk d = disk(name, path);
        d.cdrom = true;
        return d;
    }

    public static VirtualMachineSpec.NetworkInterface network(String name, String network) {
        VirtualMachineSpec.NetworkInterface n = new VirtualMachineSpec.NetworkInterface();
        n.name = name;
        n.network = network;
        return n;
    }

    public static VirtualMachineSpec.NetworkInterface bridge(String name, String bridge) {
        VirtualMachineSpec.NetworkInterface n = new VirtualMachineSpec.NetworkInterface();
        n.name = name;
        n.bridge = bridge;
        return n;
    }

    public static VirtualMachineSpec.KernelBoot kernelBoot(String kernel, String initrd, String cmdline) {
        VirtualMachineSpec.KernelBoot k = new VirtualMachineSpec.KernelBoot();
        k.kernel = kernel;
        k.initrd = initrd;
        k.cmdline = cmdline;
        return k;
    }
}
