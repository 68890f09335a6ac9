package io.virtfleet.agent.libvirt;

import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;
import org.xml.sax.InputSource;

import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilderFactory;
import java.io.StringReader;
import java.util.Set;
import java.util.TreeSet;

/**
 * The parts of {@code virConnectGetCapabilities} the agent uses: the domain types libvirt offers (qemu, kvm, ...) and
 * the emulator binaries of its guests.
 *
 * @param domainTypes values of {@code <guest><arch><domain type=..>}
 * @param emulators   {@code <emulator>} paths of the guests and their domain types
 */
public record Capabilities(Set<String> domainTypes, Set<String> emulators) {
    public static Capabilities parse(String xml) {
        Set<String> types = new TreeSet<>();
        Set<String> emulators = new TreeSet<>();
        try {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            var b = f.newDocumentBuilder();
            b.setErrorHandler(null);
            Document d = b.parse(new InputSource(new StringReader(xml)));
            NodeList guests = d.getElementsByTagName("guest");
            for (int i = 0; i < guests.getLength(); i++) {
                Element g = (Element) guests.item(i);
                NodeList doms = g.getElementsByTagName("domain");
                for (int j = 0; j < doms.getLength(); j++) {
                    String t = ((Element) doms.item(j)).getAttribute("type");
                    if (!t.isEmpty()) {
                        types.add(t);
                    }
                }
                NodeList ems = g.getElementsByTagName("emulator");
                for (int j = 0; j < ems.getLength(); j++) {
                    String e = ems.item(j).getTextContent().strip();
                    if (!e.isEmpty()) {
                        emulators.add(e);
                    }
                }
            }
        } catch (Exception e) {
            throw new IllegalArgumentException("cannot parse libvirt capabilities XML: " + e.getMessage(), e);
        }
        return new Capabilities(Set.copyOf(types), Set.copyOf(emulators));
    }
}
