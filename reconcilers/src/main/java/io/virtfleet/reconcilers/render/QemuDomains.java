package io.virtfleet.reconcilers.render;

import io.virtfleet.api.v1alpha1.Hypervisor;
import io.virtfleet.api.v1alpha1.VirtualMachineSpec;
import io.virtfleet.reconcilers.domain.xml.XmlBuffer;
import io.virtfleet.reconcilers.platform.Platform;

import java.util.List;

/**
 * kvm and qemu (TCG) domains, modelled on virt-install's q35 domain (test resource seed-004.xml). Elements that are
 * the same for every VM of a kind (features, clock, power management, the PCIe root ports, the display and sound
 * devices of each graphics choice) are written once by their functions below into constant fragments and copied
 * into each document.
 */
final class QemuDomains {
    /**
     * Free PCIe root ports: on q35 every hot-plugged PCIe device needs an empty root port, and ports cannot be added
     * while the guest runs. 14 is what virt-install leaves for a VM of seed-004 size, enough for the disk and NIC
     * limits most VMs reach.
     */
    static final int PCIE_ROOT_PORTS = 14;
    /** The CPU model for TCG: every QEMU has it and TCG implements all of it, so the guest sees the same CPU on any host. */
    static final String TCG_CPU_MODEL = "qemu64";

    /** features, then (after the cpu) clock, lifecycle and pm: the same for every kvm/qemu domain. */
    private static final XmlBuffer.Fragment FEATURES = XmlBuffer.fragment(1, QemuDomains::features);
    private static final XmlBuffer.Fragment CLOCK_TO_PM = XmlBuffer.fragment(1, out -> {
        clock(out);
        Parts.lifecycle(out);
        pm(out);
    });
    private static final XmlBuffer.Fragment Q35_ROOT = XmlBuffer.fragment(2, out -> pciRoot(out, true));
    private static final XmlBuffer.Fragment PC_ROOT = XmlBuffer.fragment(2, out -> pciRoot(out, false));
    /** Per graphics choice ({@link #GRAPHICS}) and family (q35, pc): everything from the inputs to the rng. */
    private static final List<String> GRAPHICS = List.of("spice", "vnc", "none");
    private static final XmlBuffer.Fragment[][] DISPLAY_TO_RNG = new XmlBuffer.Fragment[2][GRAPHICS.size()];

    static {
        for (int g = 0; g < GRAPHICS.size(); g++) {
            String graphics = GRAPHICS.get(g);
            DISPLAY_TO_RNG[0][g] = XmlBuffer.fragment(2, out -> displayToRng(out, graphics, true));
            DISPLAY_TO_RNG[1][g] = XmlBuffer.fragment(2, out -> displayToRng(out, graphics, false));
        }
    }

    private QemuDomains() {
    }

    static void write(RenderInput in, XmlBuffer out) {
        VirtualMachineSpec s = in.spec();
        Platform p = in.platform();
        Parts.head(in, out, p.hypervisor() == Hypervisor.KVM ? "kvm" : "qemu",
                s.os == null ? null : OsVariants.resolve(s.os.variant));
        os(in, out);
        out.fragment(FEATURES);
        cpu(out, s.cpu == null ? null : s.cpu.model, p.hypervisor());
        out.fragment(CLOCK_TO_PM);
        devices(in, out);
        out.close("domain");
    }

    static void os(RenderInput in, XmlBuffer out) {
        Parts.osType(out, "x86_64", in.platform().machine(), "hvm");
        if (!Parts.kernelBoot(out, in.spec())) {
            Parts.bootDevices(out, in.disks());
        }
        out.close("os");
    }

    static void features(XmlBuffer out) {
        out.open("features");
        out.endStart();
        out.empty("acpi");
        out.empty("apic");
        // VMware's backdoor I/O port: nothing virtfleet runs uses it, and it is an attack surface.
        out.emptyWith("vmport", "state", "off");
        out.close("features");
    }

    /**
     * kvm: host-passthrough unless the spec names another model; migration between hosts then needs identical CPUs,
     * which a fleet of one hardware generation has. qemu (TCG): host-passthrough and host-model need KVM, so the
     * default is the fixed {@link #TCG_CPU_MODEL}, which also keeps a TCG guest's CPU the same on every host.
     */
    static void cpu(XmlBuffer out, String model, Hypervisor hypervisor) {
        String m = model != null ? model : hypervisor == Hypervisor.KVM ? "host-passthrough" : TCG_CPU_MODEL;
        out.open("cpu");
        switch (m) {
            case "host-passthrough" -> {
                out.attr("mode", "host-passthrough");
                out.attr("check", "none");
                out.attr("migratable", "on");
            }
            case "host-model" -> {
                out.attr("mode", "host-model");
                out.attr("check", "partial");
            }
            case "maximum" -> {
                out.attr("mode", "maximum");
                out.attr("check", "none");
            }
            default -> {
                out.attr("mode", "custom");
                out.attr("match", "exact");
                out.attr("check", "none");
                out.endStart();
                out.open("model");
                out.attr("fallback", "forbid");
                out.content("model", m);
                out.close("cpu");
                return;
            }
        }
        out.closeEmpty();
    }

    static void clock(XmlBuffer out) {
        out.open("clock");
        out.attr("offset", "utc");
        out.endStart();
        timer(out, "rtc", "catchup", null);
        timer(out, "pit", "delay", null);
        timer(out, "hpet", null, "no");
        out.close("clock");
    }

    private static void timer(XmlBuffer out, String name, String tickpolicy, String present) {
        out.open("timer");
        out.attr("name", name);
        out.attr("tickpolicy", tickpolicy);
        out.attr("present", present);
        out.closeEmpty();
    }

    static void pm(XmlBuffer out) {
        out.open("pm");
        out.endStart();
        out.emptyWith("suspend-to-mem", "enabled", "no");
        out.emptyWith("suspend-to-disk", "enabled", "no");
        out.close("pm");
    }

    static void devices(RenderInput in, XmlBuffer out) {
        Platform p = in.platform();
        boolean q35 = p.family() == Platform.Family.Q35;
        String graphics = in.graphics();
        out.open("devices");
        out.endStart();
        out.text("emulator", in.host().emulator());

        List<VirtualMachineSpec.Disk> disks = in.attachedDisks();
        List<DiskTargets.Placement> placements = DiskTargets.allocate(disks, p);
        boolean sata = false;
        boolean scsi = false;
        for (int i = 0; i < disks.size(); i++) {
            VirtualMachineSpec.Disk disk = disks.get(i);
            // Guests name disks in probe order, not by <target dev>: the serial (the spec's name) identifies it.
            Parts.disk(out, disk, placements.get(i), "qemu", true, disk.name);
            sata |= placements.get(i).bus().equals("sata");
            scsi |= placements.get(i).bus().equals("scsi");
        }
        controllers(out, q35, sata, scsi);
        for (VirtualMachineSpec.NetworkInterface n : in.interfaces()) {
            Parts.iface(out, n, p.defaultNicModel());
        }
        serial(in, out);
        out.open("console");
        out.attr("type", "pty");
        out.endStart();
        Parts.portTarget(out, "serial", 0);
        out.close("console");
        // The guest agent channel lets the agent ask for a clean shutdown and read the guest's IP addresses.
        Parts.virtioChannel(out, "unix", "org.qemu.guest_agent.0");
        // `virtfleet vm port-forward`: the agent opens this channel (virDomainOpenChannel; libvirt picks the socket
        // path) and a relay in the guest connects to the guest port asked for. No network path to the guest needed.
        Parts.virtioChannel(out, "unix", HostInfo.PORT_FORWARD_CHANNEL_NAME);
        if (graphics.equals("spice")) {
            Parts.virtioChannel(out, "spicevmc", "com.redhat.spice.0");
        }
        Parts.guestChannel(out, in);
        int g = GRAPHICS.indexOf(graphics);
        if (g >= 0) {
            out.fragment(DISPLAY_TO_RNG[q35 ? 0 : 1][g]);
        } else {
            displayToRng(out, graphics, q35); // the validator admits only the three; written as they are anyway
        }
        out.close("devices");
    }

    /**
     * Controllers in seed-004 order. On pc (i440fx) the PCI root bus hot-plugs by itself and IDE is built in, so only
     * what the disks need is added there.
     */
    static void controllers(XmlBuffer out, boolean q35, boolean sata, boolean scsi) {
        out.fragment(q35 ? Q35_ROOT : PC_ROOT);
        if (q35 || sata) {
            controller(out, "sata", null);
        }
        if (scsi) {
            // libvirt's default SCSI model (lsilogic) is missing from some QEMU builds; virtio-scsi never is.
            controller(out, "scsi", "virtio-scsi");
        }
        controller(out, "virtio-serial", null);
    }

    /** The USB controller, and on q35 the PCIe root with its {@link #PCIE_ROOT_PORTS} root ports. */
    static void pciRoot(XmlBuffer out, boolean q35) {
        out.open("controller");
        out.attr("type", "usb");
        out.attr("index", 0);
        out.attr("model", "qemu-xhci");
        out.attr("ports", 15);
        out.closeEmpty();
        if (!q35) {
            return;
        }
        controller(out, "pci", "pcie-root");
        for (int i = 1; i <= PCIE_ROOT_PORTS; i++) {
            out.open("controller");
            out.attr("type", "pci");
            out.attr("index", i);
            out.attr("model", "pcie-root-port");
            out.endStart();
            out.emptyWith("model", "name", "pcie-root-port");
            out.emptyWith("target", "chassis", Integer.toString(i), "port", "0x" + Integer.toHexString(0x0f + i));
            out.close("controller");
        }
    }

    private static void controller(XmlBuffer out, String type, String model) {
        out.open("controller");
        out.attr("type", type);
        out.attr("index", 0);
        out.attr("model", model);
        out.closeEmpty();
    }

    static void serial(RenderInput in, XmlBuffer out) {
        out.open("serial");
        out.attr("type", "pty");
        out.endStart();
        Parts.consoleLog(out, in);
        out.open("target");
        out.attr("type", "isa-serial");
        out.attr("port", 0);
        out.endStart();
        out.emptyWith("model", "name", "isa-serial");
        out.close("target");
        out.close("serial");
    }

    /** Inputs, display, sound, video, USB redirection, balloon and rng: what the graphics choice decides. */
    static void displayToRng(XmlBuffer out, String graphics, boolean q35) {
        boolean spice = graphics.equals("spice");
        if (!graphics.equals("none")) {
            // An absolute pointer keeps the remote cursor in step with the guest's.
            Parts.input(out, "tablet", "usb");
        }
        Parts.input(out, "mouse", "ps2");
        Parts.input(out, "keyboard", "ps2");
        if (!graphics.equals("none")) {
            graphics(out, graphics);
        }
        if (spice) {
            out.emptyWith("sound", "model", q35 ? "ich9" : "ich6");
            out.emptyWith("audio", "id", "1", "type", "spice");
        }
        video(out, graphics);
        if (spice) {
            for (int i = 0; i < 2; i++) {
                out.emptyWith("redirdev", "bus", "usb", "type", "spicevmc");
            }
        }
        out.emptyWith("memballoon", "model", "virtio");
        out.open("rng");
        out.attr("model", "virtio");
        out.endStart();
        out.open("backend");
        out.attr("model", "random");
        out.content("backend", "/dev/urandom");
        out.close("rng");
    }

    /**
     * The display is never on a routable address, whatever qemu.conf's vnc_listen/spice_listen say: VNC listens on a
     * UNIX socket only (libvirt picks its path in the domain's private directory; {@code virtfleet vm vnc} reaches it
     * through the agent's virDomainOpenGraphicsFD, which needs no listener at all), SPICE, whose QEMU support for UNIX
     * sockets depends on the build, on loopback with a port chosen by libvirt (autoport).
     */
    static void graphics(XmlBuffer out, String type) {
        boolean vnc = type.equals("vnc");
        Parts.graphicsStart(out, type, !vnc, vnc);
        if (type.equals("spice")) {
            // Compression costs CPU on the host for a LAN-local client that does not need it.
            out.emptyWith("image", "compression", "off");
        }
        out.close("graphics");
    }

    /**
     * qxl for spice (its native driver), virtio for vnc (a modern guest's generic GPU), and an explicit none without
     * graphics so libvirt does not add a default VGA card nobody can look at.
     */
    static void video(XmlBuffer out, String graphics) {
        out.open("video");
        out.endStart();
        out.open("model");
        switch (graphics) {
            case "spice" -> {
                out.attr("type", "qxl");
                out.attr("ram", 65536);
                out.attr("vram", 65536);
                out.attr("vgamem", 16384);
                out.attr("heads", 1);
                out.attr("primary", "yes");
            }
            case "vnc" -> {
                out.attr("type", "virtio");
                out.attr("heads", 1);
                out.attr("primary", "yes");
            }
            default -> out.attr("type", "none");
        }
        out.closeEmpty();
        out.close("video");
    }
}
