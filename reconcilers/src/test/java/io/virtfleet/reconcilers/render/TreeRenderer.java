package io.virtfleet.reconcilers.render;

import io.virtfleet.api.v1alpha1.ApiGroup;
import io.virtfleet.api.v1alpha1.Hypervisor;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.api.v1alpha1.VirtualMachineSpec;
import io.virtfleet.reconcilers.domain.xml.Alias;
import io.virtfleet.reconcilers.domain.xml.AudioDef;
import io.virtfleet.reconcilers.domain.xml.CharDevice;
import io.virtfleet.reconcilers.domain.xml.Clock;
import io.virtfleet.reconcilers.domain.xml.ControllerDef;
import io.virtfleet.reconcilers.domain.xml.CpuDef;
import io.virtfleet.reconcilers.domain.xml.Devices;
import io.virtfleet.reconcilers.domain.xml.DiskDef;
import io.virtfleet.reconcilers.domain.xml.DomainDef;
import io.virtfleet.reconcilers.domain.xml.DomainXmlCodec;
import io.virtfleet.reconcilers.domain.xml.Empty;
import io.virtfleet.reconcilers.domain.xml.Features;
import io.virtfleet.reconcilers.domain.xml.FilesystemDef;
import io.virtfleet.reconcilers.domain.xml.GraphicsDef;
import io.virtfleet.reconcilers.domain.xml.InputDef;
import io.virtfleet.reconcilers.domain.xml.InterfaceDef;
import io.virtfleet.reconcilers.domain.xml.MemBalloon;
import io.virtfleet.reconcilers.domain.xml.ModelName;
import io.virtfleet.reconcilers.domain.xml.Metadata;
import io.virtfleet.reconcilers.domain.xml.OsDef;
import io.virtfleet.reconcilers.domain.xml.Pm;
import io.virtfleet.reconcilers.domain.xml.RedirDev;
import io.virtfleet.reconcilers.domain.xml.RngDef;
import io.virtfleet.reconcilers.domain.xml.ScaledValue;
import io.virtfleet.reconcilers.domain.xml.SoundDef;
import io.virtfleet.reconcilers.domain.xml.VideoDef;
import io.virtfleet.reconcilers.platform.Platform;
import io.virtfleet.reconcilers.validation.Macs;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The renderer as it was before it wrote XML straight from the VirtualMachine: it built the {@link DomainDef} model
 * and wrote that with {@link DomainXmlCodec#write}. Kept here as the reference the streaming renderer is held to,
 * byte for byte ({@code StreamingRenderIdentityTest}, and every render of {@code DomainRendererTest}).
 */
final class TreeRenderer {
    private TreeRenderer() {
    }

    static DomainXml render(VirtualMachine vm, HostInfo host, RenderOptions opts) {
        RenderInput in = DomainRenderer.input(vm, host, opts);
        DomainDef def = switch (in.platform().family()) {
            case Q35, I440FX -> QemuTree.build(in);
            case XEN_HVM, XEN_PV -> XenTree.build(in);
            case OPENVZ -> OpenvzTree.build(in);
        };
        return new DomainXml(in.domainName(), in.uuid(), DomainXmlCodec.write(def));
    }

    static final class QemuTree {
        static final int PCIE_ROOT_PORTS = 14;
        static final String TCG_CPU_MODEL = "qemu64";


        static DomainDef build(RenderInput in) {
            VirtualMachineSpec s = in.spec();
            Platform p = in.platform();
            DomainDef d = PartsTree.base(in, p.hypervisor() == Hypervisor.KVM ? "kvm" : "qemu",
                    s.os == null ? null : OsVariants.resolve(s.os.variant));
            d.genid = Genids.element(s.genid, in.genidOverride(), p);
            d.os = os(in);
            d.features = features();
            d.cpu = cpu(s.cpu == null ? null : s.cpu.model, p.hypervisor());
            d.clock = clock();
            PartsTree.lifecycle(d);
            d.pm = pm();
            d.devices = devices(in);
            return d;
        }

        static OsDef os(RenderInput in) {
            OsDef os = new OsDef();
            os.type = PartsTree.osType(in.platform().machine(), "hvm");
            if (!PartsTree.kernelBoot(os, in.spec())) {
                os.boot.addAll(PartsTree.bootDevices(in.disks()));
            }
            return os;
        }

        static Features features() {
            Features f = new Features();
            f.acpi = Empty.INSTANCE;
            f.apic = Empty.INSTANCE;
            f.vmport = new Features.State("off");
            return f;
        }

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
                    c.model = new CpuDef.Model();
                    c.model.fallback = "forbid";
                    c.model.name = m;
                }
            }
            return c;
        }

        static Clock clock() {
            Clock c = new Clock();
            c.offset = "utc";
            c.timer = List.of(timer("rtc", "catchup", null), timer("pit", "delay", null), timer("hpet", null, "no"));
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
                DiskDef disk = PartsTree.disk(disks.get(i), placements.get(i), true);
                disk.serial = disks.get(i).name;
                dev.disks.add(disk);
            }
            dev.controllers.addAll(controllers(p, placements));
            for (VirtualMachineSpec.NetworkInterface n : in.interfaces()) {
                dev.interfaces.add(PartsTree.iface(n, p.defaultNicModel()));
            }
            dev.serials.add(serial(in));
            dev.consoles.add(PartsTree.charDevice("pty", CharDevice.Target.port("serial", 0)));
            dev.channels.add(PartsTree.charDevice("unix", CharDevice.Target.virtio("org.qemu.guest_agent.0")));
            dev.channels.add(PartsTree.charDevice("unix",
                    CharDevice.Target.virtio(HostInfo.PORT_FORWARD_CHANNEL_NAME)));
            if (spice) {
                dev.channels.add(PartsTree.charDevice("spicevmc", CharDevice.Target.virtio("com.redhat.spice.0")));
            }
            CharDevice guestChannel = PartsTree.guestChannel(in);
            if (guestChannel != null) {
                dev.channels.add(guestChannel);
            }
            if (!graphics.equals("none")) {
                dev.inputs.add(PartsTree.input("tablet", "usb"));
            }
            dev.inputs.add(PartsTree.input("mouse", "ps2"));
            dev.inputs.add(PartsTree.input("keyboard", "ps2"));
            if (!graphics.equals("none")) {
                dev.graphics.add(graphics(graphics));
            }
            if (spice) {
                SoundDef sound = new SoundDef();
                sound.model = p.family() == Platform.Family.Q35 ? "ich9" : "ich6";
                dev.sounds.add(sound);
                AudioDef audio = new AudioDef();
                audio.id = 1;
                audio.type = "spice";
                dev.audios.add(audio);
            }
            dev.videos.add(video(graphics));
            if (spice) {
                for (int i = 0; i < 2; i++) {
                    RedirDev usb = new RedirDev();
                    usb.bus = "usb";
                    usb.type = "spicevmc";
                    dev.redirdevs.add(usb);
                }
            }
            dev.memballoon = new MemBalloon();
            dev.memballoon.model = "virtio";
            RngDef rng = new RngDef();
            rng.model = "virtio";
            rng.backend = new RngDef.Backend();
            rng.backend.model = "random";
            rng.backend.source = "/dev/urandom";
            dev.rngs.add(rng);
            return dev;
        }

        static List<ControllerDef> controllers(Platform p, List<DiskTargets.Placement> placements) {
            List<ControllerDef> list = new ArrayList<>();
            ControllerDef usb = controller("usb", 0, "qemu-xhci");
            usb.ports = 15;
            list.add(usb);
            boolean q35 = p.family() == Platform.Family.Q35;
            if (q35) {
                list.add(controller("pci", 0, "pcie-root"));
                for (int i = 1; i <= PCIE_ROOT_PORTS; i++) {
                    ControllerDef port = controller("pci", i, "pcie-root-port");
                    port.modelName = new ModelName("pcie-root-port");
                    port.target = new ControllerDef.Target();
                    port.target.chassis = i;
                    port.target.port = "0x" + Integer.toHexString(0x0f + i);
                    list.add(port);
                }
            }
            boolean sata = placements.stream().anyMatch(x -> x.bus().equals("sata"));
            boolean scsi = placements.stream().anyMatch(x -> x.bus().equals("scsi"));
            if (q35 || sata) {
                list.add(controller("sata", 0, null));
            }
            if (scsi) {
                list.add(controller("scsi", 0, "virtio-scsi"));
            }
            list.add(controller("virtio-serial", 0, null));
            return list;
        }

        static ControllerDef controller(String type, int index, String model) {
            ControllerDef c = new ControllerDef();
            c.type = type;
            c.index = index;
            c.model = model;
            return c;
        }

        static Clock.Timer timer(String name, String tickpolicy, String present) {
            Clock.Timer t = new Clock.Timer();
            t.name = name;
            t.tickpolicy = tickpolicy;
            t.present = present;
            return t;
        }

        static CharDevice serial(RenderInput in) {
            CharDevice.Target t = CharDevice.Target.port("isa-serial", 0);
            t.model = new ModelName("isa-serial");
            CharDevice serial = PartsTree.charDevice("pty", t);
            serial.log = PartsTree.consoleLog(in);
            return serial;
        }

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
                g.image = new GraphicsDef.Image("off");
            }
            return g;
        }

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
            VideoDef video = new VideoDef();
            video.model = m;
            return video;
        }
    }

    static final class XenTree {
        static final String PV_BOOTLOADER = "pygrub";


        static DomainDef build(RenderInput in) {
            VirtualMachineSpec s = in.spec();
            Platform p = in.platform();
            boolean hvm = p.family() == Platform.Family.XEN_HVM;
            DomainDef d = PartsTree.base(in, "xen", s.os == null ? null : OsVariants.resolve(s.os.variant));
            d.genid = Genids.element(s.genid, in.genidOverride(), p);

            OsDef os = new OsDef();
            os.type = PartsTree.osType(p.machine(), hvm ? "hvm" : "linux");
            boolean kernel = PartsTree.kernelBoot(os, s);
            if (hvm && !kernel) {
                os.boot.addAll(PartsTree.bootDevices(in.disks()));
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
            PartsTree.lifecycle(d);
            d.devices = devices(in, hvm);
            return d;
        }

        static String diskBackend(DiskDef disk) {
            return "raw".equals(disk.driver.type) && "disk".equals(disk.device) ? "phy" : "qemu";
        }

        private static Devices devices(RenderInput in, boolean hvm) {
            Devices dev = new Devices();
            List<VirtualMachineSpec.Disk> disks = in.attachedDisks();
            List<DiskTargets.Placement> placements = DiskTargets.allocate(disks, in.platform());
            for (int i = 0; i < disks.size(); i++) {
                DiskDef disk = PartsTree.disk(disks.get(i), placements.get(i), false);
                disk.driver.name = diskBackend(disk);
                dev.disks.add(disk);
            }
            for (VirtualMachineSpec.NetworkInterface n : in.interfaces()) {
                dev.interfaces.add(PartsTree.iface(n, in.platform().defaultNicModel()));
            }
            if (hvm) {
                CharDevice serial = PartsTree.charDevice("pty", CharDevice.Target.port(null, 0));
                serial.log = PartsTree.consoleLog(in);
                dev.serials.add(serial);
                dev.consoles.add(PartsTree.charDevice("pty", CharDevice.Target.port("serial", 0)));
            } else {
                CharDevice console = PartsTree.charDevice("pty", CharDevice.Target.port("xen", 0));
                console.log = PartsTree.consoleLog(in);
                dev.consoles.add(console);
            }
            if (in.graphics().equals("vnc")) {
                if (hvm) {
                    dev.inputs.add(PartsTree.input("tablet", "usb"));
                }
                GraphicsDef g = new GraphicsDef();
                g.type = "vnc";
                g.autoport = "yes";
                g.listens.add(GraphicsDef.Listen.loopback());
                dev.graphics.add(g);
            }
            return dev;
        }
    }

    static final class OpenvzTree {

        static DomainDef build(RenderInput in) {
            VirtualMachineSpec s = in.spec();
            DomainDef d = PartsTree.base(in, "openvz", null);
            OsDef os = new OsDef();
            os.type = new OsDef.OsType();
            os.type.value = "exe";
            os.init = "/sbin/init";
            d.os = os;
            Devices dev = new Devices();
            FilesystemDef root = new FilesystemDef();
            root.type = "template";
            root.source = new FilesystemDef.Source();
            root.source.name = s.os.template;
            root.target = new FilesystemDef.Target("/");
            dev.filesystems.add(root);
            for (VirtualMachineSpec.NetworkInterface n : in.interfaces()) {
                dev.interfaces.add(PartsTree.iface(n, null));
            }
            d.devices = dev;
            return d;
        }
    }

    static final class PartsTree {

        static DomainDef base(RenderInput in, String type, String libosinfoId) {
            VirtualMachineSpec s = in.spec();
            DomainDef d = new DomainDef();
            d.type = type;
            d.name = in.domainName();
            d.uuid = in.uuid();
            d.metadata = metadata(in.vm(), in.namespace(), in.host().name(), libosinfoId);
            long kib = MemorySizes.kib(s.memory).longValueExact();
            d.memory = ScaledValue.kib(kib);
            d.currentMemory = ScaledValue.kib(kib);
            d.vcpu = new DomainDef.Vcpu();
            d.vcpu.placement = "static";
            d.vcpu.count = s.cpu != null && s.cpu.cores != null ? s.cpu.cores : 1;
            return d;
        }

        static Metadata metadata(VirtualMachine vm, String namespace, String host, String libosinfoId) {
            Metadata m = new Metadata();
            if (libosinfoId != null) {
                m.libosinfo = new Metadata.Libosinfo(libosinfoId);
            }
            Metadata.VirtfleetMark mark = new Metadata.VirtfleetMark();
            mark.namespace = namespace;
            mark.name = vm.getMetadata().getName();
            mark.uid = vm.getMetadata().getUid();
            mark.host = host;
            m.virtfleet = mark;
            return m;
        }

        static void lifecycle(DomainDef d) {
            d.onPoweroff = "destroy";
            d.onReboot = "restart";
            d.onCrash = "destroy";
        }

        static Alias alias(String deviceName) {
            return new Alias(ApiGroup.DEVICE_ALIAS_PREFIX + deviceName);
        }

        static OsDef.OsType osType(String machine, String value) {
            OsDef.OsType t = new OsDef.OsType();
            t.arch = "x86_64";
            t.machine = machine;
            t.value = value;
            return t;
        }

        static CharDevice charDevice(String type, CharDevice.Target target) {
            CharDevice c = new CharDevice();
            c.type = type;
            c.target = target;
            return c;
        }

        static InputDef input(String type, String bus) {
            InputDef i = new InputDef();
            i.type = type;
            i.bus = bus;
            return i;
        }

        static boolean kernelBoot(OsDef os, VirtualMachineSpec s) {
            if (s.firmware == null || s.firmware.kernelBoot == null) {
                return false;
            }
            os.kernel = s.firmware.kernelBoot.kernel;
            os.initrd = s.firmware.kernelBoot.initrd;
            os.cmdline = s.firmware.kernelBoot.cmdline;
            return true;
        }

        static List<OsDef.Boot> bootDevices(List<VirtualMachineSpec.Disk> disks) {
            Set<String> order = new LinkedHashSet<>();
            for (VirtualMachineSpec.Disk d : disks) {
                boolean cdrom = Boolean.TRUE.equals(d.cdrom);
                if (!cdrom) {
                    order.add("hd");
                } else if (d.volume != null && d.volume.path != null) {
                    order.add("cdrom");
                }
            }
            if (order.isEmpty()) {
                order.add("hd");
            }
            return order.stream().map(OsDef.Boot::new).toList();
        }

        static DiskDef disk(VirtualMachineSpec.Disk spec, DiskTargets.Placement placement, boolean discard) {
            boolean cdrom = Boolean.TRUE.equals(spec.cdrom);
            DiskDef d = new DiskDef();
            d.type = "file";
            d.device = cdrom ? "cdrom" : "disk";
            d.driver = new DiskDef.Driver();
            d.driver.name = "qemu";
            d.driver.type = format(spec);
            if (discard && !cdrom) {
                d.driver.discard = "unmap";
            }
            if (spec.volume != null && spec.volume.path != null) {
                d.source = DiskDef.Source.file(spec.volume.path);
            }
            d.target = new DiskDef.Target(placement.target(), placement.bus());
            if (cdrom || Boolean.TRUE.equals(spec.readOnly)) {
                d.readonly = Empty.INSTANCE;
            }
            d.alias = alias(spec.name);
            return d;
        }

        static String format(VirtualMachineSpec.Disk spec) {
            return DiskFormats.of(spec);
        }

        static InterfaceDef iface(VirtualMachineSpec.NetworkInterface spec, String model) {
            InterfaceDef i = new InterfaceDef();
            if (spec.network != null) {
                i.type = "network";
                i.source = InterfaceDef.Source.network(spec.network);
            } else {
                i.type = "bridge";
                i.source = InterfaceDef.Source.bridge(spec.bridge);
            }
            if (spec.macAddress != null) {
                i.mac = new InterfaceDef.Mac(Macs.normalize(spec.macAddress));
            }
            if (spec.target != null) {
                i.target = new InterfaceDef.Target(spec.target);
            }
            String m = spec.model != null ? spec.model : model;
            if (m != null) {
                i.model = new InterfaceDef.Model(m);
            }
            i.alias = alias(spec.name);
            return i;
        }

        static CharDevice.Log consoleLog(RenderInput in) {
            String dir = in.host().consoleLogDir();
            if (dir == null) {
                return null;
            }
            CharDevice.Log log = new CharDevice.Log();
            log.file = (dir.equals("/") ? "" : dir) + "/" + in.domainName() + ".log";
            log.append = "off";
            return log;
        }

        static CharDevice guestChannel(RenderInput in) {
            String dir = in.host().guestChannelDir();
            if (dir == null) {
                return null;
            }
            CharDevice channel = charDevice("unix", CharDevice.Target.virtio(HostInfo.GUEST_CHANNEL_NAME));
            channel.source = new CharDevice.Source();
            channel.source.mode = "bind";
            channel.source.path = (dir.equals("/") ? "" : dir) + "/" + in.domainName() + ".chan.sock";
            return channel;
        }
    }
}
