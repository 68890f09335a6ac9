package io.virtfleet.reconcilers.render;

import io.virtfleet.api.v1alpha1.VirtualMachineSpec;
import io.virtfleet.reconcilers.domain.xml.XmlBuffer;
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

    static void write(RenderInput in, XmlBuffer out) {
        VirtualMachineSpec s = in.spec();
        Platform p = in.platform();
        boolean hvm = p.family() == Platform.Family.XEN_HVM;
        Parts.head(in, out, "xen", s.os == null ? null : OsVariants.resolve(s.os.variant));
        boolean kernel = s.firmware != null && s.firmware.kernelBoot != null;
        if (!hvm && !kernel) {
            out.text("bootloader", PV_BOOTLOADER);
        }
        Parts.osType(out, "x86_64", p.machine(), hvm ? "hvm" : "linux");
        Parts.kernelBoot(out, s);
        if (hvm && !kernel) {
            Parts.bootDevices(out, in.disks());
        }
        out.close("os");
        if (hvm) {
            out.open("features");
            out.endStart();
            out.empty("pae");
            out.empty("acpi");
            out.empty("apic");
            out.close("features");
            if (s.cpu != null && s.cpu.model != null) {
                out.emptyWith("cpu", "mode", s.cpu.model);
            }
        }
        out.emptyWith("clock", "offset", "utc");
        Parts.lifecycle(out);
        devices(in, out, hvm);
        out.close("domain");
    }

    /**
     * libvirt's libxl driver maps {@code <driver name='phy'>} to libxl's phy backend and {@code name='qemu'} to qdisk
     * (xl-disk-configuration(5): backendtype). A raw file goes to phy, as xl itself chooses for one: dom0's kernel
     * (blkback) serves it through a loop device that Xen's {@code block} hotplug script sets up, so no process runs per
     * guest. qcow2 needs qdisk: a QEMU that libxl starts in dom0 for the guest (its device model). So do an HVM
     * guest's cdroms: its device model emulates them, and libxl's phy backend refuses an empty drive (format empty).
     */
    static String diskBackend(VirtualMachineSpec.Disk disk) {
        return "raw".equals(DiskFormats.of(disk)) && !Boolean.TRUE.equals(disk.cdrom) ? "phy" : "qemu";
    }

    private static void devices(RenderInput in, XmlBuffer out, boolean hvm) {
        out.open("devices");
        out.endStart();
        List<VirtualMachineSpec.Disk> disks = in.attachedDisks();
        List<DiskTargets.Placement> placements = DiskTargets.allocate(disks, in.platform());
        for (int i = 0; i < disks.size(); i++) {
            // discard is a QEMU block option libxl does not pass through.
            Parts.disk(out, disks.get(i), placements.get(i), diskBackend(disks.get(i)), false, null);
        }
        for (VirtualMachineSpec.NetworkInterface n : in.interfaces()) {
            Parts.iface(out, n, in.platform().defaultNicModel());
        }
        if (hvm) {
            out.open("serial");
            out.attr("type", "pty");
            out.endStart();
            Parts.consoleLog(out, in);
            Parts.portTarget(out, null, 0);
            out.close("serial");
        }
        out.open("console");
        out.attr("type", "pty");
        out.endStart();
        if (!hvm) {
            Parts.consoleLog(out, in);
        }
        Parts.portTarget(out, hvm ? "serial" : "xen", 0);
        out.close("console");
        if (in.graphics().equals("vnc")) {
            if (hvm) {
                Parts.input(out, "tablet", "usb");
            }
            // libxl has no UNIX-socket VNC: loopback only, never qemu.conf's or xl.conf's default.
            Parts.graphicsStart(out, "vnc", true, false);
            out.close("graphics");
        }
        out.close("devices");
    }
}
