package io.virtfleet.reconcilers.domain.xml;

import io.virtfleet.api.v1alpha1.ApiGroup;

import java.util.List;

/**
 * Writes the domain model as text ({@link DomainXmlCodec#write}): a parsed or built {@link DomainDef}, in the
 * format of {@link XmlBuffer} (the renderer itself writes a VirtualMachine straight to text with the same
 * primitives). The output is byte for byte what Jackson XML over Woodstox wrote for the same model with
 * {@code INDENT_OUTPUT} and non-null inclusion (the format {@link DomainXmlCodec} used to produce and libvirt has been
 * fed since): attributes in the model's {@code @JsonPropertyOrder}, empty elements as {@code <x/>}. One deliberate
 * difference: a {@code >} in text is always written {@code &gt;} (as libvirt's own formatter writes it); Woodstox
 * escaped it only where it might end a {@code ]]>}, depending on how its buffer was filled. {@code DomainXmlWriterTest}
 * holds the writer to Jackson's output on every example manifest, on libvirt's dumped XML and on fuzzed text.
 *
 * <p>Field order is the model's order (libvirt's own formatting order, virDomainDefFormat). When a field is added
 * to the model, add it here too; the differential test fails for a model field this writer does not write.
 */
public final class DomainXmlWriter {
    private final XmlBuffer out;

    private DomainXmlWriter(XmlBuffer out) {
        this.out = out;
    }

    /**
     * The document, indented, without an XML declaration, ending in a newline.
     *
     * @throws IllegalArgumentException when a value holds a character XML 1.0 cannot carry
     */
    public static String write(DomainDef d) {
        try (XmlBuffer out = XmlBuffer.start()) {
            new DomainXmlWriter(out).domain(d);
            return out.finish();
        }
    }

    // ------------------------------------------------------------------------------------------------- elements

    private void domain(DomainDef d) {
        out.open("domain");
        out.attr("type", d.type);
        out.attr("id", d.id);
        if (!hasAnyChild(d.name, d.uuid, d.genid, d.metadata, d.memory, d.currentMemory, d.vcpu, d.bootloader, d.os,
                d.features, d.cpu, d.clock, d.onPoweroff, d.onReboot, d.onCrash, d.pm, d.devices)) {
            out.closeEmpty();
            return;
        }
        out.endStart();
        out.text("name", d.name);
        out.text("uuid", d.uuid);
        if (d.genid != null) {
            out.textElement("genid", null, null, d.genid.value);
        }
        metadata(d.metadata);
        scaled("memory", d.memory);
        scaled("currentMemory", d.currentMemory);
        if (d.vcpu != null) {
            out.textElement("vcpu", "placement", d.vcpu.placement,
                    d.vcpu.count == null ? null : d.vcpu.count.toString());
        }
        out.text("bootloader", d.bootloader);
        os(d.os);
        features(d.features);
        cpu(d.cpu);
        clock(d.clock);
        out.text("on_poweroff", d.onPoweroff);
        out.text("on_reboot", d.onReboot);
        out.text("on_crash", d.onCrash);
        pm(d.pm);
        devices(d.devices);
        out.close("domain");
    }

    private void metadata(Metadata m) {
        if (m == null) {
            return;
        }
        out.open("metadata");
        if (m.libosinfo == null && m.virtfleet == null) {
            out.closeEmpty();
            return;
        }
        out.endStart();
        if (m.libosinfo != null) {
            String tag = Metadata.LIBOSINFO_PREFIX + ":libosinfo";
            out.open(tag);
            out.namespace(Metadata.LIBOSINFO_PREFIX, Metadata.LIBOSINFO_NS);
            if (m.libosinfo.os == null) {
                out.closeEmpty();
            } else {
                out.endStart();
                out.open(Metadata.LIBOSINFO_PREFIX + ":os");
                out.attr("id", m.libosinfo.os.id);
                out.closeEmpty();
                out.close(tag);
            }
        }
        if (m.virtfleet != null) {
            Metadata.VirtfleetMark v = m.virtfleet;
            out.open(ApiGroup.LIBVIRT_METADATA_PREFIX + ":vm");
            out.namespace(ApiGroup.LIBVIRT_METADATA_PREFIX, ApiGroup.LIBVIRT_METADATA_NS);
            out.attr("namespace", v.namespace);
            out.attr("name", v.name);
            out.attr("uid", v.uid);
            out.attr("host", v.host);
            out.closeEmpty();
        }
        out.close("metadata");
    }

    private void scaled(String tag, ScaledValue v) {
        if (v != null) {
            out.textElement(tag, "unit", v.unit, v.value == null ? null : v.value.toString());
        }
    }

    private void os(OsDef os) {
        if (os == null) {
            return;
        }
        out.open("os");
        if (!hasAnyChild(os.type, os.init, os.kernel, os.initrd, os.cmdline) && os.boot.isEmpty()) {
            out.closeEmpty();
            return;
        }
        out.endStart();
        if (os.type != null) {
            OsDef.OsType t = os.type;
            out.open("type");
            out.attr("arch", t.arch);
            out.attr("machine", t.machine);
            out.content("type", t.value);
        }
        out.text("init", os.init);
        out.text("kernel", os.kernel);
        out.text("initrd", os.initrd);
        out.text("cmdline", os.cmdline);
        for (OsDef.Boot b : os.boot) {
            if (b != null) {
                out.open("boot");
                out.attr("dev", b.dev);
                out.closeEmpty();
            }
        }
        out.close("os");
    }

    private void features(Features f) {
        if (f == null) {
            return;
        }
        out.open("features");
        if (!hasAnyChild(f.pae, f.acpi, f.apic, f.vmport)) {
            out.closeEmpty();
            return;
        }
        out.endStart();
        empty("pae", f.pae);
        empty("acpi", f.acpi);
        empty("apic", f.apic);
        if (f.vmport != null) {
            out.open("vmport");
            out.attr("state", f.vmport.state);
            out.closeEmpty();
        }
        out.close("features");
    }

    private void cpu(CpuDef c) {
        if (c == null) {
            return;
        }
        out.open("cpu");
        out.attr("mode", c.mode);
        out.attr("match", c.match);
        out.attr("check", c.check);
        out.attr("migratable", c.migratable);
        if (c.model == null) {
            out.closeEmpty();
            return;
        }
        out.endStart();
        out.open("model");
        out.attr("fallback", c.model.fallback);
        out.content("model", c.model.name);
        out.close("cpu");
    }

    private void clock(Clock c) {
        if (c == null) {
            return;
        }
        out.open("clock");
        out.attr("offset", c.offset);
        if (c.timer.isEmpty()) {
            out.closeEmpty();
            return;
        }
        out.endStart();
        for (Clock.Timer t : c.timer) {
            if (t != null) {
                out.open("timer");
                out.attr("name", t.name);
                out.attr("tickpolicy", t.tickpolicy);
                out.attr("present", t.present);
                out.closeEmpty();
            }
        }
        out.close("clock");
    }

    private void pm(Pm p) {
        if (p == null) {
            return;
        }
        out.open("pm");
        if (p.suspendToMem == null && p.suspendToDisk == null) {
            out.closeEmpty();
            return;
        }
        out.endStart();
        enabled("suspend-to-mem", p.suspendToMem);
        enabled("suspend-to-disk", p.suspendToDisk);
        out.close("pm");
    }

    private void enabled(String tag, Pm.Enabled e) {
        if (e != null) {
            out.open(tag);
            out.attr("enabled", e.enabled);
            out.closeEmpty();
        }
    }

    private void devices(Devices d) {
        if (d == null) {
            return;
        }
        out.open("devices");
        if (d.emulator == null && d.memballoon == null && d.disks.isEmpty() && d.controllers.isEmpty()
                && d.filesystems.isEmpty() && d.interfaces.isEmpty() && d.serials.isEmpty() && d.consoles.isEmpty()
                && d.channels.isEmpty() && d.inputs.isEmpty() && d.graphics.isEmpty() && d.sounds.isEmpty()
                && d.audios.isEmpty() && d.videos.isEmpty() && d.redirdevs.isEmpty() && d.rngs.isEmpty()) {
            out.closeEmpty();
            return;
        }
        out.endStart();
        out.text("emulator", d.emulator);
        for (DiskDef x : d.disks) {
            disk(x);
        }
        for (ControllerDef x : d.controllers) {
            controller(x);
        }
        for (FilesystemDef x : d.filesystems) {
            filesystem(x);
        }
        for (InterfaceDef x : d.interfaces) {
            iface(x);
        }
        charDevices("serial", d.serials);
        charDevices("console", d.consoles);
        charDevices("channel", d.channels);
        for (InputDef x : d.inputs) {
            input(x);
        }
        for (GraphicsDef x : d.graphics) {
            graphics(x);
        }
        for (SoundDef x : d.sounds) {
            if (x != null) {
                out.open("sound");
                out.attr("model", x.model);
                aliasAddress(x, "sound");
            }
        }
        for (AudioDef x : d.audios) {
            if (x != null) {
                out.open("audio");
                out.attr("id", x.id);
                out.attr("type", x.type);
                out.closeEmpty();
            }
        }
        for (VideoDef x : d.videos) {
            video(x);
        }
        for (RedirDev x : d.redirdevs) {
            if (x != null) {
                out.open("redirdev");
                out.attr("bus", x.bus);
                out.attr("type", x.type);
                aliasAddress(x, "redirdev");
            }
        }
        if (d.memballoon != null) {
            out.open("memballoon");
            out.attr("model", d.memballoon.model);
            aliasAddress(d.memballoon, "memballoon");
        }
        for (RngDef x : d.rngs) {
            rng(x);
        }
        out.close("devices");
    }

    private void disk(DiskDef d) {
        if (d == null) {
            return;
        }
        out.open("disk");
        out.attr("type", d.type);
        out.attr("device", d.device);
        if (!hasAnyChild(d.driver, d.source, d.target, d.readonly, d.serial, d.alias, d.address)) {
            out.closeEmpty();
            return;
        }
        out.endStart();
        if (d.driver != null) {
            out.open("driver");
            out.attr("name", d.driver.name);
            out.attr("type", d.driver.type);
            out.attr("cache", d.driver.cache);
            out.attr("discard", d.driver.discard);
            out.closeEmpty();
        }
        if (d.source != null) {
            out.open("source");
            out.attr("file", d.source.file);
            out.attr("dev", d.source.dev);
            out.attr("index", d.source.index);
            out.closeEmpty();
        }
        if (d.target != null) {
            out.open("target");
            out.attr("dev", d.target.dev);
            out.attr("bus", d.target.bus);
            out.closeEmpty();
        }
        empty("readonly", d.readonly);
        out.text("serial", d.serial);
        placement(d);
        out.close("disk");
    }

    private void controller(ControllerDef c) {
        if (c == null) {
            return;
        }
        out.open("controller");
        out.attr("type", c.type);
        out.attr("index", c.index);
        out.attr("model", c.model);
        out.attr("ports", c.ports);
        if (!hasAnyChild(c.modelName, c.target, c.alias, c.address)) {
            out.closeEmpty();
            return;
        }
        out.endStart();
        if (c.modelName != null) {
            out.open("model");
            out.attr("name", c.modelName.name);
            out.closeEmpty();
        }
        if (c.target != null) {
            out.open("target");
            out.attr("chassis", c.target.chassis);
            out.attr("port", c.target.port);
            out.closeEmpty();
        }
        placement(c);
        out.close("controller");
    }

    private void filesystem(FilesystemDef f) {
        if (f == null) {
            return;
        }
        out.open("filesystem");
        out.attr("type", f.type);
        if (!hasAnyChild(f.source, f.target, f.alias)) {
            out.closeEmpty();
            return;
        }
        out.endStart();
        if (f.source != null) {
            out.open("source");
            out.attr("name", f.source.name);
            out.attr("dir", f.source.dir);
            out.closeEmpty();
        }
        if (f.target != null) {
            out.open("target");
            out.attr("dir", f.target.dir);
            out.closeEmpty();
        }
        alias(f.alias);
        out.close("filesystem");
    }

    private void iface(InterfaceDef i) {
        if (i == null) {
            return;
        }
        out.open("interface");
        out.attr("type", i.type);
        if (!hasAnyChild(i.mac, i.source, i.target, i.model, i.alias, i.address)) {
            out.closeEmpty();
            return;
        }
        out.endStart();
        if (i.mac != null) {
            out.open("mac");
            out.attr("address", i.mac.address);
            out.closeEmpty();
        }
        if (i.source != null) {
            out.open("source");
            out.attr("network", i.source.network);
            out.attr("bridge", i.source.bridge);
            out.attr("portid", i.source.portid);
            out.closeEmpty();
        }
        if (i.target != null) {
            out.open("target");
            out.attr("dev", i.target.dev);
            out.closeEmpty();
        }
        if (i.model != null) {
            out.open("model");
            out.attr("type", i.model.type);
            out.closeEmpty();
        }
        placement(i);
        out.close("interface");
    }

    private void charDevices(String tag, List<CharDevice> list) {
        for (CharDevice c : list) {
            if (c == null) {
                continue;
            }
            out.open(tag);
            out.attr("type", c.type);
            if (!hasAnyChild(c.source, c.log, c.target, c.alias, c.address)) {
                out.closeEmpty();
                continue;
            }
            out.endStart();
            if (c.source != null) {
                out.open("source");
                out.attr("mode", c.source.mode);
                out.attr("path", c.source.path);
                out.closeEmpty();
            }
            if (c.log != null) {
                out.open("log");
                out.attr("file", c.log.file);
                out.attr("append", c.log.append);
                out.closeEmpty();
            }
            if (c.target != null) {
                CharDevice.Target t = c.target;
                out.open("target");
                out.attr("type", t.type);
                out.attr("name", t.name);
                out.attr("port", t.port);
                out.attr("state", t.state);
                if (t.model == null) {
                    out.closeEmpty();
                } else {
                    out.endStart();
                    out.open("model");
                    out.attr("name", t.model.name);
                    out.closeEmpty();
                    out.close("target");
                }
            }
            placement(c);
            out.close(tag);
        }
    }

    private void input(InputDef x) {
        if (x == null) {
            return;
        }
        out.open("input");
        out.attr("type", x.type);
        out.attr("bus", x.bus);
        aliasAddress(x, "input");
    }

    private void graphics(GraphicsDef g) {
        if (g == null) {
            return;
        }
        out.open("graphics");
        out.attr("type", g.type);
        out.attr("port", g.port);
        out.attr("autoport", g.autoport);
        if (g.listens.isEmpty() && g.image == null) {
            out.closeEmpty();
            return;
        }
        out.endStart();
        for (GraphicsDef.Listen l : g.listens) {
            if (l != null) {
                out.open("listen");
                out.attr("type", l.type);
                out.attr("address", l.address);
                out.closeEmpty();
            }
        }
        if (g.image != null) {
            out.open("image");
            out.attr("compression", g.image.compression);
            out.closeEmpty();
        }
        out.close("graphics");
    }

    private void video(VideoDef v) {
        if (v == null) {
            return;
        }
        out.open("video");
        if (!hasAnyChild(v.model, v.alias, v.address)) {
            out.closeEmpty();
            return;
        }
        out.endStart();
        if (v.model != null) {
            VideoDef.Model m = v.model;
            out.open("model");
            out.attr("type", m.type);
            out.attr("ram", m.ram);
            out.attr("vram", m.vram);
            out.attr("vgamem", m.vgamem);
            out.attr("heads", m.heads);
            out.attr("primary", m.primary);
            out.closeEmpty();
        }
        placement(v);
        out.close("video");
    }

    private void rng(RngDef r) {
        if (r == null) {
            return;
        }
        out.open("rng");
        out.attr("model", r.model);
        if (!hasAnyChild(r.backend, r.alias, r.address)) {
            out.closeEmpty();
            return;
        }
        out.endStart();
        if (r.backend != null) {
            out.open("backend");
            out.attr("model", r.backend.model);
            out.content("backend", r.backend.source);
        }
        placement(r);
        out.close("rng");
    }

    /** The common tail {@code <alias/><address/>} of a device whose start tag is open, then its end. */
    private void aliasAddress(DeviceDef device, String tag) {
        if (device.alias == null && device.address == null) {
            out.closeEmpty();
            return;
        }
        out.endStart();
        placement(device);
        out.close(tag);
    }

    private void placement(DeviceDef device) {
        alias(device.alias);
        address(device.address);
    }

    private void alias(Alias a) {
        if (a != null) {
            out.open("alias");
            out.attr("name", a.name);
            out.closeEmpty();
        }
    }

    private void address(Address a) {
        if (a == null) {
            return;
        }
        out.open("address");
        out.attr("type", a.type);
        out.attr("domain", a.domain);
        out.attr("bus", a.bus);
        out.attr("slot", a.slot);
        out.attr("function", a.function);
        out.attr("multifunction", a.multifunction);
        out.attr("controller", a.controller);
        out.attr("target", a.target);
        out.attr("unit", a.unit);
        out.attr("port", a.port);
        out.closeEmpty();
    }

    // ---------------------------------------------------------------------------------------------- helpers

    private static boolean hasAnyChild(Object... children) {
        for (Object c : children) {
            if (c != null) {
                return true;
            }
        }
        return false;
    }

    private void empty(String tag, Empty e) {
        if (e != null) {
            out.empty(tag);
        }
    }
}
