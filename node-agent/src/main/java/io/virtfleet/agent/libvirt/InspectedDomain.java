package io.virtfleet.agent.libvirt;

import io.virtfleet.reconcilers.domain.xml.DomainDocument;

import java.util.Objects;

/**
 * One libvirt domain as {@link LibvirtConnection#inspect} read it in one go: identity, {@code virDomainGetState}'s
 * state and reason (numbers of libvirt's {@code virDomainState} and its reason enums, named by crds'
 * {@code DomainState}), and both XML descriptions, each parsed at most once into reconcilers' {@link DomainDocument}
 * on first use. Unlike libvirt-java's {@code org.libvirt.DomainInfo} ({@code virDomainGetInfo}: state, memory, vCPUs,
 * CPU time) it carries the reason and the XML the agent observes and plans from. Both XMLs are null when the domain
 * vanished while being read.
 */
public final class InspectedDomain {
    /** The UUID libvirt's libxl driver reports for Xen's Domain-0. */
    public static final String CONTROL_DOMAIN_UUID = "00000000-0000-0000-0000-000000000000";

    private final String uuid;
    private final String name;
    private final int id;
    private final int state;
    private final int reason;
    private final boolean active;
    private final boolean persistent;
    private final String liveXml;
    private final String inactiveXml;
    private Parsed live;
    private Parsed inactive;

    /** A parse, remembered with its outcome: the document, or null with why it did not parse. */
    private record Parsed(DomainDocument doc, String problem) {
    }

    public InspectedDomain(String uuid, String name, int id, int state, int reason, boolean active,
                           boolean persistent, String liveXml, String inactiveXml) {
        this.uuid = uuid;
        this.name = name;
        this.id = id;
        this.state = state;
        this.reason = reason;
        this.active = active;
        this.persistent = persistent;
        this.liveXml = liveXml;
        this.inactiveXml = inactiveXml;
    }

    public String uuid() {
        return uuid;
    }

    public String name() {
        return name;
    }

    /** libvirt's domain id: -1 when inactive. */
    public int id() {
        return id;
    }

    /** {@code virDomainState} by number. */
    public int state() {
        return state;
    }

    /** The state's reason by number ({@code virDomainRunningReason}, {@code virDomainShutoffReason}, ...). */
    public int reason() {
        return reason;
    }

    public boolean active() {
        return active;
    }

    public boolean persistent() {
        return persistent;
    }

    /** {@code virDomainGetXMLDesc(0)}: what runs (the persistent config when inactive). */
    public String liveXml() {
        return liveXml;
    }

    /** {@code virDomainGetXMLDesc(VIR_DOMAIN_XML_INACTIVE)}: the persistent config (null for a transient domain). */
    public String inactiveXml() {
        return inactiveXml;
    }

    /** The XML that describes what runs now (live when active, else the persistent config). */
    public String currentXml() {
        return active && liveXml != null ? liveXml : inactiveXml != null ? inactiveXml : liveXml;
    }

    /** {@link #liveXml()} parsed (once); null when absent or not parseable ({@link #parseProblem()} says why). */
    public synchronized DomainDocument live() {
        if (live == null) {
            live = parse(liveXml);
        }
        return live.doc();
    }

    /** {@link #inactiveXml()} parsed (once); the same document as {@link #live()} when both XMLs are equal. */
    public synchronized DomainDocument inactive() {
        if (inactive == null) {
            inactive = Objects.equals(inactiveXml, liveXml) ? parsedLive() : parse(inactiveXml);
        }
        return inactive.doc();
    }

    /** {@link #currentXml()} parsed: the same document as {@link #live()} or {@link #inactive()}. */
    public DomainDocument current() {
        String x = currentXml();
        return x == null ? null : x == liveXml ? live() : inactive();
    }

    /** Why the current XML did not parse; null when it parsed or is absent. */
    public synchronized String parseProblem() {
        String x = currentXml();
        if (x == null) {
            return null;
        }
        current();
        return (x == liveXml ? live : inactive).problem();
    }

    private Parsed parsedLive() {
        live();
        return live;
    }

    private static Parsed parse(String xml) {
        if (xml == null) {
            return new Parsed(null, null);
        }
        try {
            return new Parsed(DomainDocument.parse(xml), null);
        } catch (DomainDocument.InvalidXmlException e) {
            return new Parsed(null, e.getMessage());
        }
    }

    /**
     * Xen's control domain (Domain-0): libvirt's libxl driver lists it with id 0 and the nil UUID. It is the host
     * itself, never a guest: nothing lists, adopts, fences or changes it. (QEMU's ids start at 1.)
     */
    public boolean isControlDomain() {
        return id == 0 || CONTROL_DOMAIN_UUID.equals(uuid);
    }

    @Override
    public String toString() {
        return "InspectedDomain[uuid=" + uuid + ", name=" + name + ", id=" + id + ", state=" + state + ", reason="
                + reason + ", active=" + active + ", persistent=" + persistent + "]";
    }
}
