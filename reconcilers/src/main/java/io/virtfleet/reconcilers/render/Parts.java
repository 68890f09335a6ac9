package io.virtfleet.reconcilers.render;

import io.virtfleet.api.v1alpha1.ApiGroup;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.api.v1alpha1.VirtualMachineSpec;
import io.virtfleet.reconcilers.domain.xml.DomainDef;
import io.virtfleet.reconcilers.domain.xml.Metadata;
import io.virtfleet.reconcilers.domain.xml.XmlBuffer;
import io.virtfleet.reconcilers.validation.Macs;

import java.util.List;

/**
 * Pieces every hypervisor's domain shares, one function per element or device kind, each writing its element
 * (with its leading newline and indentation) where the document stands.
 */
final class Parts {
    /** The lifecycle actions: power-off and crash end the domain, a guest reboot restarts it in place. */
    private static final XmlBuffer.Fragment LIFECYCLE = XmlBuffer.fragment(1, out -> {
        out.text("on_poweroff", "destroy");
        out.text("on_reboot", "restart");
        out.text("on_crash", "destroy");
    });

    private Parts() {
    }

    /**
     * The start of the document: {@code <domain type>} with its identity, the genid (when the platform has the
     * device), metadata, memory and vCPUs.
     */
    static void head(RenderInput in, XmlBuffer out, String type, String libosinfoId) {
        VirtualMachineSpec s = in.spec();
        out.open("domain");
        out.attr("type", type);
        out.endStart();
        out.text("name", in.domainName());
        out.text("uuid", in.uuid());
        DomainDef.Genid genid = Genids.element(s.genid, in.genidOverride(), in.platform());
        if (genid != null) {
            out.textElement("genid", null, null, genid.value);
        }
        metadata(out, in.vm(), in.namespace(), in.host().name(), libosinfoId);
        long kib = MemorySizes.kib(s.memory).longValueExact();
        out.number("memory", "unit", "KiB", kib);
        out.number("currentMemory", "unit", "KiB", kib);
        out.number("vcpu", "placement", "static", s.cpu != null && s.cpu.cores != null ? s.cpu.cores : 1);
    }

    /** libosinfo's OS id (virt-manager and virt-install read it) and virtfleet's ownership mark. */
    static void metadata(XmlBuffer out, VirtualMachine vm, String namespace, String host, String libosinfoId) {
        out.open("metadata");
        out.endStart();
        if (libosinfoId != null) {
            String tag = Metadata.LIBOSINFO_PREFIX + ":libosinfo";
            out.open(tag);
            out.namespace(Metadata.LIBOSINFO_PREFIX, Metadata.LIBOSINFO_NS);
            out.endStart();
            out.emptyWith(Metadata.LIBOSINFO_PREFIX + ":os", "id", libosinfoId);
            out.close(tag);
        }
        out.open(ApiGroup.LIBVIRT_METADATA_PREFIX + ":vm");
        out.namespace(ApiGroup.LIBVIRT_METADATA_PREFIX, ApiGroup.LIBVIRT_METADATA_NS);
        out.attr("namespace", namespace);
        out.attr("name", vm.getMetadata().getName());
        out.attr("uid", vm.getMetadata().getUid());
        out.attr("host", host);
        out.closeEmpty();
        out.close("metadata");
    }

    static void lifecycle(XmlBuffer out) {
        out.fragment(LIFECYCLE);
    }

    /** {@code <os><type arch machine>value</type>}: the start of the os element. */
    static void osType(XmlBuffer out, String arch, String machine, String value) {
        out.open("os");
        out.endStart();
        out.open("type");
        out.attr("arch", arch);
        out.attr("machine", machine);
        out.content("type", value);
    }

    /** Direct kernel boot, when the spec asks for it; returns whether it did. */
    static boolean kernelBoot(XmlBuffer out, VirtualMachineSpec s) {
        if (s.firmware == null || s.firmware.kernelBoot == null) {
            return false;
        }
        out.text("kernel", s.firmware.kernelBoot.kernel);
        out.text("initrd", s.firmware.kernelBoot.initrd);
        out.text("cmdline", s.firmware.kernelBoot.cmdline);
        return true;
    }

    /**
     * Firmware boot devices in the order the spec lists disk kinds ("disks, in boot order"): a cdrom listed first
     * boots before the hard disks. An empty cdrom drive cannot boot and is left out (virt-install's q35 domain, test
     * resource seed-004.xml: the installer media is ejected and only hd remains). With no disks, hd, as virt-install
     * writes it.
     */
    static void bootDevices(XmlBuffer out, List<VirtualMachineSpec.Disk> disks) {
        boolean hd = false;
        boolean cdrom = false;
        boolean cdromFirst = false;
        for (VirtualMachineSpec.Disk d : disks) {
            if (!Boolean.TRUE.equals(d.cdrom)) {
                hd = true;
            } else if (d.volume != null && d.volume.path != null && !cdrom) {
                cdrom = true;
                cdromFirst = !hd;
            }
        }
        if (cdromFirst) {
            out.emptyWith("boot", "dev", "cdrom");
        }
        if (hd || !cdrom) {
            out.emptyWith("boot", "dev", "hd");
        }
        if (cdrom && !cdromFirst) {
            out.emptyWith("boot", "dev", "cdrom");
        }
    }

    /**
     * A file-backed disk or cdrom on libvirt's {@code driverName} backend. {@code discard} passes guest TRIM through
     * to sparse images; {@code serial} (null: none) is what the guest sees as the disk's serial number.
     */
    static void disk(XmlBuffer out, VirtualMachineSpec.Disk spec, DiskTargets.Placement placement, String driverName,
                     boolean discard, String serial) {
        boolean cdrom = Boolean.TRUE.equals(spec.cdrom);
        out.open("disk");
        out.attr("type", "file");
        out.attr("device", cdrom ? "cdrom" : "disk");
        out.endStart();
        out.open("driver");
        out.attr("name", driverName);
        out.attr("type", DiskFormats.of(spec));
        if (discard && !cdrom) {
            out.attr("discard", "unmap");
        }
        out.closeEmpty();
        if (spec.volume != null && spec.volume.path != null) {
            out.emptyWith("source", "file", spec.volume.path);
        }
        out.emptyWith("target", "dev", placement.target(), "bus", placement.bus());
        if (cdrom || Boolean.TRUE.equals(spec.readOnly)) {
            out.empty("readonly");
        }
        out.text("serial", serial);
        alias(out, spec.name);
        out.close("disk");
    }

    /** A NIC on a libvirt network or a host bridge. A MAC or target left open is allocated by libvirt and read back. */
    static void iface(XmlBuffer out, VirtualMachineSpec.NetworkInterface spec, String model) {
        out.open("interface");
        out.attr("type", spec.network != null ? "network" : "bridge");
        out.endStart();
        if (spec.macAddress != null) {
            out.emptyWith("mac", "address", Macs.normalize(spec.macAddress));
        }
        if (spec.network != null) {
            out.emptyWith("source", "network", spec.network);
        } else {
            out.emptyWith("source", "bridge", spec.bridge);
        }
        if (spec.target != null) {
            out.emptyWith("target", "dev", spec.target);
        }
        String m = spec.model != null ? spec.model : model;
        if (m != null) {
            out.emptyWith("model", "type", m);
        }
        alias(out, spec.name);
        out.close("interface");
    }

    /** The user alias that names a device in libvirt's live XML after its spec entry. */
    static void alias(XmlBuffer out, String deviceName) {
        out.emptyWith("alias", "name", ApiGroup.DEVICE_ALIAS_PREFIX + deviceName);
    }

    /** Serial console log file, when the host keeps console logs. */
    static void consoleLog(XmlBuffer out, RenderInput in) {
        String dir = in.host().consoleLogDir();
        if (dir != null) {
            String file = (dir.equals("/") ? "" : dir) + "/" + in.domainName() + ".log";
            out.emptyWith("log", "file", file, "append", "off");
        }
    }

    /** {@code <target type port/>}: a serial port's or console's target ({@code type} null: none). */
    static void portTarget(XmlBuffer out, String type, int port) {
        out.emptyWith("target", "type", type, "port", Integer.toString(port));
    }

    /** A virtio-serial channel of {@code type} to the guest port {@code name}. */
    static void virtioChannel(XmlBuffer out, String type, String name) {
        out.open("channel");
        out.attr("type", type);
        out.endStart();
        virtioTarget(out, name);
        out.close("channel");
    }

    private static void virtioTarget(XmlBuffer out, String name) {
        out.emptyWith("target", "type", "virtio", "name", name);
    }

    /**
     * A virtio-serial port whose host end is a unix socket virtfleet names, unlike the guest agent channel whose socket
     * libvirt itself holds: host tools (the e2e tests talking to the test guest) connect to it directly.
     */
    static void guestChannel(XmlBuffer out, RenderInput in) {
        String dir = in.host().guestChannelDir();
        if (dir == null) {
            return;
        }
        out.open("channel");
        out.attr("type", "unix");
        out.endStart();
        String socket = (dir.equals("/") ? "" : dir) + "/" + in.domainName() + ".chan.sock";
        out.emptyWith("source", "mode", "bind", "path", socket);
        virtioTarget(out, HostInfo.GUEST_CHANNEL_NAME);
        out.close("channel");
    }

    /** {@code <graphics type autoport>} with one listen child: loopback, or a UNIX socket libvirt names. */
    static void graphicsStart(XmlBuffer out, String type, boolean autoport, boolean socket) {
        out.open("graphics");
        out.attr("type", type);
        if (autoport) {
            out.attr("autoport", "yes");
        }
        out.endStart();
        out.open("listen");
        if (socket) {
            out.attr("type", "socket");
        } else {
            out.attr("type", "address");
            out.attr("address", "127.0.0.1");
        }
        out.closeEmpty();
    }

    /** {@code <input type bus/>}. */
    static void input(XmlBuffer out, String type, String bus) {
        out.emptyWith("input", "type", type, "bus", bus);
    }
}
