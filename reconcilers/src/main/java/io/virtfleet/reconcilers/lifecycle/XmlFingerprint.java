package io.virtfleet.reconcilers.lifecycle;

import org.w3c.dom.Attr;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NamedNodeMap;
import org.w3c.dom.Node;
import org.xml.sax.InputSource;

import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import java.io.StringReader;
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
 * <p>{@code devices} is one entry for now: disk and interface changes count as needing a restart until hot-plug
 * lands. TODO(hot-plug): fingerprint devices one by one (by alias) and leave hot-pluggable ones to the agent.
 */
public final class XmlFingerprint {
    /** Top-level elements whose changes never need a restart. */
    public static final Set<String> IGNORED = Set.of("metadata", "title", "description", "genid");

    private XmlFingerprint() {
    }

    /** The fingerprint of a domain XML; throws IllegalArgumentException when it does not parse. */
    public static String of(String domainXml) {
        Element root = parse(domainXml).getDocumentElement();
        Map<String, StringBuilder> parts = new LinkedHashMap<>();
        StringBuilder attrs = new StringBuilder();
        appendAttributes(root, attrs);
        parts.put("@", attrs);
        for (Node n = root.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && !IGNORED.contains(e.getTagName())) {
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
            if (!java.util.Objects.equals(a.get(k), b.get(k))) {
                out.add(k.equals("@") ? "domain attributes" : k);
            }
        }
        return out;
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

    private static Document parse(String xml) {
        if (xml == null || xml.isBlank()) {
            throw new IllegalArgumentException("empty domain XML");
        }
        try {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setNamespaceAware(false);
            f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            f.setExpandEntityReferences(false);
            DocumentBuilder b = f.newDocumentBuilder();
            b.setErrorHandler(new org.xml.sax.helpers.DefaultHandler() {
                @Override
                public void error(org.xml.sax.SAXParseException e) throws org.xml.sax.SAXParseException {
                    throw e;
                }
            });
            return b.parse(new InputSource(new StringReader(xml)));
        } catch (Exception e) {
            throw new IllegalArgumentException("domain XML does not parse: " + e.getMessage(), e);
        }
    }
}
