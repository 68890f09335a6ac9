package io.virtfleet.reconcilers.lifecycle;

import io.virtfleet.reconcilers.domain.xml.DomainDocument;
import org.w3c.dom.Attr;
import org.w3c.dom.Element;
import org.w3c.dom.NamedNodeMap;
import org.w3c.dom.Node;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A compact digest of a libvirt domain XML, one short hash per top-level element ({@code memory:3f2a9c01d4e5,...}),
 * so the operator can remember what a running domain was started with (in a Domain annotation) and name what changed
 * since: a change there needs a restart to take effect.
 *
 * <p>Left out, because they change without a restart or are managed apart: {@code metadata}, {@code title},
 * {@code description} (live-updatable) and {@code genid} (rendered as {@code <genid/>} before libvirt reports the
 * generated value; its changes are driven by restore/clone/failover, which restart explicitly).
 *
 * <p>{@code devices} is split: each disk and interface has its own entry (by alias); adding or removing one, or
 * changing a cdrom's media, is done live by the agent and is not a change here, while changing one in place
 * (bus, source of a disk, NIC model) is. Everything else under {@code devices} is one entry.
 */
public final class XmlFingerprint {
    /** Top-level elements whose changes never need a restart. */
    public static final Set<String> IGNORED = Set.of("metadata", "title", "description", "genid");

    private XmlFingerprint() {
    }

    /** The fingerprint of a domain XML; throws IllegalArgumentException when it does not parse. */
    public static String of(String domainXml) {
        // A reconcile fingerprints the freshly rendered XML and the Domain's, usually the same text: remember the
        // last few (a DOM parse per call was a top item in the operator's resync profile, bench/RESULTS.md).
        if (domainXml != null) {
            synchronized (RECENT) {
                String known = RECENT.get(domainXml);
                if (known != null) {
                    return known;
                }
            }
        }
        String fingerprint = compute(domainXml);
        synchronized (RECENT) {
            RECENT.put(domainXml, fingerprint);
        }
        return fingerprint;
    }

    private static final int RECENT_SIZE = 64;
    private static final Map<String, String> RECENT = new LinkedHashMap<>(RECENT_SIZE * 2, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
            return size() > RECENT_SIZE;
        }
    };

    private static String compute(String domainXml) {
        if (domainXml == null || domainXml.isBlank()) {
            throw new IllegalArgumentException("empty domain XML");
        }
        try {
            return DomainDocument.parse(domainXml).fingerprint();
        } catch (DomainDocument.InvalidXmlException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    /** The fingerprint of a parsed document's {@code <domain>} element ({@link DomainDocument#fingerprint()}). */
    public static String of(Element root) {
        Map<String, StringBuilder> parts = new LinkedHashMap<>();
        StringBuilder attrs = new StringBuilder();
        appendAttributes(root, attrs);
        parts.put("@", attrs);
        for (Node n = root.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && e.getTagName().equals("devices")) {
                devices(e, parts);
            } else if (n instanceof Element e && !IGNORED.contains(e.getTagName())) {
                canonical(e, parts.computeIfAbsent(e.getTagName(), k -> new StringBuilder()));
            }
        }
        StringBuilder out = new StringBuilder();
        for (Map.Entry<String, StringBuilder> p : parts.entrySet()) {
            if (out.length() > 0) {
                out.append(',');
            }
            out.append(p.getKey()).append(':').append(hash(p.getValue().toString()));
        }
        return out.toString();
    }

    /**
     * The top-level elements that differ between two fingerprints (changed, added or removed), in the order of
     * {@code newer}; {@code @} stands for the attributes of {@code <domain>} (e.g. its type). Empty when either is
     * null or blank (nothing known).
     */
    public static List<String> changed(String older, String newer) {
        if (older == null || older.isBlank() || newer == null || newer.isBlank()) {
            return List.of();
        }
        Map<String, String> a = split(older);
        Map<String, String> b = split(newer);
        Set<String> keys = new LinkedHashSet<>(b.keySet());
        keys.addAll(a.keySet());
        List<String> out = new ArrayList<>();
        for (String k : keys) {
            if (isHotPluggable(k) && (!a.containsKey(k) || !b.containsKey(k))) {
                continue; // a disk or interface attached or detached live
            }
            if (!java.util.Objects.equals(a.get(k), b.get(k))) {
                out.add(k.equals("@") ? "domain attributes" : k);
            }
        }
        return out;
    }

    /**
     * {@code <devices>} without its disks and interfaces, plus one entry per disk ({@code disk[ua-root]}) and
     * interface ({@code interface[ua-default]}), keyed by alias (else target dev, else MAC). A cdrom's media is left
     * out of its entry: it changes live.
     */
    private static void devices(Element devices, Map<String, StringBuilder> parts) {
        StringBuilder rest = parts.computeIfAbsent("devices", k -> new StringBuilder());
        rest.append("<devices>");
        for (Node n = devices.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (!(n instanceof Element c)) {
                continue;
            }
            String tag = c.getTagName();
            if (!tag.equals("disk") && !tag.equals("interface")) {
                canonical(c, rest);
                continue;
            }
            String id = childAttr(c, "alias", "name");
            if (id == null) {
                id = childAttr(c, "target", "dev");
            }
            if (id == null) {
                id = childAttr(c, "mac", "address");
            }
            StringBuilder sb = parts.computeIfAbsent(tag + "[" + id + "]", k -> new StringBuilder());
            Element copy = (Element) c.cloneNode(true);
            if ("cdrom".equals(c.getAttribute("device"))) {
                for (Node x = copy.getFirstChild(); x != null; ) {
                    Node next = x.getNextSibling();
                    if (x instanceof Element xe && xe.getTagName().equals("source")) {
                        copy.removeChild(x);
                    }
                    x = next;
                }
            }
            canonical(copy, sb);
        }
        rest.append("</devices>");
    }

    private static String childAttr(Element e, String child, String attr) {
        for (Node n = e.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element c && c.getTagName().equals(child) && c.hasAttribute(attr)) {
                return c.getAttribute(attr);
            }
        }
        return null;
    }

    /** Fingerprint keys of single disks and interfaces: adding or removing one is done live. */
    static boolean isHotPluggable(String key) {
        return key.startsWith("disk[") || key.startsWith("interface[");
    }

    private static Map<String, String> split(String fingerprint) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String part : fingerprint.split(",")) {
            int colon = part.lastIndexOf(':');
            if (colon > 0) {
                m.put(part.substring(0, colon), part.substring(colon + 1));
            }
        }
        return m;
    }

    private static void canonical(Element e, StringBuilder sb) {
        sb.append('<').append(e.getTagName());
        appendAttributes(e, sb);
        sb.append('>');
        for (Node n = e.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element c) {
                canonical(c, sb);
            } else if (n.getNodeType() == Node.TEXT_NODE || n.getNodeType() == Node.CDATA_SECTION_NODE) {
                String t = n.getNodeValue().strip();
                if (!t.isEmpty()) {
                    sb.append(t.replace("&", "&amp;").replace("<", "&lt;"));
                }
            }
        }
        sb.append("</").append(e.getTagName()).append('>');
    }

    private static void appendAttributes(Element e, StringBuilder sb) {
        NamedNodeMap attrs = e.getAttributes();
        Map<String, String> sorted = new TreeMap<>();
        for (int i = 0; i < attrs.getLength(); i++) {
            Attr a = (Attr) attrs.item(i);
            if (!a.getName().startsWith("xmlns")) {
                sorted.put(a.getName(), a.getValue());
            }
        }
        sorted.forEach((k, v) -> sb.append(' ').append(k).append("=\"").append(v.replace("\"", "&quot;")).append('"'));
    }

    private static String hash(String s) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 6);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
