package io.virtfleet.agent.domain;

import io.virtfleet.reconcilers.domain.xml.DomainDocument;
import io.fabric8.kubernetes.api.model.Condition;
import io.virtfleet.api.v1alpha1.DomainState;
import io.virtfleet.agent.guest.GuestView;
import io.virtfleet.agent.libvirt.InspectedDomain;
import io.virtfleet.api.v1alpha1.DeviceStatus;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.DomainSpec;
import io.virtfleet.api.v1alpha1.DomainStatus;
import io.virtfleet.reconcilers.lifecycle.Conditions;
import io.virtfleet.reconcilers.lifecycle.DomainStates;
import io.virtfleet.reconcilers.lifecycle.XmlFingerprint;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * Builds a Domain's status from what libvirt reports (pure). Conditions:
 * <ul>
 *   <li>{@code Synced}: the last pass applied the spec (False with reason InvalidSpec, LibvirtError or Conflict).</li>
 *   <li>{@code Ready}: the libvirt state matches spec.powerState.</li>
 *   <li>{@code RestartRequired}: the persistent config was redefined while the domain runs; the change takes effect
 *       at the next start.</li>
 *   <li>{@code GuestAgentConnected}: the guest agent answers ({@link #withGuest}, from the record step's
 *       {@link GuestView}); other writers keep the last report while the domain runs.</li>
 * </ul>
 */
public final class DomainStatusBuilder {
    public static final String SYNCED = "Synced";
    public static final String READY = "Ready";
    public static final String RESTART_REQUIRED = "RestartRequired";

    public static final String PROCESS_EXITED = "ProcessExited";
    public static final String REASON_INVALID_SPEC = "InvalidSpec";
    public static final String REASON_LIBVIRT_ERROR = "LibvirtError";
    public static final String REASON_CONFLICT = "Conflict";

    private DomainStatusBuilder() {
    }

    /** The outcome of one pass, for the status. */
    public record Outcome(String errorReason, String error, String waitingFor, int started, Long recordRestart) {
        public static Outcome ok(String waitingFor, int started, Long recordRestart) {
            return new Outcome(null, null, waitingFor, started, recordRestart);
        }

        public static Outcome failed(String reason, String error, int started, Long recordRestart) {
            return new Outcome(reason, error, null, started, recordRestart);
        }
    }

    /**
     * The new status of {@code d}: {@code info} is the libvirt domain after this pass (null when not defined, or not
     * virtfleet's to report), {@code pid} its QEMU process.
     */
    public static DomainStatus build(Domain d, InspectedDomain info, OptionalLong pid, Outcome outcome, Instant now) {
        return build(d, info, pid, false, outcome, now);
    }

    /**
     * As {@link #build(Domain, InspectedDomain, OptionalLong, Outcome, Instant)}; {@code processGone} says the domain's
     * QEMU process has exited although libvirt still reports it active (libvirt has not caught up yet).
     */
    public static DomainStatus build(Domain d, InspectedDomain info, OptionalLong pid, boolean processGone,
                                     Outcome outcome, Instant now) {
        DomainStatus prev = d.getStatus() == null ? new DomainStatus() : d.getStatus();
        DomainSpec spec = d.getSpec();
        DomainStatus s = new DomainStatus();
        Long generation = d.getMetadata().getGeneration();
        DomainState state = null;
        String liveHash = null;
        String persistentHash = null;
        String liveFingerprint = null;
        String persistentFingerprint = null;
        if (info == null) {
            s.state = DomainState.NOT_DEFINED;
            s.id = -1;
        } else {
            state = DomainState.of(info.state());
            s.state = state.statusName();
            s.reason = DomainState.reasonName(state, info.reason());
            s.id = info.active() ? info.id() : -1;
            DomainDocument current = info.current();
            if (current != null) {
                s.genid = current.genid() == null || current.genid().isEmpty() ? null : current.genid();
                DomainDocument desired = spec == null ? null : parseQuietly(spec.domainXml);
                s.devices = namedFromSpec(current.devices(), desired == null ? List.of() : desired.devices());
            }
            if (info.active()) {
                pid.ifPresent(p -> s.pid = p);
                DomainDocument live = info.live();
                liveHash = live == null ? null : live.appliedSpecHash().orElse(null);
                liveFingerprint = live == null ? null : live.appliedFingerprint().orElse(null);
            }
            DomainDocument persistent = info.inactive();
            persistentHash = persistent == null ? null : persistent.appliedSpecHash().orElse(null);
            persistentFingerprint = persistent == null ? null : persistent.appliedFingerprint().orElse(null);
            // The generation of the reported genid: the persistent definition's stamp when it carries that genid
            // (after a revert of a running domain the agent re-stamps only the persistent one), else the stamp of
            // the XML the genid was read from.
            if (s.genid != null) {
                DomainDocument from = persistent != null && s.genid.equalsIgnoreCase(persistent.genid()) ? persistent
                        : current;
                s.genidGeneration = from == null ? null : from.appliedGenidGeneration().orElse(null);
            }
        }
        s.uuid = info != null ? info.uuid()
                : spec != null && spec.uuid != null ? spec.uuid.toLowerCase(Locale.ROOT) : null;
        s.startCount = (prev.startCount == null ? 0 : prev.startCount) + outcome.started();
        s.observedRestartGeneration = outcome.recordRestart() != null ? outcome.recordRestart()
                : prev.observedRestartGeneration;
        s.lastError = outcome.error();
        // The disks this host created stay recorded until the Domain is gone (they are removed with it).
        s.createdDisks = prev.createdDisks;
        s.observedGeneration = generation;
        s.observedTime = now.truncatedTo(ChronoUnit.SECONDS).toString();

        List<Condition> conds = new ArrayList<>();
        if (outcome.error() == null) {
            conds.add(condition(prev, SYNCED, Conditions.TRUE, "Synced",
                    "libvirt matches the spec as far as the agent acts",
                    generation, now));
        } else {
            conds.add(condition(prev, SYNCED, Conditions.FALSE, outcome.errorReason(), outcome.error(), generation,
                    now));
        }
        String power = DomainStates.powerState(spec);
        boolean ready = switch (power) {
            case DomainSpec.POWER_RUNNING -> state == DomainState.RUNNING || state == DomainState.BLOCKED;
            case DomainSpec.POWER_PAUSED -> state == DomainState.PAUSED;
            default -> state == null || !state.active();
        };
        String stateText = s.state + (s.reason != null ? " (" + s.reason + ")" : "");
        if (processGone && state != null && state.active()) {
            conds.add(condition(prev, READY, Conditions.FALSE, PROCESS_EXITED,
                    "the QEMU process has exited; libvirt still "
                    + "reports " + stateText + " until it has cleaned up", generation, now));
        } else if (ready) {
            conds.add(condition(prev, READY, Conditions.TRUE, s.state, "domain is " + stateText, generation, now));
        } else {
            String msg = "domain is " + stateText + ", spec.powerState is " + power
                    + (outcome.waitingFor() != null ? "; waiting for " + outcome.waitingFor() : "");
            conds.add(condition(prev, READY, Conditions.FALSE, s.state, msg, generation, now));
        }
        // Disks/interfaces added or removed and cdrom media are applied live (Hotplugger: virDomainAttachDeviceFlags,
        // virDomainDetachDeviceFlags, virDomainUpdateDeviceFlags with AFFECT_LIVE), so when both XMLs carry the
        // fingerprint of their spec only the other changes need a restart.
        boolean restartRequired = info != null && info.active() && persistentHash != null
                && !Objects.equals(liveHash, persistentHash)
                && (liveFingerprint == null || persistentFingerprint == null
                || !XmlFingerprint.changed(liveFingerprint, persistentFingerprint).isEmpty());
        conds.add(restartRequired
                ? condition(prev, RESTART_REQUIRED, Conditions.TRUE, "ConfigChanged",
                        "the persistent config was redefined while the domain runs; it applies at the next start",
                        generation, now)
                : condition(prev, RESTART_REQUIRED, Conditions.FALSE, "UpToDate",
                        "the running domain uses the defined config",
                        generation, now));
        // The guest agent's report is the record step's (withGuest); any other status write keeps the last one
        // while the domain runs, and a domain that does not run has none.
        if (info != null && info.active()) {
            s.interfaces = prev.interfaces;
            s.guestOSInfo = prev.guestOSInfo;
            Condition agent = Conditions.find(prev.conditions, DomainStatus.CONDITION_GUEST_AGENT_CONNECTED);
            if (agent != null) {
                conds.add(agent);
            }
        } else if (Conditions.find(prev.conditions, DomainStatus.CONDITION_GUEST_AGENT_CONNECTED) != null) {
            conds.add(condition(prev, DomainStatus.CONDITION_GUEST_AGENT_CONNECTED, Conditions.FALSE,
                    DomainStatus.GUEST_AGENT_NOT_RUNNING, "the domain is not running", generation, now));
        }
        s.conditions = conds;
        return s;
    }

    /** Puts the guest agent's view into {@code s} (built from {@code cur}): interfaces, OS info, the condition. */
    public static void withGuest(Domain cur, DomainStatus s, GuestView view, Instant now) {
        DomainStatus prev = cur.getStatus() == null ? new DomainStatus() : cur.getStatus();
        s.interfaces = view.interfaces() == null || view.interfaces().isEmpty() ? null : view.interfaces();
        s.guestOSInfo = view.osInfo();
        s.conditions.removeIf(c -> DomainStatus.CONDITION_GUEST_AGENT_CONNECTED.equals(c.getType()));
        s.conditions.add(condition(prev, DomainStatus.CONDITION_GUEST_AGENT_CONNECTED, view.status(), view.reason(),
                view.message(), cur.getMetadata().getGeneration(), now));
    }

    /** A condition of {@code prev}'s type, keeping its lastTransitionTime when its status did not change. */
    static Condition condition(DomainStatus prev, String type, String status, String reason, String message,
                               Long generation, Instant now) {
        return Conditions.next(Conditions.find(prev.conditions, type), type, status, reason, message, generation,
                now);
    }

    /** True when the two statuses differ in more than observedTime. */
    /**
     * The live devices, each named: by its {@code ua-} alias, or — where the live XML has none (a Xen domain whose
     * driver dropped user aliases) — by the spec's device of the same kind with that target (disks) or that MAC, else that target
     * (interfaces). A device matching nothing stays unnamed.
     */
    static List<DeviceStatus> namedFromSpec(List<DeviceStatus> live, List<DeviceStatus> desired) {
        List<DeviceStatus> out = new ArrayList<>();
        for (DeviceStatus d : live) {
            if (d.name == null) {
                String name = desired.stream().filter(w -> w.name != null && Objects.equals(w.kind, d.kind))
                        .filter(w -> DeviceStatus.KIND_INTERFACE.equals(d.kind) && w.mac != null
                                ? w.mac.equalsIgnoreCase(Objects.requireNonNullElse(d.mac, ""))
                                : w.target != null && w.target.equals(d.target))
                        .map(w -> w.name).findFirst().orElse(null);
                if (name != null) {
                    DeviceStatus named = new DeviceStatus(name, d.kind, d.target, d.mac, d.source, d.state);
                    named.message = d.message;
                    out.add(named);
                    continue;
                }
            }
            out.add(d);
        }
        return out;
    }

    public static boolean differs(DomainStatus a, DomainStatus b) {
        if (a == null || b == null) {
            return a != b;
        }
        return !Objects.equals(a.state, b.state) || !Objects.equals(a.reason, b.reason)
                || !Objects.equals(a.id, b.id) || !Objects.equals(a.uuid, b.uuid)
                || !Objects.equals(a.genid, b.genid) || !Objects.equals(a.genidGeneration, b.genidGeneration)
                || !Objects.equals(a.pid, b.pid)
                || !Objects.equals(nullToEmpty(a.devices), nullToEmpty(b.devices))
                || !Objects.equals(a.observedRestartGeneration, b.observedRestartGeneration)
                || !Objects.equals(a.startCount, b.startCount) || !Objects.equals(a.lastError, b.lastError)
                || !Objects.equals(nullToEmptyC(a.conditions), nullToEmptyC(b.conditions))
                || !Objects.equals(a.observedGeneration, b.observedGeneration)
                || !Objects.equals(a.createdDisks, b.createdDisks)
                || !Objects.equals(a.imageDownloads, b.imageDownloads)
                || !Objects.equals(a.interfaces, b.interfaces) || !Objects.equals(a.guestOSInfo, b.guestOSInfo);
    }

    private static List<DeviceStatus> nullToEmpty(List<DeviceStatus> l) {
        return l == null ? List.of() : l;
    }

    private static List<Condition> nullToEmptyC(List<Condition> l) {
        return l == null ? List.of() : l;
    }

    private static DomainDocument parseQuietly(String xml) {
        if (xml == null) {
            return null;
        }
        try {
            return DomainDocument.parse(xml);
        } catch (DomainDocument.InvalidXmlException e) {
            return null;
        }
    }
}
