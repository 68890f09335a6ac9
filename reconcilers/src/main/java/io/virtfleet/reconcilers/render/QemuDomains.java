package io.virtfleet.reconcilers.render;

import io.virtfleet.api.v1alpha1.Hypervisor;
import io.virtfleet.api.v1alpha1.VirtualMachineSpec;
import io.virtfleet.reconcilers.domain.xml.AudioDef;
import io.virtfleet.reconcilers.domain.xml.CharDevice;
import io.virtfleet.reconcilers.domain.xml.Clock;
import io.virtfleet.reconcilers.domain.xml.ControllerDef;
import io.virtfleet.reconcilers.domain.xml.CpuDef;
import io.virtfleet.reconcilers.domain.xml.Devices;
import io.virtfleet.reconcilers.domain.xml.DiskDef;
import io.virtfleet.reconcilers.domain.xml.DomainDef;
import io.virtfleet.reconcilers.domain.xml.Empty;
import io.virtfleet.reconcilers.domain.xml.Features;
import io.virtfleet.reconcilers.domain.xml.GraphicsDef;
import io.virtfleet.reconcilers.domain.xml.InputDef;
import io.virtfleet.reconcilers.domain.xml.MemBalloon;
import io.virtfleet.reconcilers.domain.xml.ModelName;
import io.virtfleet.reconcilers.domain.xml.OsDef;
import io.virtfleet.reconcilers.domain.xml.Pm;
import io.virtfleet.reconcilers.domain.xml.RedirDev;
import io.virtfleet.reconcilers.domain.xml.RngDef;
import io.virtfleet.reconcilers.domain.xml.SoundDef;
import io.virtfleet.reconcilers.domain.xml.VideoDef;
import io.virtfleet.reconcilers.platform.Platform;

import java.util.ArrayList;
import java.util.List;

/** kvm and qemu (TCG) domains, modelled on virt-install's q35 domain (test resource seed-004.xml). */
final class QemuDomains {
    /**
     * Free PCIe root ports: on q35 every hot-plugged PCIe device needs an empty root port, and ports cannot be added
     * while the guest runs. 14 is what virt-install leaves for a VM of seed-004 size, enough for the disk and NIC
     * limits most VMs reach.
     */
    static final int PCIE_ROOT_PORTS = 14;
    /** The CPU model for TCG: every QEMU has it and TCG implements all of it, so the guest sees the same CPU on any host. */
    static final String TCG_CPU_MODEL = "qemu64";

    private QemuDomains() {
    }

    static DomainDef build(RenderInput in) {
        VirtualMachineSpec s = in.spec();
        Platform p = in.platform();
        DomainDef d = Parts.base(in, p.hypervisor() == Hypervisor.KVM ? "kvm" : "qemu",
                s.os == null ? null : OsVariants.resolve(s.os.variant));
        d.genid = Genids.element(s.genid, in.genidOverride(), p);
        d.os = os(in);
        d.features = features();
        d.cpu = cpu(s.cpu == null ? null : s.cpu.model, p.hypervisor());
        d.clock = clock();
        Parts.lifecycle(d);
        d.pm = pm();
        d.devices = devices(in);
        return d;
    }

    static OsDef os(RenderInput in) {
        OsDef os = new OsDef();
        os.type = new OsDef.OsType("x86_64", in.platform().machine(), "hvm");
        if (!Parts.kernelBoot(os, in.spec())) {
            os.boot.addAll(Parts.bootDevices(in.disks()));
        }
        return os;
    }

    static Features features() {
        Features f = new Features();
        f.acpi = Empty.INSTANCE;
        f.apic = Empty.INSTANCE;
        // VMware's backdoor I/O port: nothing virtfleet runs uses it, and it is an attack surface.
        f.vmport = new Features.State("off");
        return f;
    }

    /**
     * kvm: host-passthrough unless the spec names another model; migration between hosts then needs identical CPUs,
     * which a fleet of one hardware generation has. qemu (TCG): host-passthrough and host-model need KVM, so the
     * default is the fixed {@link #TCG_CPU_MODEL}, which also keeps a TCG guest's CPU the same on every host.
     */
    static CpuDef cpu(String model, Hypervisor hypervisor) {
        String m = model != null ? model : hypervisor == Hypervisor.KVM ? "host-passthrough" : TCG_CPU_MODEL;
        CpuDef c = new CpuDef();
        switch (m) {
            case "host-passthrough" -> {
                c.mode = "host-passthrough";
                c.check = "none";
                c.migratable = "on";
            }
            case "host-model" -> {
                c.mode = "host-model";
                c.check = "partial";
            }
            case "maximum" -> {
                c.mode = "maximum";
                c.check = "none";
            }
            default -> {
                c.mode = "custom";
                c.match = "exact";
                c.check = "none";
                c.model = new CpuDef.Model("forbid", m);
            }
        }
        return c;
    }

    static Clock clock() {
        Clock c = new Clock();
        c.offset = "utc";
        c.timer = List.of(new Clock.Timer("rtc", "catchup", null), new Clock.Timer("pit", "delay", null),
                new Clock.Timer("hpet", null, "no"));
        return c;
    }

    static Pm pm() {
        Pm pm = new Pm();
        pm.suspendToMem = new Pm.Enabled("no");
        pm.suspendToDisk = new Pm.Enabled("no");
        return pm;
    }

    static Devices devices(RenderInput in) {
        Platform p = in.platform();
        String graphics = in.graphics();
        boolean spice = graphics.equals("spice");
        Devices dev = new Devices();
        dev.emulator = in.host().emulator();

        List<VirtualMachineSpec.Disk> disks = in.attachedDisks();
        List<DiskTargets.Placement> placements = DiskTargets.allocate(disks, p);
        for (int i = 0; i < disks.size(); i++) {
            DiskDef disk = Parts.disk(disks.get(i), placements.get(i), true);
            // Guests name disks in probe order, not by <target dev>: the serial (the spec's name) identifies it.
            disk.serial = disks.get(i).name;
            dev.disks.add(disk);
        }
        dev.controllers.addAll(controllers(p, placements));
        for (VirtualMachineSpec.NetworkInterface n : in.interfaces()) {
            dev.interfaces.add(Parts.iface(n, p.defaultNicModel()));
        }
        dev.serials.add(serial(in));
        dev.consoles.add(new CharDevice("pty", CharDevice.Target.port("serial", 0)));
        // The guest agent channel lets the agent ask for a clean shutdown and read the guest's IP addresses.
        dev.channels.add(new CharDevice("unix", CharDevice.Target.virtio("org.qemu.guest_agent.0")));
        // `virtfleet vm port-forward`: the agent opens this channel (virDomainOpenChannel; libvirt picks the socket
        // path) and a relay in the guest connects to the guest port asked for. No network path to the guest needed.
        dev.channels.add(new CharDevice("unix", CharDevice.Target.virtio(HostInfo.PORT_FORWARD_CHANNEL_NAME)));
        if (spice) {
            dev.channels.add(new CharDevice("spicevmc", CharDevice.Target.virtio("com.redhat.spice.0")));
        }
        CharDevice guestChannel = Parts.guestChannel(in);
        if (guestChannel != null) {
            dev.channels.add(guestChannel);
        }
        if (!graphics.equals("none")) {
            // An absolute pointer keeps the remote cursor in step with the guest's.
            dev.inputs.add(new InputDef("tablet", "usb"));
        }
        dev.inputs.add(new InputDef("mouse", "ps2"));
        dev.inputs.add(new InputDef("keyboard", "ps2"));
        if (!graphics.equals("none")) {
            dev.graphics.add(graphics(graphics));
        }
        if (spice) {
            dev.sounds.add(new SoundDef(p.family() == Platform.Family.Q35 ? "ich9" : "ich6"));
            dev.audios.add(new AudioDef(1, "spice"));
        }
        dev.videos.add(video(graphics));
        if (spice) {
            dev.redirdevs.add(new RedirDev("usb", "spicevmc"));
            dev.redirdevs.add(new RedirDev("usb", "spicevmc"));
        }
        dev.memballoon = new MemBalloon("virtio");
        dev.rngs.add(new RngDef("virtio", new RngDef.Backend("random", "/dev/urandom")));
        return dev;
    }

    /**
     * Controllers in seed-004 order. On pc (i440fx) the PCI root bus hot-plugs by itself and IDE is built in, so only
     * what the disks need is added there.
     */
    static List<ControllerDef> controllers(Platform p, List<DiskTargets.Placement> placements) {
        List<ControllerDef> list = new ArrayList<>();
        ControllerDef usb = new ControllerDef("usb", 0, "qemu-xhci");
        usb.ports = 15;
        list.add(usb);
        boolean q35 = p.family() == Platform.Family.Q35;
        if (q35) {
            list.add(new ControllerDef("pci", 0, "pcie-root"));
            for (int i = 1; i <= PCIE_ROOT_PORTS; i++) {
                ControllerDef port = new ControllerDef("pci", i, "pcie-root-port");
                port.modelName = new ModelName("pcie-root-port");
                port.target = new ControllerDef.Target(i, "0x" + Integer.toHexString(0x0f + i));
                list.add(port);
            }
        }
        boolean sata = placements.stream().anyMatch(x -> x.bus().equals("sata"));
        boolean scsi = placements.stream().anyMatch(x -> x.bus().equals("scsi"));
        if (q35 || sata) {
            list.add(new ControllerDef("sata", 0, null));
        }
        if (scsi) {
            // libvirt's default SCSI model (lsilogic) is missing from some QEMU builds; virtio-scsi never is.
            list.add(new ControllerDef("scsi", 0, "virtio-scsi"));
        }
        list.add(new ControllerDef("virtio-serial", 0, null));
        return list;
    }

    static CharDevice serial(RenderInput in) {
        CharDevice.Target t = CharDevice.Target.port("isa-serial", 0);
        t.model = new ModelName("isa-serial");
        CharDevice serial = new CharDevice("pty", t);
        serial.log = Parts.consoleLog(in);
        return serial;
    }

    /**
     * The display is never on a routable address, whatever qemu.conf's vnc_listen/spice_listen say: VNC listens on a
     * UNIX socket only (libvirt picks its path in the domain's private directory; {@code virtfleet vm vnc} reaches it
     * through the agent's virDomainOpenGraphicsFD, which needs no listener at all), SPICE, whose QEMU support for UNIX
     * sockets depends on the build, on loopback with a port chosen by libvirt (autoport).
     */
    static GraphicsDef graphics(String type) {
        GraphicsDef g = new GraphicsDef();
        g.type = type;
        if (type.equals("vnc")) {
            g.listens.add(GraphicsDef.Listen.socket());
        } else {
            g.autoport = "yes";
            g.listens.add(GraphicsDef.Listen.loopback());
        }
        if (type.equals("spice")) {
            // Compression costs CPU on the host for a LAN-local client that does not need it.
            g.image = new GraphicsDef.Image("off");
        }
        return g;
    }

    /**
     * qxl for spice (its native driver), virtio for vnc (a modern guest's generic GPU), and an explicit none without
     * graphics so libvirt does not add a default VGA card nobody can look at.
     */
    static VideoDef video(String graphics) {
        VideoDef.Model m;
        switch (graphics) {
            case "spice" -> {
                m = new VideoDef.Model("qxl");
                m.ram = 65536;
                m.vram = 65536;
                m.vgamem = 16384;
                m.heads = 1;
                m.primary = "yes";
            }
            case "vnc" -> {
                m = new VideoDef.Model("virtio");
                m.heads = 1;
                m.primary = "yes";
            }
            default -> m = new VideoDef.Model("none");
        }
        return new VideoDef(m);
    }
}
