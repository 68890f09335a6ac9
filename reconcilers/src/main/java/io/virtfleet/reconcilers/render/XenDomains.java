package io.virtfleet.reconcilers.render;

import io.virtfleet.api.v1alpha1.VirtualMachineSpec;
import io.virtfleet.reconcilers.domain.xml.CharDevice;
import io.virtfleet.reconcilers.domain.xml.Clock;
import io.virtfleet.reconcilers.domain.xml.CpuDef;
import io.virtfleet.reconcilers.domain.xml.Devices;
import io.virtfleet.reconcilers.domain.xml.DiskDef;
import io.virtfleet.reconcilers.domain.xml.DomainDef;
import io.virtfleet.reconcilers.domain.xml.Empty;
import io.virtfleet.reconcilers.domain.xml.Features;
import io.virtfleet.reconcilers.domain.xml.GraphicsDef;
import io.virtfleet.reconcilers.domain.xml.InputDef;
import io.virtfleet.reconcilers.domain.xml.OsDef;
import io.virtfleet.reconcilers.platform.Platform;

import java.util.List;

/**
 * Xen (libxl) domains. HVM boots like a PC from its disks (or a given kernel); PV runs a Xen-aware kernel given by
 * kernelBoot, or extracted from the guest's own disk by pygrub when the spec asks for machine xenpv without one. No
 * emulator is rendered: libxl chooses its own device model. Interfaces carry their target only when the spec gives
 * one; that is the vifname Xen uses to identify the device, otherwise Xen names it and the agent reads it
 * back.
 */
final class XenDomains {
    /** Resolved by libxl from its own directory, so the path does not depend on the Xen version installed. */
    static final String PV_BOOTLOADER = "pygrub";

    private XenDomains() {
    }

    static DomainDef build(RenderInput in) {
        VirtualMachineSpec s = in.spec();
        Platform p = in.platform();
        boolean hvm = p.family() == Platform.Family.XEN_HVM;
        DomainDef d = Parts.base(in, "xen", s.os == null ? null : OsVariants.resolve(s.os.variant));
        d.genid = Genids.element(s.genid, in.genidOverride(), p);

        OsDef os = new OsDef();
        os.type = new OsDef.OsType("x86_64", p.machine(), hvm ? "hvm" : "linux");
        boolean kernel = Parts.kernelBoot(os, s);
        if (hvm && !kernel) {
            os.boot.addAll(Parts.bootDevices(in.disks()));
        }
        if (!hvm && !kernel) {
            d.bootloader = PV_BOOTLOADER;
        }
        d.os = os;
        if (hvm) {
            Features f = new Features();
            f.pae = Empty.INSTANCE;
            f.acpi = Empty.INSTANCE;
            f.apic = Empty.INSTANCE;
            d.features = f;
            if (s.cpu != null && s.cpu.model != null) {
                CpuDef cpu = new CpuDef();
                cpu.mode = s.cpu.model;
                d.cpu = cpu;
            }
        }
        Clock clock = new Clock();
        clock.offset = "utc";
        d.clock = clock;
        Parts.lifecycle(d);
        d.devices = devices(in, hvm);
        return d;
    }

    /**
     * libvirt's libxl driver maps {@code <driver name='phy'>} to libxl's phy backend and {@code name='qemu'} to qdisk
     * (xl-disk-configuration(5): backendtype). A raw file goes to phy, as xl itself chooses for one: dom0's kernel
     * (blkback) serves it through a loop device that Xen's {@code block} hotplug script sets up, so no process runs per
     * guest. qcow2 needs qdisk: a QEMU that libxl starts in dom0 for the guest (its device model). So do an HVM
     * guest's cdroms: its device model emulates them, and libxl's phy backend refuses an empty drive (format empty).
     */
    static String diskBackend(DiskDef disk) {
        return "raw".equals(disk.driver.type) && "disk".equals(disk.device) ? "phy" : "qemu";
    }

    private static Devices devices(RenderInput in, boolean hvm) {
        Devices dev = new Devices();
        List<VirtualMachineSpec.Disk> disks = in.attachedDisks();
        List<DiskTargets.Placement> placements = DiskTargets.allocate(disks, in.platform());
        for (int i = 0; i < disks.size(); i++) {
            // discard is a QEMU block option libxl does not pass through.
            DiskDef disk = Parts.disk(disks.get(i), placements.get(i), false);
            disk.driver.name = diskBackend(disk);
            dev.disks.add(disk);
        }
        for (VirtualMachineSpec.NetworkInterface n : in.interfaces()) {
            dev.interfaces.add(Parts.iface(n, in.platform().defaultNicModel()));
        }
        if (hvm) {
            CharDevice serial = new CharDevice("pty", CharDevice.Target.port(null, 0));
            serial.log = Parts.consoleLog(in);
            dev.serials.add(serial);
            dev.consoles.add(new CharDevice("pty", CharDevice.Target.port("serial", 0)));
        } else {
            CharDevice console = new CharDevice("pty", CharDevice.Target.port("xen", 0));
            console.log = Parts.consoleLog(in);
            dev.consoles.add(console);
        }
        if (in.graphics().equals("vnc")) {
            if (hvm) {
                dev.inputs.add(new InputDef("tablet", "usb"));
            }
            GraphicsDef g = new GraphicsDef();
            g.type = "vnc";
            g.autoport = "yes";
            // libxl has no UNIX-socket VNC: loopback only, never qemu.conf's or xl.conf's default.
            g.listens.add(GraphicsDef.Listen.loopback());
            dev.graphics.add(g);
        }
        return dev;
    }
}
