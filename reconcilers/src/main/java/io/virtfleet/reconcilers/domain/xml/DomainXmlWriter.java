package io.virtfleet.reconcilers.domain.xml;

import io.virtfleet.api.v1alpha1.ApiGroup;

import java.util.List;

/**
 * Writes the domain model straight into a character buffer: the renderer's hot path (the operator renders every
 * VM on every reconcile). The output is byte for byte what Jackson XML over Woodstox wrote for the same model with
 * {@code INDENT_OUTPUT} and non-null inclusion (the format {@link DomainXmlCodec} used to produce and libvirt has been
 * fed since): two-space indentation, {@code "} around attribute values, attributes in the model's
 * {@code @JsonPropertyOrder}, empty elements as {@code <x/>}, no XML declaration. One deliberate difference: a
 * {@code >} in text is always written {@code &gt;} (as libvirt's own formatter writes it); Woodstox escaped it only
 * where it might end a {@code ]]>}, depending on how its buffer was filled. {@code DomainXmlWriterTest} holds the
 * writer to Jackson's output on every example manifest, on libvirt's dumped XML and on fuzzed text.
 *
 * <p>Escaping: {@code & < >} in text, {@code & < "} in attribute values, and carriage returns (everywhere), tabs and
 * newlines (in attribute values) as character references, which attribute-value normalization would otherwise turn
 * into spaces when libvirt reads the document back. Characters XML 1.0 cannot represent at all (other C0 controls,
 * unpaired surrogates, U+FFFE/U+FFFF) are refused with an {@link IllegalArgumentException} naming the element or
 * attribute.
 *
 * <p>Field order is the model's order (libvirt's own formatting order, virDomainDefFormat). When a field is added
 * to the model, add it here too; the differential test fails for a model field this writer does not write.
 */
public final class DomainXmlWriter {
    /** "\n" and the indentation of each depth, appended in one go. */
    private static final String[] NEWLINE_INDENT = new String[16];

    static {
        for (int i = 0; i < NEWLINE_INDENT.length; i++) {
            NEWLINE_INDENT[i] = "\n" + "  ".repeat(i);
        }
    }

    /**
     * One buffer per rendering thread, reused: a fresh 16 KiB array per document (allocated and zeroed) was a
     * measurable part of a render. Only the returned String escapes.
     */
    private static final ThreadLocal<Buf> BUFFER = ThreadLocal.withInitial(() -> new Buf(8192));
    private static final int MAX_KEPT_BUFFER = 64 * 1024;

    private final Buf out;
    private int depth;

    private DomainXmlWriter(Buf out) {
        this.out = out;
    }

    /** The document, indented, without an XML declaration, ending in a newline. */
    public static String write(DomainDef d) {
        Buf buf = BUFFER.get();
        buf.len = 0;
        DomainXmlWriter w = new DomainXmlWriter(buf);
        w.domain(d);
        w.out.append('\n');
        String xml = w.out.toString();
        if (buf.buf.length > MAX_KEPT_BUFFER) {
            BUFFER.remove(); // an unusually large domain: do not keep its buffer for the thread's lifetime
        }
        return xml;
    }

    // ------------------------------------------------------------------------------------------------- elements

    private void domain(DomainDef d) {
        open("domain");
        attr("type", d.type);
        attr("id", d.id);
        if (!hasAnyChild(d.name, d.uuid, d.genid, d.metadata, d.memory, d.currentMemory, d.vcpu, d.bootloader, d.os,
                d.features, d.cpu, d.clock, d.onPoweroff, d.onReboot, d.onCrash, d.pm, d.devices)) {
            closeEmpty();
            return;
        }
        endStart();
        text("name", d.name);
        text("uuid", d.uuid);
        if (d.genid != null) {
            textElement("genid", null, null, d.genid.value);
        }
        metadata(d.metadata);
        scaled("memory", d.memory);
        scaled("currentMemory", d.currentMemory);
        if (d.vcpu != null) {
            textElement("vcpu", "placement", d.vcpu.placement, d.vcpu.count == null ? null : d.vcpu.count.toString());
        }
        text("bootloader", d.bootloader);
        os(d.os);
        features(d.features);
        cpu(d.cpu);
        clock(d.clock);
        text("on_poweroff", d.onPoweroff);
        text("on_reboot", d.onReboot);
        text("on_crash", d.onCrash);
        pm(d.pm);
        devices(d.devices);
        close("domain");
    }

    private void metadata(Metadata m) {
        if (m == null) {
            return;
        }
        open("metadata");
        if (m.libosinfo == null && m.virtfleet == null) {
            closeEmpty();
            return;
        }
        endStart();
        if (m.libosinfo != null) {
            String tag = Metadata.LIBOSINFO_PREFIX + ":libosinfo";
            open(tag);
            namespace(Metadata.LIBOSINFO_PREFIX, Metadata.LIBOSINFO_NS);
            if (m.libosinfo.os == null) {
                closeEmpty();
            } else {
                endStart();
                open(Metadata.LIBOSINFO_PREFIX + ":os");
                attr("id", m.libosinfo.os.id);
                closeEmpty();
                close(tag);
            }
        }
        if (m.virtfleet != null) {
            Metadata.VirtfleetMark v = m.virtfleet;
            open(ApiGroup.LIBVIRT_METADATA_PREFIX + ":vm");
            namespace(ApiGroup.LIBVIRT_METADATA_PREFIX, ApiGroup.LIBVIRT_METADATA_NS);
            attr("namespace", v.namespace);
            attr("name", v.name);
            attr("uid", v.uid);
            attr("host", v.host);
            closeEmpty();
        }
        close("metadata");
    }

    private void scaled(String tag, ScaledValue v) {
        if (v != null) {
            textElement(tag, "unit", v.unit, v.value == null ? null : v.value.toString());
        }
    }

    private void os(OsDef os) {
        if (os == null) {
            return;
        }
        open("os");
        if (!hasAnyChild(os.type, os.init, os.kernel, os.initrd, os.cmdline) && os.boot.isEmpty()) {
            closeEmpty();
            return;
        }
        endStart();
        if (os.type != null) {
            OsDef.OsType t = os.type;
            open("type");
            attr("arch", t.arch);
            attr("machine", t.machine);
            content("type", t.value);
        }
        text("init", os.init);
        text("kernel", os.kernel);
        text("initrd", os.initrd);
        text("cmdline", os.cmdline);
        for (OsDef.Boot b : os.boot) {
            if (b != null) {
                open("boot");
                attr("dev", b.dev);
                closeEmpty();
            }
        }
        close("os");
    }

    private void features(Features f) {
        if (f == null) {
            return;
        }
        open("features");
        if (!hasAnyChild(f.pae, f.acpi, f.apic, f.vmport)) {
            closeEmpty();
            return;
        }
        endStart();
        empty("pae", f.pae);
        empty("acpi", f.acpi);
        empty("apic", f.apic);
        if (f.vmport != null) {
            open("vmport");
            attr("state", f.vmport.state);
            closeEmpty();
        }
        close("features");
    }

    private void cpu(CpuDef c) {
        if (c == null) {
            return;
        }
        open("cpu");
        attr("mode", c.mode);
        attr("match", c.match);
        attr("check", c.check);
        attr("migratable", c.migratable);
        if (c.model == null) {
            closeEmpty();
            return;
        }
        endStart();
        open("model");
        attr("fallback", c.model.fallback);
        content("model", c.model.name);
        close("cpu");
    }

    private void clock(Clock c) {
        if (c == null) {
            return;
        }
        open("clock");
        attr("offset", c.offset);
        if (c.timer.isEmpty()) {
            closeEmpty();
            return;
        }
        endStart();
        for (Clock.Timer t : c.timer) {
            if (t != null) {
                open("timer");
                attr("name", t.name);
                attr("tickpolicy", t.tickpolicy);
                attr("present", t.present);
                closeEmpty();
            }
        }
        close("clock");
    }

    private void pm(Pm p) {
        if (p == null) {
            return;
        }
        open("pm");
        if (p.suspendToMem == null && p.suspendToDisk == null) {
            closeEmpty();
            return;
        }
        endStart();
        enabled("suspend-to-mem", p.suspendToMem);
        enabled("suspend-to-disk", p.suspendToDisk);
        close("pm");
    }

    private void enabled(String tag, Pm.Enabled e) {
        if (e != null) {
            open(tag);
            attr("enabled", e.enabled);
            closeEmpty();
        }
    }

    private void devices(Devices d) {
        if (d == null) {
            return;
        }
        open("devices");
        if (d.emulator == null && d.memballoon == null && d.disks.isEmpty() && d.controllers.isEmpty()
                && d.filesystems.isEmpty() && d.interfaces.isEmpty() && d.serials.isEmpty() && d.consoles.isEmpty()
                && d.channels.isEmpty() && d.inputs.isEmpty() && d.graphics.isEmpty() && d.sounds.isEmpty()
                && d.audios.isEmpty() && d.videos.isEmpty() && d.redirdevs.isEmpty() && d.rngs.isEmpty()) {
            closeEmpty();
            return;
        }
        endStart();
        text("emulator", d.emulator);
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
                open("sound");
                attr("model", x.model);
                aliasAddress(x.alias, x.address, "sound");
            }
        }
        for (AudioDef x : d.audios) {
            if (x != null) {
                open("audio");
                attr("id", x.id);
                attr("type", x.type);
                closeEmpty();
            }
        }
        for (VideoDef x : d.videos) {
            video(x);
        }
        for (RedirDev x : d.redirdevs) {
            if (x != null) {
                open("redirdev");
                attr("bus", x.bus);
                attr("type", x.type);
                aliasAddress(x.alias, x.address, "redirdev");
            }
        }
        if (d.memballoon != null) {
            open("memballoon");
            attr("model", d.memballoon.model);
            aliasAddress(d.memballoon.alias, d.memballoon.address, "memballoon");
        }
        for (RngDef x : d.rngs) {
            rng(x);
        }
        close("devices");
    }

    private void disk(DiskDef d) {
        if (d == null) {
            return;
        }
        open("disk");
        attr("type", d.type);
        attr("device", d.device);
        if (!hasAnyChild(d.driver, d.source, d.target, d.readonly, d.serial, d.alias, d.address)) {
            closeEmpty();
            return;
        }
        endStart();
        if (d.driver != null) {
            open("driver");
            attr("name", d.driver.name);
            attr("type", d.driver.type);
            attr("cache", d.driver.cache);
            attr("discard", d.driver.discard);
            closeEmpty();
        }
        if (d.source != null) {
            open("source");
            attr("file", d.source.file);
            attr("dev", d.source.dev);
            attr("index", d.source.index);
            closeEmpty();
        }
        if (d.target != null) {
            open("target");
            attr("dev", d.target.dev);
            attr("bus", d.target.bus);
            closeEmpty();
        }
        empty("readonly", d.readonly);
        text("serial", d.serial);
        alias(d.alias);
        address(d.address);
        close("disk");
    }

    private void controller(ControllerDef c) {
        if (c == null) {
            return;
        }
        open("controller");
        attr("type", c.type);
        attr("index", c.index);
        attr("model", c.model);
        attr("ports", c.ports);
        if (!hasAnyChild(c.modelName, c.target, c.alias, c.address)) {
            closeEmpty();
            return;
        }
        endStart();
        if (c.modelName != null) {
            open("model");
            attr("name", c.modelName.name);
            closeEmpty();
        }
        if (c.target != null) {
            open("target");
            attr("chassis", c.target.chassis);
            attr("port", c.target.port);
            closeEmpty();
        }
        alias(c.alias);
        address(c.address);
        close("controller");
    }

    private void filesystem(FilesystemDef f) {
        if (f == null) {
            return;
        }
        open("filesystem");
        attr("type", f.type);
        if (!hasAnyChild(f.source, f.target, f.alias)) {
            closeEmpty();
            return;
        }
        endStart();
        if (f.source != null) {
            open("source");
            attr("name", f.source.name);
            attr("dir", f.source.dir);
            closeEmpty();
        }
        if (f.target != null) {
            open("target");
            attr("dir", f.target.dir);
            closeEmpty();
        }
        alias(f.alias);
        close("filesystem");
    }

    private void iface(InterfaceDef i) {
        if (i == null) {
            return;
        }
        open("interface");
        attr("type", i.type);
        if (!hasAnyChild(i.mac, i.source, i.target, i.model, i.alias, i.address)) {
            closeEmpty();
            return;
        }
        endStart();
        if (i.mac != null) {
            open("mac");
            attr("address", i.mac.address);
            closeEmpty();
        }
        if (i.source != null) {
            open("source");
            attr("network", i.source.network);
            attr("bridge", i.source.bridge);
            attr("portid", i.source.portid);
            closeEmpty();
        }
        if (i.target != null) {
            open("target");
            attr("dev", i.target.dev);
            closeEmpty();
        }
        if (i.model != null) {
            open("model");
            attr("type", i.model.type);
            closeEmpty();
        }
        alias(i.alias);
        address(i.address);
        close("interface");
    }

    private void charDevices(String tag, List<CharDevice> list) {
        for (CharDevice c : list) {
            if (c == null) {
                continue;
            }
            open(tag);
            attr("type", c.type);
            if (!hasAnyChild(c.source, c.log, c.target, c.alias, c.address)) {
                closeEmpty();
                continue;
            }
            endStart();
            if (c.source != null) {
                open("source");
                attr("mode", c.source.mode);
                attr("path", c.source.path);
                closeEmpty();
            }
            if (c.log != null) {
                open("log");
                attr("file", c.log.file);
                attr("append", c.log.append);
                closeEmpty();
            }
            if (c.target != null) {
                CharDevice.Target t = c.target;
                open("target");
                attr("type", t.type);
                attr("name", t.name);
                attr("port", t.port);
                attr("state", t.state);
                if (t.model == null) {
                    closeEmpty();
                } else {
                    endStart();
                    open("model");
                    attr("name", t.model.name);
                    closeEmpty();
                    close("target");
                }
            }
            alias(c.alias);
            address(c.address);
            close(tag);
        }
    }

    private void input(InputDef x) {
        if (x == null) {
            return;
        }
        open("input");
        attr("type", x.type);
        attr("bus", x.bus);
        aliasAddress(x.alias, x.address, "input");
    }

    private void graphics(GraphicsDef g) {
        if (g == null) {
            return;
        }
        open("graphics");
        attr("type", g.type);
        attr("port", g.port);
        attr("autoport", g.autoport);
        if (g.listens.isEmpty() && g.image == null) {
            closeEmpty();
            return;
        }
        endStart();
        for (GraphicsDef.Listen l : g.listens) {
            if (l != null) {
                open("listen");
                attr("type", l.type);
                attr("address", l.address);
                closeEmpty();
            }
        }
        if (g.image != null) {
            open("image");
            attr("compression", g.image.compression);
            closeEmpty();
        }
        close("graphics");
    }

    private void video(VideoDef v) {
        if (v == null) {
            return;
        }
        open("video");
        if (!hasAnyChild(v.model, v.alias, v.address)) {
            closeEmpty();
            return;
        }
        endStart();
        if (v.model != null) {
            VideoDef.Model m = v.model;
            open("model");
            attr("type", m.type);
            attr("ram", m.ram);
            attr("vram", m.vram);
            attr("vgamem", m.vgamem);
            attr("heads", m.heads);
            attr("primary", m.primary);
            closeEmpty();
        }
        alias(v.alias);
        address(v.address);
        close("video");
    }

    private void rng(RngDef r) {
        if (r == null) {
            return;
        }
        open("rng");
        attr("model", r.model);
        if (!hasAnyChild(r.backend, r.alias, r.address)) {
            closeEmpty();
            return;
        }
        endStart();
        if (r.backend != null) {
            open("backend");
            attr("model", r.backend.model);
            content("backend", r.backend.source);
        }
        alias(r.alias);
        address(r.address);
        close("rng");
    }

    /** The common tail {@code <alias/><address/>} of a device whose start tag is open, then its end. */
    private void aliasAddress(Alias alias, Address address, String tag) {
        if (alias == null && address == null) {
            closeEmpty();
            return;
        }
        endStart();
        alias(alias);
        address(address);
        close(tag);
    }

    private void alias(Alias a) {
        if (a != null) {
            open("alias");
            attr("name", a.name);
            closeEmpty();
        }
    }

    private void address(Address a) {
        if (a == null) {
            return;
        }
        open("address");
        attr("type", a.type);
        attr("domain", a.domain);
        attr("bus", a.bus);
        attr("slot", a.slot);
        attr("function", a.function);
        attr("multifunction", a.multifunction);
        attr("controller", a.controller);
        attr("target", a.target);
        attr("unit", a.unit);
        attr("port", a.port);
        closeEmpty();
    }

    // ---------------------------------------------------------------------------------------------- primitives

    private static boolean hasAnyChild(Object... children) {
        for (Object c : children) {
            if (c != null) {
                return true;
            }
        }
        return false;
    }

    /** Newline and indentation (none before the root), then {@code <tag}. */
    private void open(String tag) {
        if (out.length() > 0) {
            newline();
        }
        out.append('<').append(tag);
    }

    private void newline() {
        if (depth < NEWLINE_INDENT.length) {
            out.append(NEWLINE_INDENT[depth]);
        } else {
            out.append('\n');
            for (int i = 0; i < depth; i++) {
                out.append("  ");
            }
        }
    }

    /** Ends the start tag of an element that has child elements. */
    private void endStart() {
        out.append('>');
        depth++;
    }

    private void closeEmpty() {
        out.append("/>");
    }

    /** The end tag of an element with child elements, on its own line. */
    private void close(String tag) {
        depth--;
        newline();
        out.append("</").append(tag).append('>');
    }

    /** Ends the open start tag of {@code tag} with text content and the end tag on the same line. */
    private void content(String tag, String value) {
        if (value == null) {
            closeEmpty();
            return;
        }
        out.append('>');
        escapeText(value, tag);
        out.append("</").append(tag).append('>');
    }

    /** {@code <tag>value</tag>} when the value is set. */
    private void text(String tag, String value) {
        if (value != null) {
            textElement(tag, null, null, value);
        }
    }

    /** {@code <tag attr="a">value</tag>}, {@code <tag attr="a"/>} without a value. */
    private void textElement(String tag, String attrName, String attrValue, String value) {
        open(tag);
        if (attrName != null) {
            attr(attrName, attrValue);
        }
        if (value == null) {
            closeEmpty();
            return;
        }
        out.append('>');
        escapeText(value, tag);
        out.append("</").append(tag).append('>');
    }

    private void empty(String tag, Empty e) {
        if (e != null) {
            open(tag);
            closeEmpty();
        }
    }

    private void namespace(String prefix, String uri) {
        out.append(" xmlns:").append(prefix).append("=\"");
        escapeAttr(uri, "xmlns:" + prefix);
        out.append('"');
    }

    private void attr(String name, String value) {
        if (value != null) {
            out.append(' ').append(name).append("=\"");
            escapeAttr(value, name);
            out.append('"');
        }
    }

    private void attr(String name, Integer value) {
        if (value != null) {
            out.append(' ').append(name).append("=\"").append(value.intValue()).append('"');
        }
    }

    private void escapeText(String s, String where) {
        int n = s.length();
        // The usual value has nothing to escape: copy it in one go, then scan the copy (a plain array scan is
        // cheaper than String.charAt per character); only a value that needs escaping is rewritten from there.
        int first = out.appendAndFind(s, false);
        if (first == n) {
            return;
        }
        int start = first;
        for (int i = first; i < n; i++) {
            char c = s.charAt(i);
            String rep;
            if (c == '&') {
                rep = "&amp;";
            } else if (c == '<') {
                rep = "&lt;";
            } else if (c == '>') {
                rep = "&gt;";
            } else if (c == '\r') {
                rep = "&#xd;";
            } else if (c < 0x20 && c != '\n' && c != '\t' || c >= 0xD800 && !legalAbove(s, i, where)) {
                throw illegal(c, where);
            } else {
                if (Character.isHighSurrogate(c)) {
                    i++;
                }
                continue;
            }
            out.append(s, start, i).append(rep);
            start = i + 1;
        }
        out.append(s, start, n);
    }

    private void escapeAttr(String s, String where) {
        int n = s.length();
        int first = out.appendAndFind(s, true); // as in escapeText
        if (first == n) {
            return;
        }
        int start = first;
        for (int i = first; i < n; i++) {
            char c = s.charAt(i);
            String rep;
            if (c == '&') {
                rep = "&amp;";
            } else if (c == '<') {
                rep = "&lt;";
            } else if (c == '"') {
                rep = "&quot;";
            } else if (c == '\r') {
                rep = "&#xd;";
            } else if (c == '\n') {
                rep = "&#xa;";
            } else if (c == '\t') {
                rep = "&#x9;";
            } else if (c < 0x20 || c >= 0xD800 && !legalAbove(s, i, where)) {
                throw illegal(c, where);
            } else {
                if (Character.isHighSurrogate(c)) {
                    i++;
                }
                continue;
            }
            out.append(s, start, i).append(rep);
            start = i + 1;
        }
        out.append(s, start, n);
    }

    /** A character at or above U+D800 is legal: a complete surrogate pair, or a BMP character other than FFFE/FFFF. */
    private static boolean legalAbove(String s, int i, String where) {
        char c = s.charAt(i);
        if (Character.isHighSurrogate(c)) {
            return i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
        }
        if (Character.isLowSurrogate(c)) {
            return false;
        }
        return c != 0xFFFE && c != 0xFFFF;
    }

    private static IllegalArgumentException illegal(char c, String where) {
        return new IllegalArgumentException(String.format("%s: character U+%04X cannot be written in XML 1.0",
                where, (int) c));
    }

    /**
     * A growable char[]: the writer makes about a thousand small appends per document, and StringBuilder's per-call
     * coder and capacity checks were most of its time; the String is built (and compacted) once at the end.
     */
    private static final class Buf {
        private char[] buf;
        private int len;

        Buf(int capacity) {
            buf = new char[capacity];
        }

        private void room(int n) {
            if (len + n > buf.length) {
                buf = java.util.Arrays.copyOf(buf, Math.max(buf.length * 2, len + n));
            }
        }

        Buf append(char c) {
            room(1);
            buf[len++] = c;
            return this;
        }

        Buf append(String s) {
            int n = s.length();
            room(n);
            s.getChars(0, n, buf, len);
            len += n;
            return this;
        }

        /**
         * Appends {@code s} and returns the index in {@code s} of its first character that cannot be written as it
         * is, or its length; when one is found, the buffer keeps only the part of {@code s} before it. Written as it
         * is: in text, any character from U+0020 below the surrogates but {@code & < >}, and tab and newline; in an
         * attribute value ({@code attribute}), any from U+0020 below the surrogates but {@code & < "}. The tests are
         * comparisons ordered for the usual character (a letter, digit, '/', '-' or '.'), not a table lookup.
         */
        int appendAndFind(String s, boolean attribute) {
            int n = s.length();
            room(n);
            s.getChars(0, n, buf, len);
            char[] b = buf;
            int start = len;
            int end = start + n;
            for (int i = start; i < end; i++) {
                char c = b[i];
                boolean plain;
                if (c > '>') {
                    plain = c < 0xD800;
                } else if (c >= 0x20) {
                    plain = c != '&' && c != '<' && (attribute ? c != '"' : c != '>');
                } else {
                    plain = !attribute && (c == '\n' || c == '\t');
                }
                if (!plain) {
                    len = i;
                    return i - start;
                }
            }
            len = end;
            return n;
        }

        Buf append(String s, int from, int to) {
            room(to - from);
            s.getChars(from, to, buf, len);
            len += to - from;
            return this;
        }

        Buf append(int i) {
            if (i >= 0 && i < 10) {
                return append((char) ('0' + i));
            }
            if (i < 0) {
                return append(Integer.toString(i));
            }
            // Digits straight into the buffer: Integer.toString would build a String only to copy it.
            int digits = 1;
            for (int v = i / 10; v != 0; v /= 10) {
                digits++;
            }
            room(digits);
            for (int p = len + digits - 1, v = i; p >= len; p--, v /= 10) {
                buf[p] = (char) ('0' + v % 10);
            }
            len += digits;
            return this;
        }

        int length() {
            return len;
        }

        @Override
        public String toString() {
            return new String(buf, 0, len);
        }
    }
}
