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
 * The parts of {@code virConnectGetCapabilities} the agent uses: the domain types libvirt offers (qemu, kvm, ...),
 * the emulator binaries of its guests, and which kinds of guest (os types) each domain type runs.
 *
 * @param domainTypes values of {@code <guest><arch><domain type=..>}
 * @param emulators   {@code <emulator>} paths of the guests and their domain types
 * @param guests      {@code domainType/osType} of every guest, e.g. {@code xen/xen} (a Xen PV guest) and
 *                    {@code xen/hvm}, which libxl lists only where the CPU has hardware virtualization
 */
public record Capabilities(Set<String> domainTypes, Set<String> emulators, Set<String> guests) {
    public Capabilities(Set<String> domainTypes, Set<String> emulators) {
        this(domainTypes, emulators, Set.of());
    }

    /** Whether libvirt runs guests of this os type ({@code hvm}, {@code xen}, {@code exe}) with this domain type. */
    public boolean runs(String domainType, String osType) {
        return guests.contains(domainType + "/" + osType);
    }

    /**
     * libvirt's capabilities XML ({@code virConnectGetCapabilities}) as a DOM, read without DTDs; the one parse of
     * it, for {@link #parse} and the host CPU ({@code HostFacts.cpu}).
     *
     * @throws IllegalArgumentException when it does not parse
     */
    public static Document document(String capabilitiesXml) {
        try {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            var b = f.newDocumentBuilder();
            b.setErrorHandler(null);
            return b.parse(new InputSource(new StringReader(capabilitiesXml)));
        } catch (Exception e) {
            throw new IllegalArgumentException("cannot parse libvirt capabilities XML: " + e.getMessage(), e);
        }
    }

    public static Capabilities parse(String xml) {
        Set<String> types = new TreeSet<>();
        Set<String> emulators = new TreeSet<>();
        Set<String> guestKinds = new TreeSet<>();
        Document d = document(xml);
        NodeList guests = d.getElementsByTagName("guest");
        for (int i = 0; i < guests.getLength(); i++) {
            Element g = (Element) guests.item(i);
            NodeList os = g.getElementsByTagName("os_type");
            String osType = os.getLength() == 0 ? "" : os.item(0).getTextContent().strip();
            NodeList doms = g.getElementsByTagName("domain");
            for (int j = 0; j < doms.getLength(); j++) {
                String t = ((Element) doms.item(j)).getAttribute("type");
                if (!t.isEmpty()) {
                    types.add(t);
                    if (!osType.isEmpty()) {
                        guestKinds.add(t + "/" + osType);
                    }
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
        return new Capabilities(Set.copyOf(types), Set.copyOf(emulators), Set.copyOf(guestKinds));
    }
}
