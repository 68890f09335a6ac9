package io.virtfleet.reconcilers.domain.xml;

import io.virtfleet.api.v1alpha1.ApiGroup;
import io.virtfleet.api.v1alpha1.DeviceStatus;
import io.virtfleet.reconcilers.lifecycle.XmlFingerprint;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;
import org.xml.sax.InputSource;
import org.xml.sax.SAXException;

import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import javax.xml.transform.OutputKeys;
import javax.xml.transform.Transformer;
import javax.xml.transform.TransformerException;
import javax.xml.transform.TransformerFactory;
import javax.xml.transform.dom.DOMSource;
import javax.xml.transform.stream.StreamResult;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * A libvirt domain XML document: virtfleet's one reader of domain XML, parsed once with the JDK's DOM
 * (namespace-aware, no DTDs or external entities) and kept whole, so nothing libvirt or a user wrote is lost when the
 * agent rewrites it. Views of the one parse: identity, virtfleet's ownership mark, the agent's own bookkeeping
 * element, devices as the status reports them, every host path the domain would make QEMU open, its
 * {@link XmlFingerprint} ({@link #fingerprint()}) and the typed model the renderer writes and hot-plug compares
 * ({@link #def()}, {@link DomainDef}, bound from this DOM by {@link DomainXmlCodec}).
 */
public final class DomainDocument {
    /** Namespace of the agent's bookkeeping element in {@code <metadata>} (the hash of the spec it defined). */
    public static final String AGENT_METADATA_NS = "https://virtfleet.io/xmlns/libvirt/agent/1.0";
    public static final String AGENT_METADATA_PREFIX = "vfagent";
    /** Namespace of QEMU pass-through elements ({@code <qemu:commandline>} etc.), which are refused. */
    public static final String QEMU_NS = "http://libvirt.org/schemas/domain/qemu/1.0";

    private final Document doc;
    private final Element root;
    private final Once<DomainDef> def;
    private final Once<String> fingerprint;

    private DomainDocument(Document doc) {
        this.doc = doc;
        this.root = doc.getDocumentElement();
        this.def = new Once<>(() -> DomainXmlCodec.bind(doc));
        this.fingerprint = new Once<>(() -> XmlFingerprint.of(root));
    }

    /**
     * A view computed from the parse on first use. The parse is never changed, so two threads racing compute the same
     * value and either may be kept; a computation that throws is tried again on the next call.
     */
    private static final class Once<T> {
        private final Supplier<T> compute;
        private volatile T value;

        Once(Supplier<T> compute) {
            this.compute = compute;
        }

        T get() {
            T v = value;
            if (v == null) {
                v = compute.get();
                value = v;
            }
            return v;
        }
    }

    /** Thrown for XML that does not parse or is not a {@code <domain>}. */
    public static final class InvalidXmlException extends Exception {
        public InvalidXmlException(String message) {
            super(message);
        }
    }

    /** virtfleet's ownership mark: {@code <virtfleet:vm namespace=".." name=".." uid=".." host=".."/>}. */
    public record OwnershipMark(String namespace, String name, String uid, String host) {
    }

    /** A host path the domain references, with where it comes from (for error messages). */
    public record PathRef(String where, String path) {
    }

    public static DomainDocument parse(String xml) throws InvalidXmlException {
        return new DomainDocument(parseRoot(xml, "domain"));
    }

    /**
     * A {@code <domainsnapshot>} as {@code virDomainSnapshotGetXMLDesc} returns it: its name, its description (null
     * when none), the domain state it
     * was taken in ({@code running}, {@code shutoff}, ...), {@code creationTime} (seconds since the epoch; 0 when
     * absent) and the {@code <domain>} definition libvirt saved with it (null when the snapshot has none).
     */
    public record Snapshot(String name, String description, String state, long creationTime, DomainDocument domain) {
    }

    /** Reads a {@code <domainsnapshot>} document, its saved {@code <domain>} with this class's views. */
    public static Snapshot parseSnapshot(String xml) throws InvalidXmlException {
        Element r = parseRoot(xml, "domainsnapshot").getDocumentElement();
        String created = text(child(r, "creationTime"));
        long creationTime;
        try {
            creationTime = created == null ? 0L : Long.parseLong(created);
        } catch (NumberFormatException e) {
            throw new InvalidXmlException("<domainsnapshot><creationTime> is not a number: " + created);
        }
        Element saved = child(r, "domain");
        DomainDocument domain = null;
        if (saved != null) {
            try {
                Document d = builder().newDocument();
                d.appendChild(d.importNode(saved, true));
                domain = new DomainDocument(d);
            } catch (ParserConfigurationException e) {
                throw new IllegalStateException(e);
            }
        }
        return new Snapshot(text(child(r, "name")), text(child(r, "description")), text(child(r, "state")),
                creationTime, domain);
    }

    private static Document parseRoot(String xml, String rootName) throws InvalidXmlException {
        if (xml == null || xml.isBlank()) {
            throw new InvalidXmlException(rootName + " XML is empty");
        }
        try {
            DocumentBuilder b = builder();
            Document d = b.parse(new InputSource(new StringReader(xml)));
            Element r = d.getDocumentElement();
            if (!rootName.equals(localName(r)) || r.getNamespaceURI() != null) {
                throw new InvalidXmlException("root element is <" + r.getTagName() + ">, expected <" + rootName + ">");
            }
            return d;
        } catch (SAXException | IOException e) {
            throw new InvalidXmlException(rootName + " XML does not parse: " + e.getMessage());
        } catch (ParserConfigurationException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * One DocumentBuilder per thread, reset before each use: creating a factory and a builder per parse (the JAXP
     * lookup, Xerces' configuration) cost more than parsing a domain's XML. A DocumentBuilder is not thread-safe,
     * and {@link DocumentBuilder#reset()} returns it to the state it was created in, so a parse after a failed one
     * starts clean.
     */
    private static final ThreadLocal<DocumentBuilder> BUILDERS = ThreadLocal.withInitial(() -> {
        try {
            return factory().newDocumentBuilder();
        } catch (ParserConfigurationException e) {
            throw new IllegalStateException(e);
        }
    });

    private static DocumentBuilder builder() throws ParserConfigurationException {
        DocumentBuilder b = BUILDERS.get();
        b.reset();
        b.setErrorHandler(null); // no printing to stderr: a failure is the SAXException this class reports
        return b;
    }

    private static DocumentBuilderFactory factory() throws ParserConfigurationException {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(true);
        f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
        f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        f.setFeature("http://xml.org/sax/features/external-general-entities", false);
        f.setFeature("http://xml.org/sax/features/external-parameter-entities", false);
        f.setXIncludeAware(false);
        f.setExpandEntityReferences(false);
        return f;
    }

    /**
     * The typed model of this document ({@link DomainXmlCodec}'s reading: unknown elements and attributes ignored),
     * bound from this parse, once.
     */
    public DomainDef def() {
        return def.get();
    }

    /** The {@link XmlFingerprint} of this document, computed from this parse, once. */
    public String fingerprint() {
        return fingerprint.get();
    }

    // ---------------------------------------------------------------------------------------------------- identity

    /** The domain type attribute: kvm, qemu, xen, openvz ... */
    public String type() {
        return root.getAttribute("type");
    }

    public String name() {
        return text(child(root, "name"));
    }

    /** The UUID in lower case, or null when the XML has none. */
    public String uuid() {
        String u = text(child(root, "uuid"));
        return u == null ? null : u.toLowerCase(Locale.ROOT);
    }

    /** The genid element's value; "" for {@code <genid/>} (libvirt generates one), null when absent. */
    public String genid() {
        Element g = child(root, "genid");
        if (g == null) {
            return null;
        }
        String t = text(g);
        return t == null ? "" : t.toLowerCase(Locale.ROOT);
    }

    public String emulator() {
        return text(child(child(root, "devices"), "emulator"));
    }

    public Optional<OwnershipMark> ownershipMark() {
        Element md = child(root, "metadata");
        if (md == null) {
            return Optional.empty();
        }
        for (Element e : children(md)) {
            if (ApiGroup.LIBVIRT_METADATA_NS.equals(e.getNamespaceURI()) && "vm".equals(localName(e))) {
                return Optional.of(new OwnershipMark(attr(e, "namespace"), attr(e, "name"), attr(e, "uid"),
                        attr(e, "host")));
            }
        }
        return Optional.empty();
    }

    /** The spec hash the agent recorded when it defined this XML. */
    public Optional<String> appliedSpecHash() {
        return applied().map(e -> attr(e, "specHash"));
    }

    /**
     * The {@code genidGeneration} the agent stamped this definition with (the Domain spec's when it defined it, or a
     * restore's); empty when not stamped (defined by an older agent, or not by virtfleet).
     */
    public Optional<Long> appliedGenidGeneration() {
        return applied().map(e -> attr(e, "genidGeneration")).filter(v -> !v.isEmpty()).flatMap(v -> {
            try {
                return Optional.of(Long.parseLong(v));
            } catch (NumberFormatException x) {
                return Optional.empty();
            }
        });
    }

    /**
     * The {@link XmlFingerprint} of the spec XML the agent defined (recorded next to the spec hash), so a running
     * domain's live XML says what it started with; null for XML defined before the agent recorded it.
     */
    public Optional<String> appliedFingerprint() {
        return applied().map(e -> attr(e, "fingerprint"));
    }

    /** The agent's bookkeeping element {@code <vfagent:applied .../>} in {@code <metadata>}. */
    private Optional<Element> applied() {
        for (Element e : children(child(root, "metadata"))) {
            if (AGENT_METADATA_NS.equals(e.getNamespaceURI()) && "applied".equals(localName(e))) {
                return Optional.of(e);
            }
        }
        return Optional.empty();
    }

    // ----------------------------------------------------------------------------------------------------- devices

    /** Disks and interfaces as the status reports them: name from a {@code ua-} alias, target, MAC, source. */
    public List<DeviceStatus> devices() {
        List<DeviceStatus> out = new ArrayList<>();
        for (Element e : children(child(root, "devices"))) {
            switch (localName(e)) {
                case "disk" -> {
                    Element src = child(e, "source");
                    String source = src == null ? null : firstAttr(src, "file", "dev", "dir", "volume", "name");
                    out.add(new DeviceStatus(deviceName(e), DeviceStatus.KIND_DISK, attr(child(e, "target"), "dev"),
                            null, source, DeviceStatus.STATE_ATTACHED));
                }
                case "interface" -> {
                    Element src = child(e, "source");
                    String source = src == null ? null : firstAttr(src, "network", "bridge", "dev", "path");
                    out.add(new DeviceStatus(deviceName(e), DeviceStatus.KIND_INTERFACE,
                            attr(child(e, "target"), "dev"), attr(child(e, "mac"), "address"), source,
                            DeviceStatus.STATE_ATTACHED));
                }
                default -> {
                }
            }
        }
        return out;
    }

    private static String deviceName(Element device) {
        String alias = attr(child(device, "alias"), "name");
        if (alias != null && alias.startsWith(ApiGroup.DEVICE_ALIAS_PREFIX)) {
            return alias.substring(ApiGroup.DEVICE_ALIAS_PREFIX.length());
        }
        return null;
    }

    // ------------------------------------------------------------------------------------------------------- paths

    /**
     * Every host path QEMU would open for this domain: disk sources (file, block device, directory), kernel, initrd,
     * dtb, character devices backed by files or UNIX sockets and their log files, filesystem pass-through sources.
     */
    public List<PathRef> hostPaths() {
        List<PathRef> out = new ArrayList<>();
        Element os = child(root, "os");
        for (String el : new String[] {"kernel", "initrd", "dtb"}) {
            String p = text(child(os, el));
            if (p != null) {
                out.add(new PathRef("<os><" + el + ">", p));
            }
        }
        for (Element e : children(child(root, "devices"))) {
            String kind = localName(e);
            switch (kind) {
                case "disk" -> {
                    String target = attr(child(e, "target"), "dev");
                    String where = "<disk" + (target != null ? " target=" + target : "") + ">";
                    for (Element src : childrenNamed(e, "source")) {
                        addPaths(out, where + " source", src, "file", "dev", "dir");
                    }
                    collectBackingStores(e, where, out);
                }
                case "serial", "console", "parallel", "channel" -> {
                    for (Element src : childrenNamed(e, "source")) {
                        addPaths(out, "<" + kind + "> source", src, "path");
                    }
                    addPaths(out, "<" + kind + "> log", child(e, "log"), "file");
                }
                case "filesystem" -> {
                    for (Element src : childrenNamed(e, "source")) {
                        addPaths(out, "<filesystem> source", src, "dir", "file", "socket");
                    }
                }
                default -> {
                }
            }
        }
        return out;
    }

    /** A {@link PathRef} ({@code where attribute}) for each of {@code attributes} set on {@code e}, in that order. */
    private static void addPaths(List<PathRef> out, String where, Element e, String... attributes) {
        for (String a : attributes) {
            String p = attr(e, a);
            if (p != null) {
                out.add(new PathRef(where + " " + a, p));
            }
        }
    }

    /**
     * The files of disks libvirt opens as qcow2 ({@code <driver type='qcow2'>}): their headers may name a backing
     * file, which QEMU would open too.
     */
    public List<String> qcow2DiskFiles() {
        List<String> out = new ArrayList<>();
        for (Element e : deviceElements("disk")) {
            if ("qcow2".equals(attr(child(e, "driver"), "type"))) {
                String file = attr(child(e, "source"), "file");
                if (file != null) {
                    out.add(file);
                }
            }
        }
        return out;
    }

    private static void collectBackingStores(Element el, String where, List<PathRef> out) {
        for (Element bs : childrenNamed(el, "backingStore")) {
            for (Element src : childrenNamed(bs, "source")) {
                addPaths(out, where + " backingStore", src, "file", "dev", "dir");
            }
            collectBackingStores(bs, where, out);
        }
    }

    /** {@code <os><loader>} (firmware, mapped into the guest: readable by it) and {@code <os><nvram>} (written). */
    public List<PathRef> firmwarePaths() {
        List<PathRef> out = new ArrayList<>();
        Element os = child(root, "os");
        String loader = text(child(os, "loader"));
        if (loader != null) {
            out.add(new PathRef("<os><loader>", loader));
        }
        String nvram = text(child(os, "nvram"));
        if (nvram != null) {
            out.add(new PathRef("<os><nvram>", nvram));
        }
        return out;
    }

    /** The {@code <bootloader>} host program (Xen PV: pygrub), or null. */
    public String bootloader() {
        return text(child(root, "bootloader"));
    }

    /** Host programs an interface would make libvirt run ({@code <script path>}, {@code <downscript path>}). */
    public List<PathRef> interfaceScripts() {
        List<PathRef> out = new ArrayList<>();
        for (Element e : deviceElements("interface")) {
            for (String el : new String[] {"script", "downscript"}) {
                String p = attr(child(e, el), "path");
                if (p != null) {
                    out.add(new PathRef("<interface><" + el + ">", p));
                }
            }
        }
        return out;
    }

    /**
     * The {@code type} of each {@code <graphics>} device, in document order: libvirt's
     * {@code virDomainOpenGraphics} takes a position in this list ({@code idx}, counting every graphics device of
     * the domain whatever its type), so the VNC display's index is {@code graphicsTypes().indexOf("vnc")}.
     */
    public List<String> graphicsTypes() {
        List<String> out = new ArrayList<>();
        for (Element g : deviceElements("graphics")) {
            out.add(g.getAttribute("type"));
        }
        return out;
    }

    /**
     * Remote displays (vnc, spice, rdp) that could listen on a routable address, as messages. A display must listen on
     * a UNIX socket, on nothing ({@code type='none'}), or on an explicit loopback address: a {@code <listen>} without an
     * address, a {@code type='network'} listen or a bare {@code <graphics>} takes qemu.conf's vnc_listen/spice_listen
     * or the network's address, which may be 0.0.0.0, and VNC and SPICE authenticate nobody.
     */
    public List<String> routableDisplays() {
        List<String> out = new ArrayList<>();
        for (Element g : deviceElements("graphics")) {
            String type = g.getAttribute("type");
            if (!type.equals("vnc") && !type.equals("spice") && !type.equals("rdp")) {
                continue;
            }
            String where = "<graphics type='" + type + "'>";
            String attr = g.hasAttribute("listen") ? g.getAttribute("listen") : null;
            List<Element> listens = childrenNamed(g, "listen");
            if (attr != null && !isLoopback(attr)) {
                out.add(where + " listen='" + attr + "': a display may listen only on a UNIX socket or on loopback "
                        + "(127.0.0.1, ::1)");
            }
            if (listens.isEmpty() && attr == null && !g.hasAttribute("socket")) {
                out.add(where + " has no <listen>: it would take qemu.conf's default address; use <listen "
                        + "type='socket'/> or <listen type='address' address='127.0.0.1'/>");
            }
            for (Element l : listens) {
                String lt = l.getAttribute("type");
                String address = l.hasAttribute("address") ? l.getAttribute("address") : null;
                boolean ok = switch (lt) {
                    case "socket", "none" -> true;
                    case "address" -> address != null && isLoopback(address);
                    default -> false;
                };
                if (!ok) {
                    out.add(where + "<listen type='" + lt + "'" + (address != null ? " address='" + address + "'"
                            : "") + ">: a display may listen only on a UNIX socket (type='socket'), nowhere "
                            + "(type='none') or on an explicit loopback address (127.0.0.1, ::1)");
                }
            }
        }
        return out;
    }

    private static boolean isLoopback(String address) {
        return address.equals("::1") || address.equals("localhost")
                || (address.startsWith("127.") && address.matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}"));
    }

    /** Disk source types other than file/block/dir/network (which the agent cannot check), as messages. */
    public List<String> uncheckableDisks() {
        List<String> out = new ArrayList<>();
        for (Element e : deviceElements("disk")) {
            String t = e.getAttribute("type");
            if (!t.isEmpty() && !List.of("file", "block", "dir", "network").contains(t)) {
                out.add("<disk type='" + t + "' target=" + attr(child(e, "target"), "dev")
                        + ">: only file, block, dir and network disks are allowed");
            }
        }
        return out;
    }

    /** Elements in QEMU's pass-through namespace (arbitrary command-line arguments), by name. */
    public List<String> qemuPassthroughElements() {
        List<String> out = new ArrayList<>();
        NodeList all = doc.getElementsByTagNameNS(QEMU_NS, "*");
        for (int i = 0; i < all.getLength(); i++) {
            Element e = (Element) all.item(i);
            if (e.getParentNode() == root) {
                out.add("<" + e.getTagName() + ">");
            }
        }
        return out;
    }

    // ---------------------------------------------------------------------------------------------------- rewriting

    /**
     * This XML with the agent's bookkeeping: {@code <vfagent:applied specHash=".."/>} in {@code <metadata>} and, when
     * {@code genid} is non-empty, {@code <genid>genid</genid>}.
     */
    public String withAgentMetadata(String specHash, String genid) {
        return withAgentMetadata(specHash, genid, null);
    }

    /**
     * As {@link #withAgentMetadata(String, String)}, stamping {@code genidGeneration} too (when not null): the
     * generation of the genid this definition carries, which no later definition may lower.
     */
    public String withAgentMetadata(String specHash, String genid, Long genidGeneration) {
        Document copy = (Document) doc.cloneNode(true);
        Element r = copy.getDocumentElement();
        if (genid != null && !genid.isBlank()) {
            Element g = child(r, "genid");
            if (g == null) {
                g = copy.createElement("genid");
                Element uuid = child(r, "uuid");
                Element name = child(r, "name");
                Node after = uuid != null ? uuid : name;
                r.insertBefore(g, after != null ? after.getNextSibling() : r.getFirstChild());
            }
            g.setTextContent(genid);
        }
        Element md = child(r, "metadata");
        if (md == null) {
            md = copy.createElement("metadata");
            Element anchor = null;
            for (String n : new String[] {"description", "title", "genid", "uuid", "name"}) {
                anchor = child(r, n);
                if (anchor != null) {
                    break;
                }
            }
            r.insertBefore(md, anchor != null ? anchor.getNextSibling() : r.getFirstChild());
        }
        for (Element e : children(md)) {
            if (AGENT_METADATA_NS.equals(e.getNamespaceURI())) {
                md.removeChild(e);
            }
        }
        Element applied = copy.createElementNS(AGENT_METADATA_NS, AGENT_METADATA_PREFIX + ":applied");
        applied.setAttribute("specHash", specHash);
        if (genidGeneration != null) {
            applied.setAttribute("genidGeneration", Long.toString(genidGeneration));
        }
        try {
            applied.setAttribute("fingerprint", fingerprint());
        } catch (IllegalArgumentException e) {
            // no fingerprint: RestartRequired falls back to comparing spec hashes
        }
        md.appendChild(applied);
        return serialize(copy);
    }

    /**
     * A copy of the parsed DOM, for rewrites that must keep everything in the document (the destination XML of a
     * live migration); {@link #serialize} writes it back.
     */
    public Document copyOfDom() {
        return (Document) doc.cloneNode(true);
    }

    /** A DOM document as text libvirt reads (no XML declaration). */
    public static String serialize(Document d) {
        try {
            TransformerFactory tf = TransformerFactory.newInstance();
            tf.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            Transformer t = tf.newTransformer();
            t.setOutputProperty(OutputKeys.OMIT_XML_DECLARATION, "yes");
            StringWriter w = new StringWriter();
            t.transform(new DOMSource(d), new StreamResult(w));
            return w.toString();
        } catch (TransformerException e) {
            throw new IllegalStateException("cannot serialize domain XML", e);
        }
    }

    // ----------------------------------------------------------------------------------------------------- helpers

    /** The {@code <devices>} children named {@code name}, in document order (none without {@code <devices>}). */
    private List<Element> deviceElements(String name) {
        return childrenNamed(child(root, "devices"), name);
    }

    private static String localName(Node n) {
        return n.getLocalName() != null ? n.getLocalName() : n.getNodeName();
    }

    private static Element child(Element parent, String name) {
        if (parent == null) {
            return null;
        }
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && e.getNamespaceURI() == null && name.equals(localName(e))) {
                return e;
            }
        }
        return null;
    }

    private static List<Element> children(Element parent) {
        List<Element> out = new ArrayList<>();
        if (parent == null) {
            return out;
        }
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e) {
                out.add(e);
            }
        }
        return out;
    }

    private static List<Element> childrenNamed(Element parent, String name) {
        List<Element> out = new ArrayList<>();
        for (Element e : children(parent)) {
            if (e.getNamespaceURI() == null && name.equals(localName(e))) {
                out.add(e);
            }
        }
        return out;
    }

    private static String text(Element e) {
        if (e == null) {
            return null;
        }
        String t = e.getTextContent().strip();
        return t.isEmpty() ? null : t;
    }

    private static String attr(Element e, String name) {
        if (e == null || !e.hasAttribute(name)) {
            return null;
        }
        return e.getAttribute(name);
    }

    private static String firstAttr(Element e, String... names) {
        for (String n : names) {
            String v = attr(e, n);
            if (v != null) {
                return v;
            }
        }
        return null;
    }
}
