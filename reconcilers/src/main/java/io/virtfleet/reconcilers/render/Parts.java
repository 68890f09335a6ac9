package io.virtfleet.reconcilers.render;

import io.virtfleet.api.v1alpha1.ApiGroup;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.api.v1alpha1.VirtualMachineSpec;
import io.virtfleet.reconcilers.domain.xml.Alias;
import io.virtfleet.reconcilers.domain.xml.CharDevice;
import io.virtfleet.reconcilers.domain.xml.DiskDef;
import io.virtfleet.reconcilers.domain.xml.DomainDef;
import io.virtfleet.reconcilers.domain.xml.Empty;
import io.virtfleet.reconcilers.domain.xml.InterfaceDef;
import io.virtfleet.reconcilers.domain.xml.Metadata;
import io.virtfleet.reconcilers.domain.xml.OsDef;
import io.virtfleet.reconcilers.domain.xml.ScaledValue;
import io.virtfleet.reconcilers.validation.Macs;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** Pieces every hypervisor's domain shares, one function per element or device kind. */
final class Parts {
    private Parts() {
    }

    /** The skeleton: identity, metadata, memory and vCPUs. */
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
        d.vcpu = new DomainDef.Vcpu("static", s.cpu != null && s.cpu.cores != null ? s.cpu.cores : 1);
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

    /** Direct kernel boot, when the spec asks for it; returns whether it did. */
    static boolean kernelBoot(OsDef os, VirtualMachineSpec s) {
        if (s.firmware == null || s.firmware.kernelBoot == null) {
            return false;
        }
        os.kernel = s.firmware.kernelBoot.kernel;
        os.initrd = s.firmware.kernelBoot.initrd;
        os.cmdline = s.firmware.kernelBoot.cmdline;
        return true;
    }

    /**
     * Firmware boot devices in the order the spec lists disk kinds ("disks, in boot order"): a cdrom listed first
     * boots before the hard disks. An empty cdrom drive cannot boot and is left out (virt-install's q35 domain, test
     * resource seed-004.xml: the installer media is ejected and only hd remains). With no disks, hd, as virt-install
     * writes it.
     */
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

    /** A file-backed disk or cdrom. {@code discard} passes guest TRIM through to sparse images. */
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

    /** A NIC on a libvirt network or a host bridge. A MAC or target left open is allocated by libvirt and read back. */
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

    /** Serial console log file, when the host keeps console logs. */
    static CharDevice.Log consoleLog(RenderInput in) {
        String dir = in.host().consoleLogDir();
        if (dir == null) {
            return null;
        }
        return new CharDevice.Log((dir.equals("/") ? "" : dir) + "/" + in.domainName() + ".log", "off");
    }

    /**
     * A virtio-serial port whose host end is a unix socket virtfleet names, unlike the guest agent channel whose socket
     * libvirt itself holds: host tools (the e2e tests talking to the test guest) connect to it directly.
     */
    static CharDevice guestChannel(RenderInput in) {
        String dir = in.host().guestChannelDir();
        if (dir == null) {
            return null;
        }
        CharDevice channel = new CharDevice("unix", CharDevice.Target.virtio(HostInfo.GUEST_CHANNEL_NAME));
        channel.source = new CharDevice.Source();
        channel.source.mode = "bind";
        channel.source.path = (dir.equals("/") ? "" : dir) + "/" + in.domainName() + ".chan.sock";
        return channel;
    }
}
