package io.virtfleet.agent.snapshot;

import io.virtfleet.reconcilers.domain.xml.DiskDef;
import io.virtfleet.reconcilers.domain.xml.DomainDef;
import io.virtfleet.reconcilers.domain.xml.DomainDocument;
import io.virtfleet.agent.libvirt.LibvirtCallException;

import io.virtfleet.agent.libvirt.LibvirtConnection;
import io.virtfleet.reconcilers.genid.GenidPolicy;
import org.libvirt.Domain;
import org.libvirt.DomainSnapshot;
import org.libvirt.LibvirtException;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * libvirt internal snapshots of one domain, and reverting to them with a fresh generation ID.
 *
 * <p>Measured on libvirt 9.0 / QEMU 7.2 (query-vm-generation-id): reverting to a snapshot taken while the domain ran
 * starts a new QEMU with a genid libvirt generated ({@code VIR_QEMU_PROCESS_START_GEN_VMID}), but the persistent
 * config keeps the old one, so the next plain start would run the old generation again; reverting to a snapshot of a
 * stopped domain changes nothing (the next start uses the old genid). So after every revert this class redefines the
 * persistent config with the new genid: the live one libvirt made, or a fresh one before a stopped domain next runs.
 */
public final class SnapshotOps {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}");

    /** A request that cannot be carried out; nothing was changed. */
    public static final class SnapshotException extends Exception {
        public SnapshotException(String message) {
            super(message == null ? null : message.strip()); // (a trailing newline of libvirt's would reach status)
        }
    }

    /** What a snapshot holds. */
    public record Taken(String name, String state, String genid, long creationTime, long size) {
    }

    /**
     * After a revert: the state the domain is in, its new genid (null: the domain has no genid device) and that
     * genid's genidGeneration (null when not known).
     */
    public record Reverted(String state, String previousGenid, String genid, Long genidGeneration) {
    }

    /**
     * The spec hash a reverted definition is stamped with: matches no spec, so the next sync pass redefines the domain
     * from its Domain spec (whose genid the operator pinned before the revert).
     */
    public static final String REVERTED_SPEC_HASH = "reverted";
    /** The description of the snapshots virtfleet takes, followed by the requesting object's uid. */
    static final String DESCRIPTION = "virtfleet VirtualMachineSnapshot";

    private final LibvirtConnection libvirt;
    private final Supplier<String> freshGenid;

    public SnapshotOps(LibvirtConnection libvirt) {
        this(libvirt, () -> UUID.randomUUID().toString());
    }

    SnapshotOps(LibvirtConnection libvirt, Supplier<String> freshGenid) {
        this.libvirt = libvirt;
        this.freshGenid = freshGenid;
    }

    /**
     * Disks that prevent an internal snapshot: every writable disk must be qcow2. Empty drives and read-only disks
     * (the cloud-init seed, a cdrom with media) are left out of the snapshot by QEMU (savevm snapshots only inserted,
     * writable block nodes) and libvirt; measured on libvirt 9.0 / QEMU 7.2: a running and a stopped domain with a
     * raw {@code <readonly/>} disk both take an internal snapshot. Pure.
     */
    public static List<String> nonQcow2Disks(DomainDocument domain) {
        List<String> out = new ArrayList<>();
        DomainDef def = domain.def();
        for (DiskDef disk : def.devices == null ? List.<DiskDef>of() : def.devices.disks) {
            if (disk.source == null || disk.readonly != null || "cdrom".equals(disk.device)) {
                continue; // empty drive, or read-only: not part of the snapshot
            }
            String type = disk.driver == null || disk.driver.type == null ? "raw" : disk.driver.type;
            if (!"qcow2".equals(type)) {
                String device = disk.device == null ? "disk" : disk.device;
                out.add((disk.target != null && disk.target.dev != null ? disk.target.dev : device) + " (" + type
                        + ")");
            }
        }
        return out;
    }

    /**
     * The generation ID of a domain XML; null when it has no genid device, when libvirt is to generate one
     * ({@code <genid/>}), or when the XML does not parse.
     */
    public static String genidOf(String domainXml) {
        if (domainXml == null) {
            return null;
        }
        try {
            return genidOf(DomainDocument.parse(domainXml));
        } catch (DomainDocument.InvalidXmlException e) {
            return null;
        }
    }

    private static String genidOf(DomainDocument domain) {
        String g = domain == null ? null : domain.genid();
        return g == null || g.isEmpty() ? null : g;
    }

    private static DomainDocument parse(String domainXml, String what) {
        try {
            return DomainDocument.parse(domainXml);
        } catch (DomainDocument.InvalidXmlException e) {
            throw new RuntimeSnapshot("cannot read " + what + ": " + e.getMessage());
        }
    }

    private static DomainDocument.Snapshot parseSnapshot(String snapshotXml) {
        try {
            return DomainDocument.parseSnapshot(snapshotXml);
        } catch (DomainDocument.InvalidXmlException e) {
            throw new RuntimeSnapshot("cannot read libvirt's snapshot description: " + e.getMessage());
        }
    }

    /** Takes an internal snapshot (with memory state when the domain runs). */
    public Taken create(String uuid, String name) throws SnapshotException, LibvirtConnection.UnavailableException, LibvirtCallException {
        return create(uuid, name, null);
    }

    /**
     * Takes an internal snapshot for the request {@code owner} (the VirtualMachineSnapshot's uid, written into the
     * snapshot's description). A snapshot of that name that the same owner made already — the agent died after
     * libvirt took it and before the request's status said so — is that request's snapshot and is described, not
     * taken again; one of another owner (or of none) is refused, as before.
     */
    public Taken create(String uuid, String name, String owner) throws SnapshotException,
            LibvirtConnection.UnavailableException, LibvirtCallException {
        if (!NAME.matcher(name).matches()) {
            throw new SnapshotException("snapshot name " + name + " is not a valid libvirt snapshot name");
        }
        if (owner != null && !NAME.matcher(owner).matches()) {
            throw new SnapshotException("snapshot owner " + owner + " is not a uid");
        }
        String description = DESCRIPTION + (owner == null ? "" : " " + owner);
        return guarded(c -> {
            Domain d = lookup(c, uuid);
            if (Arrays.asList(d.snapshotListNames()).contains(name)) {
                DomainSnapshot existing = d.snapshotLookupByName(name);
                try {
                    String xml = existing.getXMLDesc();
                    if (owner != null && description.equals(parseSnapshot(xml).description())) {
                        return describe(name, xml);
                    }
                } finally {
                    existing.free();
                }
                throw new RuntimeSnapshot("libvirt domain " + d.getName() + " already has a snapshot named " + name);
            }
            List<String> bad = nonQcow2Disks(parse(d.getXMLDesc(org.libvirt.Domain.XMLFlags.INACTIVE),
                    "the domain's persistent definition"));
            if (!bad.isEmpty()) {
                throw new RuntimeSnapshot("internal snapshots need qcow2 disks; not qcow2: " + String.join(", ", bad)
                        + " (nothing was changed)");
            }
            DomainSnapshot s = d.snapshotCreateXML("<domainsnapshot><name>" + name + "</name>"
                    + "<description>" + description + "</description></domainsnapshot>", 0);
            try {
                return describe(name, s.getXMLDesc());
            } finally {
                s.free();
            }
        });
    }

    /** Deletes the libvirt snapshot; absent is fine. */
    public void delete(String uuid, String name) throws LibvirtConnection.UnavailableException,
            LibvirtCallException {
        libvirt.call(c -> {
            Domain d;
            try {
                d = c.domainLookupByUUIDString(uuid);
            } catch (LibvirtException e) {
                if (LibvirtConnection.isNoDomain(e)) {
                    return null;
                }
                throw e;
            }
            if (!Arrays.asList(d.snapshotListNames()).contains(name)) {
                return null;
            }
            DomainSnapshot s = d.snapshotLookupByName(name);
            try {
                s.delete(0);
            } finally {
                s.free();
            }
            return null;
        });
    }

    public boolean exists(String uuid, String name) throws LibvirtConnection.UnavailableException,
            LibvirtCallException {
        return libvirt.call(c -> Arrays.asList(c.domainLookupByUUIDString(uuid).snapshotListNames()).contains(name));
    }

    /**
     * Reverts to the snapshot (a running snapshot resumes running from its memory state) and makes sure the domain's
     * generation ID is new both live and in the persistent config before the guest runs again.
     *
     * <p>{@code planned} is the restore's generation ID, chosen and recorded by the operator before the agent acts
     * (null: the VM has no genid device). A snapshot of a stopped domain gets exactly that one. Reverting to a snapshot
     * taken while the domain ran starts a new QEMU process, and libvirt's QEMU driver generates the generation ID of
     * such a start itself: then libvirt's value is the new one, one generation above the planned one. The revert brings
     * back the definition stored in the snapshot, with the stamp of that time; it is re-stamped here (as
     * {@value #REVERTED_SPEC_HASH}, so the next sync redefines it from the Domain spec) before anything else can act
     * on the domain — the caller holds the domain's lock.
     */
    public Reverted revert(String uuid, String name, GenidPolicy.Stamp planned) throws SnapshotException,
            LibvirtConnection.UnavailableException, LibvirtCallException {
        return guarded(c -> {
            Domain d = lookup(c, uuid);
            if (!Arrays.asList(d.snapshotListNames()).contains(name)) {
                throw new RuntimeSnapshot("libvirt domain " + d.getName() + " has no snapshot named " + name);
            }
            String before = genidOf(d.getXMLDesc(0));
            if (planned == null && genidOf(d.getXMLDesc(org.libvirt.Domain.XMLFlags.INACTIVE)) != null) {
                throw new RuntimeSnapshot("the restore has no generation ID recorded (status.genid), but libvirt "
                        + "domain " + d.getName() + " has a genid device; nothing was changed");
            }
            DomainSnapshot s = d.snapshotLookupByName(name);
            String snapGenid;
            try {
                snapGenid = genidOf(parseSnapshot(s.getXMLDesc()).domain());
                d.revertToSnapshot(s);
            } finally {
                s.free();
            }
            boolean active = d.isActive() == 1;
            String state = active ? "Running" : "Shutoff";
            DomainDocument persistent = parse(d.getXMLDesc(org.libvirt.Domain.XMLFlags.INACTIVE),
                    "the definition the revert brought back");
            if (genidOf(persistent) == null) {
                return new Reverted(state, before, null, null); // genid none: nothing to change
            }
            String next;
            Long generation;
            if (active) {
                next = genidOf(d.getXMLDesc(0));
                if (next == null || next.equals(snapGenid) || next.equals(before)) {
                    // libvirt did not regenerate it: the only way to give the running guest a new one is a new
                    // QEMU; refuse to pretend.
                    throw new RuntimeSnapshot("libvirt kept generation ID " + next + " on revert");
                }
                generation = planned != null ? planned.generation() + 1 : null;
            } else if (planned != null) {
                next = planned.genid();
                generation = planned.generation();
                if (next.equals(snapGenid)) {
                    throw new RuntimeSnapshot("the planned generation ID " + next + " is the snapshot's own");
                }
            } else {
                // A snapshot with a genid device of a domain that has none now: a fresh one, never seen.
                do {
                    next = freshGenid.get().toLowerCase(Locale.ROOT);
                } while (next.equals(before) || next.equals(snapGenid));
                generation = null;
            }
            String stamped = persistent.withAgentMetadata(REVERTED_SPEC_HASH, next, generation);
            c.domainDefineXML(stamped);
            return new Reverted(state, before, next, generation);
        });
    }

    private <T> T guarded(LibvirtConnection.Call<T> call) throws SnapshotException, LibvirtConnection.UnavailableException, LibvirtCallException {
        try {
            return libvirt.call(call);
        } catch (RuntimeSnapshot e) {
            throw new SnapshotException(e.getMessage());
        }
    }

    private static Domain lookup(org.libvirt.Connect c, String uuid) throws LibvirtException {
        try {
            return c.domainLookupByUUIDString(uuid);
        } catch (LibvirtException e) {
            if (LibvirtConnection.isNoDomain(e)) {
                throw new RuntimeSnapshot("no libvirt domain with UUID " + uuid + " on this host");
            }
            throw e;
        }
    }

    private static Taken describe(String name, String snapshotXml) {
        DomainDocument.Snapshot snap = parseSnapshot(snapshotXml);
        return new Taken(name, "running".equals(snap.state()) ? "Running" : "Shutoff", genidOf(snap.domain()),
                snap.creationTime(), 0L);
    }

    /** Carries a {@link SnapshotException} out of a libvirt call lambda. */
    private static final class RuntimeSnapshot extends RuntimeException {
        RuntimeSnapshot(String message) {
            super(message);
        }
    }
}
