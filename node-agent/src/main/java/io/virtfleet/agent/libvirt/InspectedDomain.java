package io.virtfleet.agent.libvirt;

import io.virtfleet.api.v1alpha1.DomainState;
import io.virtfleet.reconcilers.domain.xml.DomainDocument;

import java.util.Objects;

/**
 * One libvirt domain as {@link LibvirtConnection#inspect} read it in one go: identity, {@code virDomainGetState}'s
 * state and reason (numbers of libvirt's {@code virDomainState} and its reason enums, named by crds'
 * {@code DomainState}), and both XML descriptions ({@code virDomainGetXMLDesc} live, and with
 * {@code VIR_DOMAIN_XML_INACTIVE} the persistent config; null for a transient domain), each parsed at most once into
 * reconcilers' {@link DomainDocument} on first use. Unlike libvirt-java's {@code org.libvirt.DomainInfo}
 * ({@code virDomainGetInfo}: state, memory, vCPUs, CPU time) it carries the reason and the XML the agent observes and
 * plans from. Both XMLs are null when the domain vanished while being read.
 */
public record InspectedDomain(String uuid, String name, int id, int state, int reason, boolean active,
                              boolean persistent, String liveXml, String inactiveXml, Documents documents) {
    /** The UUID libvirt's libxl driver reports for Xen's Domain-0. */
    public static final String CONTROL_DOMAIN_UUID = "00000000-0000-0000-0000-000000000000";

    public InspectedDomain(String uuid, String name, int id, int state, int reason, boolean active,
                           boolean persistent, String liveXml, String inactiveXml) {
        this(uuid, name, id, state, reason, active, persistent, liveXml, inactiveXml,
                new Documents(liveXml, inactiveXml));
    }

    /**
     * A domain as libvirt reported it in separate calls (its state first, then the active flag and the id): a domain
     * whose state is shut off is not running, whatever the later calls said, and the id of a domain that is not running
     * is -1. libvirt's libxl driver marks a domain shut off as soon as Xen reports its shutdown and keeps its id (so
     * {@code virDomainIsActive} stays 1) until it has torn the domain down in {@code libxlDomainCleanup}, which takes
     * seconds in a loaded dom0; QEMU's driver changes both at once.
     */
    public static InspectedDomain observed(String uuid, String name, int id, int state, int reason, boolean active,
                                           boolean persistent, String liveXml, String inactiveXml) {
        boolean running = active && state != DomainState.SHUTOFF.code();
        return new InspectedDomain(uuid, name, running ? id : -1, state, reason, running, persistent, liveXml,
                inactiveXml);
    }

    /** The XML that describes what runs now (live when active, else the persistent config). */
    public String currentXml() {
        return active && liveXml != null ? liveXml : inactiveXml != null ? inactiveXml : liveXml;
    }

    /** {@link #liveXml()} parsed (once); null when absent or not parseable ({@link #parseProblem()} says why). */
    public DomainDocument live() {
        return documents.live().doc();
    }

    /** {@link #inactiveXml()} parsed (once); the same document as {@link #live()} when both XMLs are equal. */
    public DomainDocument inactive() {
        return documents.inactive().doc();
    }

    /** {@link #currentXml()} parsed: the same document as {@link #live()} or {@link #inactive()}. */
    public DomainDocument current() {
        String x = currentXml();
        return x == null ? null : x == liveXml ? live() : inactive();
    }

    /** Why the current XML did not parse; null when it parsed or is absent. */
    public String parseProblem() {
        String x = currentXml();
        return x == null ? null : (x == liveXml ? documents.live() : documents.inactive()).problem();
    }

    /**
     * Xen's control domain (Domain-0): libvirt's libxl driver lists it with id 0 and the nil UUID. It is the host
     * itself, never a guest: nothing lists, adopts, fences or changes it. (QEMU's ids start at 1.)
     */
    public boolean isControlDomain() {
        return id == 0 || CONTROL_DOMAIN_UUID.equals(uuid);
    }

    /** The two XMLs' parses, made on first use and kept. */
    public static final class Documents {
        private final String liveXml;
        private final String inactiveXml;
        private Parsed live;
        private Parsed inactive;

        Documents(String liveXml, String inactiveXml) {
            this.liveXml = liveXml;
            this.inactiveXml = inactiveXml;
        }

        synchronized Parsed live() {
            if (live == null) {
                live = Parsed.of(liveXml);
            }
            return live;
        }

        synchronized Parsed inactive() {
            if (inactive == null) {
                inactive = Objects.equals(inactiveXml, liveXml) ? live() : Parsed.of(inactiveXml);
            }
            return inactive;
        }
    }

    /** A parse with its outcome: the document, or null with why it did not parse (null problem: no XML). */
    record Parsed(DomainDocument doc, String problem) {
        static Parsed of(String xml) {
            if (xml == null) {
                return new Parsed(null, null);
            }
            try {
                return new Parsed(DomainDocument.parse(xml), null);
            } catch (DomainDocument.InvalidXmlException e) {
                return new Parsed(null, e.getMessage());
            }
        }
    }
}
