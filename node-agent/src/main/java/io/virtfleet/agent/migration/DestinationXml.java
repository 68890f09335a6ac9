package io.virtfleet.agent.migration;

import io.virtfleet.reconcilers.domain.xml.DomainDocument;
import io.virtfleet.api.v1alpha1.ApiGroup;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NamedNodeMap;
import org.w3c.dom.Node;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The destination XML of a live migration ({@code VIR_MIGRATE_PARAM_DEST_XML}): the running domain's migratable XML
 * ({@code VIR_DOMAIN_XML_MIGRATABLE}: what libvirt's ABI stability check compares — devices, addresses, genid, uuid
 * stay exactly as they run) with what belongs to the host rewritten from the XML the operator rendered for the target:
 * the libvirt name (the target's domain prefix; returned for {@code VIR_MIGRATE_PARAM_DEST_NAME}, the XML keeps the
 * source's as the ABI check requires), virtfleet's ownership mark in {@code <metadata>} (naming the
 * target host, so the target agent adopts the domain and the source agent would never touch it again), and the
 * per-host file paths of character devices (serial console log, guest channel socket), which embed the domain name.
 * Distinct paths matter on hosts that share a directory: the source QEMU removes its UNIX socket when it exits,
 * which would take the destination's away if both used one path. Pure.
 */
public final class DestinationXml {
    private static final List<String> CHARDEVS = List.of("serial", "console", "channel", "parallel");

    private DestinationXml() {
    }

    /** The rewritten XML and the destination's libvirt name ({@code VIR_MIGRATE_PARAM_DEST_NAME}). */
    public record Result(String xml, String name) {
    }

    public static Result rewrite(String liveXml, String targetXml) {
        Document live = parse(liveXml);
        Document target = parse(targetXml);
        Element lr = live.getDocumentElement();
        Element tr = target.getDocumentElement();
        String name = text(child(tr, "name"));
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("the target's domain XML has no <name>");
        }
        // <name> stays the source's: libvirt's ABI check refuses a destination XML with another name ("Target domain
        // name ... does not match source"); VIR_MIGRATE_PARAM_DEST_NAME renames the domain on the target.
        Element ln = child(lr, "name");

        Element tmark = mark(tr);
        if (tmark == null) {
            throw new IllegalArgumentException("the target's domain XML has no virtfleet ownership mark");
        }
        Element lmd = child(lr, "metadata");
        if (lmd == null) {
            lmd = live.createElement("metadata");
            lr.insertBefore(lmd, ln.getNextSibling());
        }
        Element lmark = mark(lr);
        Node imported = live.importNode(tmark, true);
        if (lmark != null) {
            lmd.replaceChild(imported, lmark);
        } else {
            lmd.appendChild(imported);
        }

        // Per-host paths of character devices, paired by kind and position (the same renderer made both).
        Map<String, String> paths = new HashMap<>();
        Element ld = child(lr, "devices");
        Element td = child(tr, "devices");
        if (ld != null && td != null) {
            for (String kind : CHARDEVS) {
                List<Element> ls = children(ld, kind);
                List<Element> ts = children(td, kind);
                for (int i = 0; i < Math.min(ls.size(), ts.size()); i++) {
                    pair(child(ls.get(i), "source"), child(ts.get(i), "source"), "path", paths);
                    pair(child(ls.get(i), "log"), child(ts.get(i), "log"), "file", paths);
                }
            }
            // Apply everywhere in <devices> (a serial's <console> repeats its source and log).
            replaceAttributes(ld, paths);
        }
        return new Result(serialize(live), name);
    }

    private static void pair(Element l, Element t, String attr, Map<String, String> out) {
        if (l == null || t == null) {
            return;
        }
        String from = l.getAttribute(attr);
        String to = t.getAttribute(attr);
        // A pty's path is allocated by libvirt (/dev/pts/N) and never rendered: nothing to carry over.
        if (!from.isEmpty() && !to.isEmpty() && !from.startsWith("/dev/")) {
            out.put(from, to);
        }
    }

    private static void replaceAttributes(Element e, Map<String, String> paths) {
        NamedNodeMap attrs = e.getAttributes();
        for (int i = 0; i < attrs.getLength(); i++) {
            Node a = attrs.item(i);
            String to = paths.get(a.getNodeValue());
            if (to != null && ("path".equals(a.getNodeName()) || "file".equals(a.getNodeName()))) {
                a.setNodeValue(to);
            }
        }
        for (Element c : children(e, null)) {
            replaceAttributes(c, paths);
        }
    }

    private static Element mark(Element root) {
        Element md = child(root, "metadata");
        if (md == null) {
            return null;
        }
        for (Element e : children(md, null)) {
            if (ApiGroup.LIBVIRT_METADATA_NS.equals(e.getNamespaceURI()) && "vm".equals(e.getLocalName())) {
                return e;
            }
        }
        return null;
    }

    private static Element child(Element parent, String name) {
        List<Element> c = children(parent, name);
        return c.isEmpty() ? null : c.get(0);
    }

    private static List<Element> children(Element parent, String name) {
        List<Element> out = new ArrayList<>();
        if (parent == null) {
            return out;
        }
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && (name == null || name.equals(localName(e)))) {
                out.add(e);
            }
        }
        return out;
    }

    private static String localName(Element e) {
        return e.getLocalName() != null ? e.getLocalName() : e.getTagName();
    }

    private static String text(Element e) {
        return e == null ? null : e.getTextContent().trim();
    }

    /** Parsed by the one reader of domain XML, as a DOM of its own to rewrite. */
    private static Document parse(String xml) {
        try {
            return DomainDocument.parse(xml).copyOfDom();
        } catch (DomainDocument.InvalidXmlException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    private static String serialize(Document d) {
        return DomainDocument.serialize(d);
    }
}
