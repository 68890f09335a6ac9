package io.virtfleet.reconcilers.testing;

import org.w3c.dom.Attr;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NamedNodeMap;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;
import org.xml.sax.InputSource;

import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.xpath.XPathConstants;
import javax.xml.xpath.XPathFactory;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;

/** DOM helpers for asserting on rendered XML independently of the Jackson model that produced it. */
public final class Xml {
    private Xml() {
    }

    public static Document parse(String xml) {
        try {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setNamespaceAware(true);
            f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            return f.newDocumentBuilder().parse(new InputSource(new StringReader(xml)));
        } catch (Exception e) {
            throw new AssertionError("not well-formed XML: " + e.getMessage() + "\n" + xml, e);
        }
    }

    /** The string values of the nodes an XPath selects (use local-name() for namespaced elements). */
    public static List<String> values(String xml, String xpath) {
        try {
            NodeList nodes = (NodeList) XPathFactory.newInstance().newXPath()
                    .evaluate(xpath, parse(xml), XPathConstants.NODESET);
            List<String> out = new ArrayList<>();
            for (int i = 0; i < nodes.getLength(); i++) {
                out.add(nodes.item(i).getTextContent());
            }
            return out;
        } catch (Exception e) {
            throw new AssertionError("bad XPath " + xpath, e);
        }
    }

    public static int count(String xml, String xpath) {
        return values(xml, xpath).size();
    }

    /**
     * Differences between two element trees: element names and namespaces, attributes, text, and children in order.
     * Whitespace-only text and comments are ignored; elements matching {@code ignore} are removed from both sides
     * first. Paths in the messages are like /domain/devices/disk[2]/target.
     */
    public static List<String> differences(Element expected, Element actual, Predicate<Element> ignore) {
        List<String> out = new ArrayList<>();
        compare(expected, actual, "/" + expected.getLocalName(), ignore, out);
        return out;
    }

    private static void compare(Element e, Element a, String path, Predicate<Element> ignore, List<String> out) {
        if (!e.getLocalName().equals(a.getLocalName()) || !same(e.getNamespaceURI(), a.getNamespaceURI())) {
            out.add(path + ": expected element {" + e.getNamespaceURI() + "}" + e.getLocalName() + ", got {"
                    + a.getNamespaceURI() + "}" + a.getLocalName());
            return;
        }
        Map<String, String> ea = attributes(e);
        Map<String, String> aa = attributes(a);
        if (!ea.equals(aa)) {
            out.add(path + ": expected attributes " + ea + ", got " + aa);
        }
        String et = text(e);
        String at = text(a);
        if (!et.equals(at)) {
            out.add(path + ": expected text '" + et + "', got '" + at + "'");
        }
        List<Element> ec = children(e, ignore);
        List<Element> ac = children(a, ignore);
        Map<String, Integer> seen = new TreeMap<>();
        for (int i = 0; i < Math.max(ec.size(), ac.size()); i++) {
            Element x = i < ec.size() ? ec.get(i) : null;
            Element y = i < ac.size() ? ac.get(i) : null;
            String name = (x != null ? x : y).getLocalName();
            int n = seen.merge(name, 1, Integer::sum);
            String p = path + "/" + name + "[" + n + "]";
            if (x == null) {
                out.add(p + ": unexpected element " + describe(y));
            } else if (y == null) {
                out.add(p + ": missing element " + describe(x));
            } else {
                compare(x, y, p, ignore, out);
            }
        }
    }

    private static boolean same(String a, String b) {
        return a == null ? b == null : a.equals(b);
    }

    private static String describe(Element e) {
        return "<" + e.getLocalName() + " " + attributes(e) + ">";
    }

    private static Map<String, String> attributes(Element e) {
        Map<String, String> m = new TreeMap<>();
        NamedNodeMap attrs = e.getAttributes();
        for (int i = 0; i < attrs.getLength(); i++) {
            Attr a = (Attr) attrs.item(i);
            if (!XMLConstants.XMLNS_ATTRIBUTE_NS_URI.equals(a.getNamespaceURI())) {
                m.put(a.getLocalName(), a.getValue());
            }
        }
        return m;
    }

    private static String text(Element e) {
        StringBuilder b = new StringBuilder();
        for (Node n = e.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n.getNodeType() == Node.TEXT_NODE || n.getNodeType() == Node.CDATA_SECTION_NODE) {
                b.append(n.getNodeValue());
            }
        }
        return b.toString().strip();
    }

    private static List<Element> children(Element e, Predicate<Element> ignore) {
        List<Element> out = new ArrayList<>();
        for (Node n = e.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element c && !ignore.test(c)) {
                out.add(c);
            }
        }
        return out;
    }
}
