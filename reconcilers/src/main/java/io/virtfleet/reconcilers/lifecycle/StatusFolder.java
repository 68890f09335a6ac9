package io.virtfleet.reconcilers.lifecycle;

import io.fabric8.kubernetes.api.model.Condition;
import io.virtfleet.api.v1alpha1.DeviceStatus;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.DomainSpec;
import io.virtfleet.api.v1alpha1.DomainStatus;
import io.virtfleet.reconcilers.genid.GenidPolicy;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.api.v1alpha1.VirtualMachineStatus;
import io.virtfleet.reconcilers.lifecycle.LifecycleAnnotations.StopReason;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Folds what the operator decided (validation, scheduling, rendering) and what the agent reported (Domain.status) into
 * a VirtualMachineStatus. Pure: the previous status only supplies lastTransitionTimes, the uuid and genid history.
 *
 * <p>Conditions, always all six, in this order:
 * <ul>
 *   <li>{@code Ready}: True while the domain runs; Unknown (HostLost) when the host's heartbeat expired.</li>
 *   <li>{@code Scheduled}: True once a host is assigned; False with the scheduler's reason while nothing fits.</li>
 *   <li>{@code Synced}: True when the Domain carries the current spec; False when validation, rendering or the
 *   write failed (the previous Domain is left alone).</li>
 *   <li>{@code RestartRequired}: True when the running domain was started with an older XML that differs in
 *   something that cannot change live.</li>
 *   <li>{@code Failure}: True while the spec is invalid or cannot be rendered or applied.</li>
 *   <li>{@code Paused}: True while libvirt reports the domain paused (its vCPUs stopped, QEMU still there): reason
 *   {@code PausedByUser} after a pause request, else libvirt's pause reason (e.g. {@code IOError}).</li>
 * </ul>
 * and, once the VM's agent reports it, {@code GuestAgentConnected} as the Domain has it (with {@code interfaces} and
 * {@code guestOSInfo}).
 */
public final class StatusFolder {
    public static final String READY = "Ready";
    public static final String SCHEDULED = "Scheduled";
    public static final String SYNCED = "Synced";
    public static final String RESTART_REQUIRED = "RestartRequired";
    public static final String FAILURE = "Failure";
    public static final String PAUSED = "Paused";
    /** The Event of a domain that (re)started. */
    public static final String STARTED = "Started";

    public static final String REASON_VALIDATION_FAILED = "ValidationFailed";
    public static final String REASON_RENDER_FAILED = "RenderFailed";
    public static final String REASON_APPLY_FAILED = "ApplyFailed";
    public static final String REASON_HOST_LOST = "HostLost";
    public static final String REASON_SCHEDULED = "Scheduled";
    public static final String REASON_NOT_SCHEDULED = "NotScheduled";
    public static final String REASON_SYNCED = "Synced";
    public static final String REASON_PENDING_CHANGES = "PendingChanges";
    public static final String REASON_NO_PENDING_CHANGES = "NoPendingChanges";
    public static final String REASON_NO_FAILURE = "NoFailure";
    public static final String REASON_PAUSED_BY_USER = "PausedByUser";
    public static final String REASON_NOT_PAUSED = "NotPaused";

    /** What went into a status; unset fields mean "nothing to say". */
    public static final class Input {
        final VirtualMachine vm;
        final Instant now;
        List<String> validationErrors = List.of();
        Decision decision;
        String host;
        String hostLost;
        Domain domain;
        String uuid;
        String renderError;
        String applyError;
        List<String> restartChanges = List.of();

        private Input(VirtualMachine vm, Instant now) {
            this.vm = Objects.requireNonNull(vm);
            this.now = Objects.requireNonNull(now);
        }

        /** Field errors, each already {@code field: message}. */
        public Input validationErrors(List<String> errors) {
            this.validationErrors = errors == null ? List.of() : List.copyOf(errors);
            return this;
        }

        /** The latest scheduling decision (when the VM had no host). */
        public Input decision(Decision decision) {
            this.decision = decision;
            return this;
        }

        public Input host(String host) {
            this.host = host;
            return this;
        }

        /** Why the assigned host is considered lost (heartbeat expired, Host deleted); null while it is fine. */
        public Input hostLost(String message) {
            this.hostLost = message;
            return this;
        }

        /** The Domain as it is now (after the operator's write, with the agent's status); null when there is none. */
        public Input domain(Domain domain) {
            this.domain = domain;
            return this;
        }

        public Input uuid(String uuid) {
            this.uuid = uuid;
            return this;
        }

        public Input renderError(String message) {
            this.renderError = message;
            return this;
        }

        public Input applyError(String message) {
            this.applyError = message;
            return this;
        }

        /** Top-level domain XML elements changed since the running domain started (see {@link XmlFingerprint}). */
        public Input restartChanges(List<String> changed) {
            this.restartChanges = changed == null ? List.of() : List.copyOf(changed);
            return this;
        }
    }

    private StatusFolder() {
    }

    public static Input input(VirtualMachine vm, Instant now) {
        return new Input(vm, now);
    }

    public static VirtualMachineStatus fold(Input in) {
        VirtualMachineStatus prev = in.vm.getStatus();
        List<Condition> prevConditions = prev == null ? List.of() : prev.conditions;
        Long generation = in.vm.getMetadata() != null ? in.vm.getMetadata().getGeneration() : null;
        DomainStatus ds = in.domain != null ? in.domain.getStatus() : null;
        DomainSpec spec = in.domain != null ? in.domain.getSpec() : null;
        boolean invalid = !in.validationErrors.isEmpty();

        VirtualMachineStatus s = new VirtualMachineStatus();
        s.host = in.host;
        s.uuid = in.uuid != null ? in.uuid : prev != null ? prev.uuid : null;
        s.observedGeneration = generation;
        s.domainId = ds != null ? ds.id : null;
        // A report of a lower genidGeneration than the status has is stale (an older definition, e.g. one a revert
        // brought back, or a report that predates a restore): it never replaces a newer generation ID.
        GenidPolicy.Stamp stamp = GenidPolicy.fold(prev != null ? GenidPolicy.Stamp.of(prev.genid,
                prev.genidGeneration) : null, ds != null ? GenidPolicy.Stamp.of(ds.genid, ds.genidGeneration) : null);
        s.genid = stamp != null ? stamp.genid()
                : ds != null && ds.genid != null ? ds.genid : prev != null ? prev.genid : null;
        s.genidGeneration = stamp != null ? Long.valueOf(stamp.generation()) : null;
        s.genidHistory = GenidPolicy.record(prev != null ? prev.genidHistory : null, s.genid,
                in.domain != null && in.domain.getMetadata() != null && in.domain.getMetadata().getAnnotations() != null
                        ? in.domain.getMetadata().getAnnotations().get(GenidPolicy.CHANGE_REASON_ANNOTATION) : null,
                GenidPolicy.initialReason(in.vm.getMetadata() != null ? in.vm.getMetadata().getAnnotations() : null),
                in.now);
        String specGenid = in.vm.getSpec() != null ? in.vm.getSpec().genid : null;
        s.genidSource = GenidPolicy.source(specGenid, s.genid, s.genidHistory);
        s.genidMessage = GenidPolicy.whyDiffers(specGenid, s.genid, s.genidHistory);
        s.imageDownloads = ds != null && ds.imageDownloads != null && !ds.imageDownloads.isEmpty()
                ? ds.imageDownloads : null;
        // The guest agent's report is the agent's (Domain status); the VM shows it as it is.
        s.interfaces = ds != null && ds.interfaces != null && !ds.interfaces.isEmpty() ? ds.interfaces : null;
        s.guestOSInfo = ds != null ? ds.guestOSInfo : null;
        s.devices = new ArrayList<>();
        if (ds != null && ds.devices != null) {
            for (DeviceStatus d : ds.devices) {
                DeviceStatus c = new DeviceStatus(d.name, d.kind, d.target, d.mac, d.source, d.state);
                c.message = d.message;
                s.devices.add(c);
            }
        }

        // printableStatus and Ready
        String printable;
        String readyStatus = Conditions.FALSE;
        String readyReason;
        String readyMessage;
        if (in.domain == null) {
            if (invalid) {
                printable = PrintableStatus.FAILED;
                readyMessage = "the spec is invalid: " + String.join("; ", in.validationErrors);
            } else if (in.renderError != null) {
                printable = PrintableStatus.FAILED;
                readyMessage = "the domain XML cannot be rendered: " + in.renderError;
            } else if (in.host == null) {
                printable = PrintableStatus.PENDING;
                readyMessage = in.decision != null ? in.decision.message() : "waiting to be scheduled";
            } else if (in.hostLost != null) {
                printable = PrintableStatus.UNKNOWN;
                readyMessage = in.hostLost;
            } else {
                printable = PrintableStatus.SCHEDULING;
                readyMessage = in.applyError != null ? "the Domain cannot be written: " + in.applyError
                        : "creating the Domain on host " + in.host;
            }
            readyReason = printable;
        } else if (in.hostLost != null) {
            printable = PrintableStatus.UNKNOWN;
            readyStatus = Conditions.UNKNOWN;
            readyReason = REASON_HOST_LOST;
            readyMessage = in.hostLost;
        } else {
            String[] pm = fromDomain(in.domain, in.host);
            printable = pm[0];
            readyMessage = pm[1];
            readyReason = printable;
            if (PrintableStatus.RUNNING.equals(printable)) {
                readyStatus = Conditions.TRUE;
                // A live migration keeps the guest running (Ready stays True) until it runs on the target.
                if (in.domain.getSpec() != null && in.domain.getSpec().migration != null) {
                    printable = PrintableStatus.MIGRATING;
                    readyMessage = readyMessage + "; live-migrating to host " + in.domain.getSpec().migration.targetHost;
                }
            } else if (ds != null && ds.lastError != null && !ds.lastError.isBlank()) {
                readyMessage = readyMessage + "; last error: " + ds.lastError;
            }
        }
        s.printableStatus = printable;

        List<Condition> conditions = new ArrayList<>();
        conditions.add(Conditions.next(Conditions.find(prevConditions, READY), READY, readyStatus, readyReason,
                readyMessage, generation, in.now));

        // Scheduled
        if (in.host != null) {
            conditions.add(Conditions.next(Conditions.find(prevConditions, SCHEDULED), SCHEDULED, Conditions.TRUE,
                    REASON_SCHEDULED, "assigned to host " + in.host, generation, in.now));
        } else if (invalid) {
            conditions.add(Conditions.next(Conditions.find(prevConditions, SCHEDULED), SCHEDULED, Conditions.FALSE,
                    REASON_VALIDATION_FAILED, "not scheduled: the spec is invalid", generation, in.now));
        } else if (in.decision != null && !in.decision.isScheduled()) {
            conditions.add(Conditions.next(Conditions.find(prevConditions, SCHEDULED), SCHEDULED, Conditions.FALSE,
                    in.decision.reason(), in.decision.message(), generation, in.now));
        } else {
            conditions.add(Conditions.next(Conditions.find(prevConditions, SCHEDULED), SCHEDULED, Conditions.FALSE,
                    REASON_NOT_SCHEDULED, "waiting to be scheduled", generation, in.now));
        }

        // Synced and Failure
        String failureReason = null;
        String failureMessage = null;
        if (invalid) {
            failureReason = REASON_VALIDATION_FAILED;
            failureMessage = String.join("; ", in.validationErrors);
        } else if (in.renderError != null) {
            failureReason = REASON_RENDER_FAILED;
            failureMessage = in.renderError;
        } else if (in.applyError != null) {
            failureReason = REASON_APPLY_FAILED;
            failureMessage = in.applyError;
        }
        String keep = in.domain != null ? "; the Domain keeps its previous spec" : "";
        if (failureReason == null && provisioningFailed(in.domain)) {
            // The host could not make a file the VM's spec asks for (an image that failed its checksum, a Secret it
            // cannot read): a spec problem only the host can see, named by field in the agent's message.
            failureReason = DomainStatus.REASON_PROVISIONING_FAILED;
            failureMessage = "host " + in.host + ": " + ds.lastError;
            keep = "";
        }
        if (failureReason != null) {
            conditions.add(Conditions.next(Conditions.find(prevConditions, SYNCED), SYNCED, Conditions.FALSE,
                    failureReason, failureMessage + keep, generation, in.now));
        } else if (in.domain == null) {
            conditions.add(Conditions.next(Conditions.find(prevConditions, SYNCED), SYNCED, Conditions.FALSE,
                    REASON_NOT_SCHEDULED, "no Domain yet", generation, in.now));
        } else if (in.hostLost != null) {
            conditions.add(Conditions.next(Conditions.find(prevConditions, SYNCED), SYNCED, Conditions.UNKNOWN,
                    REASON_HOST_LOST, "the Domain carries generation " + generation + " but host " + in.host
                            + " is not reporting: " + in.hostLost, generation, in.now));
        } else {
            conditions.add(Conditions.next(Conditions.find(prevConditions, SYNCED), SYNCED, Conditions.TRUE,
                    REASON_SYNCED, "Domain " + in.domain.getMetadata().getName() + " carries generation "
                            + generation, generation, in.now));
        }

        // RestartRequired
        boolean active = ds != null && DomainStates.isActive(ds.state);
        if (active && !in.restartChanges.isEmpty()) {
            conditions.add(Conditions.next(Conditions.find(prevConditions, RESTART_REQUIRED), RESTART_REQUIRED,
                    Conditions.TRUE, REASON_PENDING_CHANGES, String.join(", ", in.restartChanges)
                            + " changed since the domain started; the change takes effect when the VM restarts",
                    generation, in.now));
        } else {
            conditions.add(Conditions.next(Conditions.find(prevConditions, RESTART_REQUIRED), RESTART_REQUIRED,
                    Conditions.FALSE, REASON_NO_PENDING_CHANGES, active
                            ? "the running domain has the current spec" : "the domain is not running",
                    generation, in.now));
        }

        conditions.add(failureReason != null
                ? Conditions.next(Conditions.find(prevConditions, FAILURE), FAILURE, Conditions.TRUE, failureReason,
                failureMessage + keep, generation, in.now)
                : Conditions.next(Conditions.find(prevConditions, FAILURE), FAILURE, Conditions.FALSE,
                REASON_NO_FAILURE, "", generation, in.now));

        // Paused: what libvirt reports, whoever paused it (a domain paused on an I/O error is paused too).
        if (PrintableStatus.PAUSED.equals(printable)) {
            boolean byUser = spec != null && DomainSpec.POWER_PAUSED.equals(spec.powerState);
            String reason = byUser ? REASON_PAUSED_BY_USER
                    : ds.reason != null && !ds.reason.isBlank() ? ds.reason : DomainStates.PAUSED;
            conditions.add(Conditions.next(Conditions.find(prevConditions, PAUSED), PAUSED, Conditions.TRUE, reason,
                    readyMessage, generation, in.now));
        } else {
            conditions.add(Conditions.next(Conditions.find(prevConditions, PAUSED), PAUSED, Conditions.FALSE,
                    REASON_NOT_PAUSED, "", generation, in.now));
        }
        Condition agent = ds != null ? Conditions.find(ds.conditions, DomainStatus.CONDITION_GUEST_AGENT_CONNECTED)
                : null;
        if (agent != null) {
            conditions.add(Conditions.next(Conditions.find(prevConditions, DomainStatus.CONDITION_GUEST_AGENT_CONNECTED),
                    DomainStatus.CONDITION_GUEST_AGENT_CONNECTED, agent.getStatus(), agent.getReason(),
                    agent.getMessage(), generation, in.now));
        }
        s.conditions = conditions;
        return s;
    }

    /** printableStatus and a Ready message from a Domain the agent may have reported on. */
    static String[] fromDomain(Domain domain, String host) {
        DomainStatus st = domain.getStatus();
        DomainSpec spec = domain.getSpec();
        String on = host != null ? " on host " + host : "";
        if (st == null || st.state == null) {
            return new String[] {PrintableStatus.SCHEDULING, "waiting for the agent" + on + " to report the domain"};
        }
        String ps = DomainStates.powerState(spec);
        boolean stopWanted = DomainSpec.POWER_STOPPED.equals(ps);
        boolean pending = DomainStates.startPending(spec, st);
        String state = st.state;
        String desc = "domain is " + state + (st.reason != null && !st.reason.isBlank() ? " (" + st.reason + ")" : "");
        String stopReason = domain.getMetadata() != null && domain.getMetadata().getAnnotations() != null
                ? domain.getMetadata().getAnnotations().get(LifecycleAnnotations.STOP_REASON) : null;
        switch (state) {
            case DomainStates.RUNNING, DomainStates.BLOCKED -> {
                if (stopWanted) {
                    return new String[] {PrintableStatus.STOPPING, "waiting for the agent" + on + " to stop the domain"};
                }
                if (pending) {
                    return new String[] {PrintableStatus.STARTING,
                            "waiting for the agent" + on + " to restart the domain"};
                }
                return new String[] {PrintableStatus.RUNNING,
                        "domain" + (st.id != null ? " " + st.id : "") + " is running" + on};
            }
            case DomainStates.PAUSED, DomainStates.PM_SUSPENDED -> {
                if (stopWanted) {
                    return new String[] {PrintableStatus.STOPPING, "waiting for the agent" + on + " to stop the domain"};
                }
                if (pending) {
                    return new String[] {PrintableStatus.STARTING,
                            "waiting for the agent" + on + " to restart the domain"};
                }
                if (DomainStates.PAUSED.equals(state) && DomainSpec.POWER_PAUSED.equals(ps)) {
                    return new String[] {PrintableStatus.PAUSED, "domain" + (st.id != null ? " " + st.id : "")
                            + " is paused" + on + " by request (" + LifecycleAnnotations.REQUEST + "=unpause "
                            + "resumes it)"};
                }
                if (DomainStates.PAUSED.equals(state) && DomainSpec.POWER_RUNNING.equals(ps)) {
                    // The agent resumes a paused domain whose powerState is Running (an unpause, or a pause from
                    // outside virtfleet).
                    return new String[] {PrintableStatus.PAUSED, desc + "; waiting for the agent" + on
                            + " to resume it"};
                }
                return new String[] {PrintableStatus.PAUSED, desc};
            }
            case DomainStates.SHUTTING_DOWN -> {
                return pending
                        ? new String[] {PrintableStatus.STARTING, "waiting for the agent" + on + " to restart the domain"}
                        : new String[] {PrintableStatus.STOPPING, desc};
            }
            case DomainStates.SHUTOFF, DomainStates.CRASHED -> {
                if (pending) {
                    return new String[] {PrintableStatus.STARTING, "waiting for the agent" + on + " to start the domain"};
                }
                boolean crashed = stopWanted ? StopReason.CRASHED.equals(stopReason)
                        : DomainStates.isCrash(state, st.reason);
                String why = stopWanted && stopReason != null ? "; " + describeStop(stopReason) : "";
                return new String[] {crashed ? PrintableStatus.FAILED : PrintableStatus.STOPPED, desc + why};
            }
            case DomainStates.NOT_DEFINED -> {
                return stopWanted ? new String[] {PrintableStatus.STOPPED, desc}
                        : new String[] {PrintableStatus.STARTING, "waiting for the agent" + on + " to start the domain"};
            }
            default -> {
                return new String[] {PrintableStatus.UNKNOWN, desc};
            }
        }
    }

    private static String describeStop(String stopReason) {
        return switch (stopReason) {
            case StopReason.HALTED -> "runStrategy Halted";
            case StopReason.NOT_STARTED -> "runStrategy Manual: waiting for a start request";
            case StopReason.REQUEST -> "stopped by request";
            case StopReason.GUEST_SHUTDOWN -> "the guest powered off and the runStrategy does not restart it";
            case StopReason.CRASHED -> "the domain crashed and the runStrategy does not restart it";
            case StopReason.STOPPED -> "the domain stopped and the runStrategy does not restart it";
            case StopReason.DELETING -> "the VirtualMachine is being deleted";
            case StopReason.EVICTED -> "stopped while its host drains (evictionStrategy Stop); it starts again after "
                    + "the undrain";
            default -> stopReason;
        };
    }

    /**
     * The events a status change deserves: Scheduled / FailedScheduling, Started (one Started naming the host instead
     * of Scheduled and Started when the first scheduled status already shows the VM running), Stopped, Paused,
     * Unpaused, Failed,
     * HostLost /
     * HostRecovered, RestartRequired, ValidationFailed / RenderFailed / ApplyFailed, GuestAgentConnected /
     * GuestAgentDisconnected. {@code previous} may be null.
     */
    public static List<Note> transitions(VirtualMachineStatus previous, VirtualMachineStatus next) {
        List<Note> notes = new ArrayList<>();
        List<Condition> pc = previous == null ? List.of() : previous.conditions;
        String was = previous == null ? null : previous.printableStatus;
        String is = next.printableStatus;

        Condition ps = Conditions.find(pc, SCHEDULED);
        Condition ns = Conditions.find(next.conditions, SCHEDULED);
        boolean atOnce = startedAtOnce(previous, next);
        if (atOnce) {
            // The first status with a host already shows it running (the operator waited a moment for the agent's
            // report instead of writing Scheduling first): one Event tells the whole start.
            notes.add(Note.normal(STARTED, "scheduled to host " + next.host + " and started"));
        } else if (ns != null && Conditions.TRUE.equals(ns.getStatus()) && (ps == null || !Conditions.TRUE.equals(ps.getStatus()))) {
            notes.add(Note.normal("Scheduled", ns.getMessage()));
        } else if (ns != null && Conditions.FALSE.equals(ns.getStatus()) && !REASON_VALIDATION_FAILED.equals(ns.getReason())
                && !REASON_NOT_SCHEDULED.equals(ns.getReason())
                && (ps == null || !Objects.equals(ps.getReason(), ns.getReason())
                || !Objects.equals(ps.getMessage(), ns.getMessage()))) {
            notes.add(Note.warning("FailedScheduling", ns.getMessage()));
        }

        Condition pf = Conditions.find(pc, FAILURE);
        Condition nf = Conditions.find(next.conditions, FAILURE);
        if (nf != null && Conditions.TRUE.equals(nf.getStatus())
                && (pf == null || !Conditions.TRUE.equals(pf.getStatus()) || !Objects.equals(pf.getMessage(), nf.getMessage()))) {
            notes.add(Note.warning(nf.getReason(), nf.getMessage()));
        }

        Condition nr = Conditions.find(next.conditions, READY);
        String readyMessage = nr != null ? nr.getMessage() : "";
        if (!Objects.equals(was, is)) {
            if (PrintableStatus.UNKNOWN.equals(is) && nr != null && REASON_HOST_LOST.equals(nr.getReason())) {
                notes.add(Note.warning(REASON_HOST_LOST, readyMessage));
            } else if (PrintableStatus.UNKNOWN.equals(was) && previous != null
                    && REASON_HOST_LOST.equals(reason(previous.conditions, READY))) {
                notes.add(Note.normal("HostRecovered", "host " + next.host + " reports again; " + readyMessage));
            }
            switch (is) {
                case PrintableStatus.RUNNING -> {
                    // After a live migration the same QEMU process tree keeps running (the migration controller's
                    // Migrated Event tells that story): nothing started.
                    if (!PrintableStatus.MIGRATING.equals(was) && !atOnce) {
                        notes.add(PrintableStatus.PAUSED.equals(was)
                                ? Note.normal("Unpaused", readyMessage) : Note.normal(STARTED, readyMessage));
                    }
                }
                case PrintableStatus.PAUSED -> notes.add(Note.normal("Paused", readyMessage));
                case PrintableStatus.STOPPED -> {
                    if (was != null && Set.of(PrintableStatus.RUNNING, PrintableStatus.PAUSED, PrintableStatus.STOPPING,
                            PrintableStatus.STARTING).contains(was)) {
                        notes.add(Note.normal("Stopped", readyMessage));
                    }
                }
                case PrintableStatus.FAILED -> {
                    if (nf == null || !Conditions.TRUE.equals(nf.getStatus())) {
                        notes.add(Note.warning("Failed", readyMessage));
                    }
                }
                default -> {
                }
            }
        }

        // The guest agent came up, or went away while the VM runs (a stop takes it away as a matter of course).
        Condition pa = Conditions.find(pc, DomainStatus.CONDITION_GUEST_AGENT_CONNECTED);
        Condition na = Conditions.find(next.conditions, DomainStatus.CONDITION_GUEST_AGENT_CONNECTED);
        boolean wasUp = pa != null && Conditions.TRUE.equals(pa.getStatus());
        boolean isUp = na != null && Conditions.TRUE.equals(na.getStatus());
        if (isUp && !wasUp) {
            notes.add(Note.normal("GuestAgentConnected", na.getMessage()));
        } else if (wasUp && na != null && Conditions.FALSE.equals(na.getStatus())
                && !DomainStatus.GUEST_AGENT_NOT_RUNNING.equals(na.getReason())) {
            notes.add(Note.warning("GuestAgentDisconnected", na.getMessage()));
        }

        Condition prr = Conditions.find(pc, RESTART_REQUIRED);
        Condition nrr = Conditions.find(next.conditions, RESTART_REQUIRED);
        if (nrr != null && Conditions.TRUE.equals(nrr.getStatus())
                && (prr == null || !Conditions.TRUE.equals(prr.getStatus()) || !Objects.equals(prr.getMessage(), nrr.getMessage()))) {
            notes.add(Note.normal(RESTART_REQUIRED, nrr.getMessage()));
        }
        return notes;
    }

    /**
     * {@code next} is the first status that says the VM is scheduled, and it already says it runs: the start is told
     * by one {@code Started} Event ("scheduled to host h1 and started") instead of Scheduled and Started.
     */
    public static boolean startedAtOnce(VirtualMachineStatus previous, VirtualMachineStatus next) {
        Condition ps = previous == null ? null : Conditions.find(previous.conditions, SCHEDULED);
        Condition ns = Conditions.find(next.conditions, SCHEDULED);
        return ns != null && Conditions.TRUE.equals(ns.getStatus())
                && (ps == null || !Conditions.TRUE.equals(ps.getStatus()))
                && PrintableStatus.RUNNING.equals(next.printableStatus)
                && (previous == null || !PrintableStatus.RUNNING.equals(previous.printableStatus)
                && !PrintableStatus.MIGRATING.equals(previous.printableStatus));
    }

    private static String reason(List<Condition> conditions, String type) {
        Condition c = Conditions.find(conditions, type);
        return c == null ? null : c.getReason();
    }

    /** The Domain's agent reports, for its current generation, that it could not create the VM's files. */
    static boolean provisioningFailed(Domain d) {
        DomainStatus ds = d == null ? null : d.getStatus();
        if (ds == null || ds.lastError == null || ds.conditions == null) {
            return false;
        }
        return ds.conditions.stream().anyMatch(c -> "Synced".equals(c.getType()) && "False".equals(c.getStatus())
                && DomainStatus.REASON_PROVISIONING_FAILED.equals(c.getReason()));
    }
}
