package io.virtfleet.agent.domain;

import io.virtfleet.reconcilers.domain.xml.DomainDef;
import io.virtfleet.reconcilers.domain.xml.DomainDocument;
import io.virtfleet.agent.libvirt.LibvirtCallException;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.virtfleet.agent.hotplug.Hotplugger;
import io.virtfleet.agent.libvirt.Capabilities;
import io.virtfleet.api.v1alpha1.DomainState;
import io.virtfleet.agent.guest.GuestAgentPoller;
import io.virtfleet.agent.guest.GuestReplies;
import io.virtfleet.agent.guest.GuestView;
import io.virtfleet.agent.libvirt.LibvirtConnection;
import io.virtfleet.agent.libvirt.InspectedDomain;
import io.virtfleet.agent.libvirt.QemuProcesses;
import io.virtfleet.agent.libvirt.QemuWatcher;
import io.virtfleet.agent.provision.DomainFiles;
import io.virtfleet.agent.loop.Result;
import io.virtfleet.api.v1alpha1.ApiGroup;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.DomainStatus;
import io.virtfleet.reconcilers.genid.GenidPolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * One sync pass for one UUID, in four steps: <b>observe</b> (the Domains claiming the UUID from the informer cache,
 * the libvirt domain read once: {@link #observe}), <b>plan</b> ({@link DomainValidator}, then the pure
 * {@link DomainSyncPlanner}: {@link #plan}), <b>act</b> (the plan's steps: libvirt's lifecycle calls through the
 * {@link DomainActuator} table, defining, the finalizer, hot-plug: {@link #act}) and <b>record</b> (libvirt read again,
 * the status built by {@link DomainStatusBuilder} and written by the one {@link DomainStatusWriter}: {@link #record}).
 *
 * <p>Ownership: a libvirt domain is the agent's only if its XML carries virtfleet's mark naming this host. Other
 * domains are never changed nor reported. A domain with this host's mark whose Domain is gone or assigned to another
 * host is fenced: destroyed (never started) and undefined.
 */
public final class DomainSyncer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DomainSyncer.class);
    /** Undefine flags for a deleted Domain: drop managed-save, snapshot/checkpoint metadata and NVRAM. */
    static final int UNDEFINE_FLAGS = org.libvirt.Domain.UndefineFlags.MANAGED_SAVE
            | org.libvirt.Domain.UndefineFlags.SNAPSHOTS_METADATA | LibvirtConnection.UNDEFINE_CHECKPOINTS_METADATA
            | LibvirtConnection.UNDEFINE_NVRAM;
    /** Undefine flags when fencing: as above but keep NVRAM (data the Domain's new host may still want). */
    static final int FENCE_UNDEFINE_FLAGS = org.libvirt.Domain.UndefineFlags.MANAGED_SAVE
            | org.libvirt.Domain.UndefineFlags.SNAPSHOTS_METADATA | LibvirtConnection.UNDEFINE_CHECKPOINTS_METADATA
            | LibvirtConnection.UNDEFINE_KEEP_NVRAM;

    private final KubernetesClient client;
    private final LibvirtConnection libvirt;
    private final String host;
    private final DomainValidator validator;
    private final QemuProcesses qemu;
    private final Function<String, List<Domain>> domainsByUuid;
    private final BooleanSupplier informerSynced;
    private final Clock clock;
    private final Map<String, Instant> shutdownRequests = new ConcurrentHashMap<>();
    /** When the power button was last pressed again while a shutdown is awaited (see ObservedDomain). */
    private final Map<String, Instant> shutdownPresses = new ConcurrentHashMap<>();
    private final QemuWatcher watcher;
    private final boolean qemuDriver;
    private final boolean hotplugDriver;
    private final EventRecorder events;
    private final DomainActuator actuator;
    private final DomainStatusWriter status;
    private final Hotplugger hotplugger;
    private final DomainStarts starts;
    private volatile Set<String> emulators = Set.of();
    private volatile GuestAgentPoller guestAgent;
    private volatile io.virtfleet.agent.migration.Migrator migrator;
    private volatile DomainFiles files;

    public DomainSyncer(KubernetesClient client, LibvirtConnection libvirt, String host, DomainValidator validator,
                        QemuProcesses qemu, Function<String, List<Domain>> domainsByUuid,
                        BooleanSupplier informerSynced, Clock clock, Duration statusRefresh,
                        QemuWatcher watcher, DomainLocks locks, Consumer<String> requeue) {
        this(client, libvirt, host, validator, qemu, domainsByUuid, informerSynced, clock, statusRefresh, watcher,
                locks, requeue, null);
    }

    /** As above; {@code startRunner} (null: the {@link DomainActuator}'s) carries out the starts (tests). */
    DomainSyncer(KubernetesClient client, LibvirtConnection libvirt, String host, DomainValidator validator,
                 QemuProcesses qemu, Function<String, List<Domain>> domainsByUuid, BooleanSupplier informerSynced,
                 Clock clock, Duration statusRefresh, QemuWatcher watcher, DomainLocks locks,
                 Consumer<String> requeue, DomainStarts.Runner startRunner) {
        this.client = client;
        this.libvirt = libvirt;
        this.host = host;
        this.validator = validator;
        this.qemu = qemu;
        this.domainsByUuid = domainsByUuid;
        this.informerSynced = informerSynced;
        this.clock = clock;
        this.watcher = watcher;
        this.qemuDriver = libvirt.uri().startsWith("qemu");
        // libvirt's QEMU and libxl drivers both attach and detach disks and NICs of a running domain
        // (virDomainAttachDeviceFlags/DetachDeviceFlags); DevicePlanner knows libxl's alias-less live XML.
        this.hotplugDriver = qemuDriver || libvirt.uri().startsWith("xen");
        this.events = new EventRecorder(client, host);
        this.actuator = new DomainActuator(libvirt, events::record);
        this.status = new DomainStatusWriter(client, clock, statusRefresh, watcher);
        this.hotplugger = new Hotplugger(libvirt, clock);
        this.starts = new DomainStarts(startRunner != null ? startRunner : actuator::run, locks, requeue,
                "domain-start-" + host);
    }

    /**
     * A start of {@code uuid} runs on the start executor, which holds the domain's lock through it: nothing is decided
     * for the domain until it ended (its end adds the UUID to the queue again).
     */
    public boolean starting(String uuid) {
        return starts.inFlight(uuid);
    }

    /** Live migrations of this host's domains (null: none are driven). */
    public void setMigrator(io.virtfleet.agent.migration.Migrator migrator) {
        this.migrator = migrator;
    }

    /** Disks from images, blank disks and cloud-init seeds (null: Domains needing them are refused). */
    /** The guest agent reader whose readings the record step reports (none: no guest agent fields). */
    public void setGuestAgent(GuestAgentPoller guestAgent) {
        this.guestAgent = guestAgent;
    }

    public void setDomainFiles(DomainFiles files) {
        this.files = files;
    }

    /** libvirt's DEVICE_REMOVED for {@code alias} of domain {@code uuid} (a re-sync of it follows). */
    public void deviceRemoved(String uuid, String alias) {
        hotplugger.deviceRemoved(uuid, alias);
    }

    /** The emulator binaries libvirt offers (from its capabilities), checked against {@code <emulator>}. */
    public void setEmulators(Set<String> emulators) {
        this.emulators = Set.copyOf(emulators);
    }

    /** libvirt's emulators; read from its capabilities when not known yet (so the check is never skipped). */
    private Set<String> emulators() throws LibvirtConnection.UnavailableException {
        Set<String> e = emulators;
        if (e.isEmpty()) {
            try {
                e = Capabilities.parse(libvirt.capabilities()).emulators();
                emulators = e;
            } catch (LibvirtCallException ex) {
                throw new LibvirtConnection.UnavailableException("cannot read libvirt capabilities: "
                        + ex.getMessage());
            }
        }
        return e;
    }

    public static String ref(Domain d) {
        return d.getMetadata().getNamespace() + "/" + d.getMetadata().getName();
    }

    /** Posts the Events still queued (the workers have stopped). */
    @Override
    public void close() {
        starts.close();
        events.close(Duration.ofSeconds(5));
    }

    /** What {@link #observe} saw: the Domains claiming the UUID and the libvirt domain (read once, parsed once). */
    record Observation(String uuid, List<Domain> claims, Optional<InspectedDomain> libvirt, DomainDocument currentXml,
                       DomainDocument definedXml) {
        Optional<DomainDocument.OwnershipMark> mark() {
            return currentXml == null ? Optional.empty() : currentXml.ownershipMark();
        }

        boolean markedFor(String host) {
            return mark().filter(m -> host.equals(m.host())).isPresent();
        }

        /** The spec hash the agent stamped into the persistent definition (the live one when not persistent). */
        String appliedSpecHash() {
            return definedXml == null ? null : definedXml.appliedSpecHash().orElse(null);
        }

        Long stampedGeneration() {
            return definedXml == null ? null : definedXml.appliedGenidGeneration().orElse(null);
        }
    }

    /** What {@link #plan} decided for a Domain this host owns. */
    record Pass(Domain domain, String ref, Observation seen, DomainValidator.Result validation,
                DomainSyncPlanner.Desired desired, ObservedDomain observed, DomainSyncPlanner.Plan plan,
                Instant now) {
        boolean deleting() {
            return desired.deleting();
        }

        String uuid() {
            return seen.uuid();
        }

        long wantGeneration() {
            return domain.getSpec().genidGeneration == null ? 0L : domain.getSpec().genidGeneration;
        }
    }

    /** What {@link #act} did (mutable while it acts). */
    static final class Acted {
        Domain domain;
        int started;
        Long recordRestart;
        String error;
        String errorReason;
        String genidWait;
        Hotplugger.Outcome early;
        /** The host files made before the first define/start of this pass (null: none was due). */
        DomainFiles.Prepared prepared;
        /** The pass ends here (the Domain is gone, or its finalizer was removed). */
        boolean finished;
        /** The pass handed a start to the start executor and ends here; the start's end queues the UUID again. */
        boolean handedOff;
        /** A step changed the libvirt domain (what the observe step read is not what is now). */
        boolean changedLibvirt;
        /** The ended starts this pass reports (null: none). */
        DomainStarts.Finished startsReported;

        Acted(Domain domain) {
            this.domain = domain;
        }
    }

    public Result sync(String uuid) throws LibvirtConnection.UnavailableException {
        DomainStarts.Finished ended = starts.finished(uuid);
        if (ended != null && ended.thrown() != null) {
            // Not a libvirt verdict on the start (libvirt unavailable, a bug): retried with backoff like a pass
            // that threw it.
            starts.reported(uuid, ended);
            if (ended.thrown() instanceof LibvirtConnection.UnavailableException u) {
                throw u;
            }
            throw new IllegalStateException("the start of libvirt domain " + uuid + " failed: " + ended.thrown(),
                    ended.thrown());
        }
        Observation seen = observe(uuid);
        if (seen.claims().size() > 1) {
            return conflictingClaims(uuid, seen.claims());
        }
        Domain d = seen.claims().isEmpty() ? null : status.withRecorded(uuid, seen.claims().get(0));
        if (starts.inFlight(uuid)) {
            // A migration, fencing or a refusal waits for the start's end, like every other decision
            // (DomainSyncPlanner).
            boolean planned = d != null && d.getSpec() != null && host.equals(d.getSpec().host)
                    && d.getSpec().migration == null && (seen.libvirt().isEmpty() || seen.markedFor(host));
            if (!planned) {
                return Result.HANDED_OFF;
            }
        }
        if (migrator != null) {
            // A live migration owns the domain on this host while the Domain carries it (migration/Migrator).
            Optional<Duration> migrating = migrator.beforeSync(uuid, d, seen.libvirt());
            if (migrating.isPresent()) {
                return Result.after(migrating.get());
            }
        }
        if (d == null || d.getSpec() == null || !host.equals(d.getSpec().host)) {
            starts.forget(uuid);
            status.forget(uuid);
            watcher.untrack(uuid);
            if (seen.libvirt().isPresent() && seen.markedFor(host)) {
                return fence(uuid, seen.libvirt().get(), d);
            }
            return Result.DONE;
        }
        if (seen.libvirt().isPresent() && !seen.markedFor(host)) {
            return notOurs(d, seen);
        }
        Pass pass = plan(d, seen);
        if (pass.observed().startInFlight()) {
            return Result.HANDED_OFF;
        }
        Acted acted = act(pass);
        if (acted.finished) {
            return Result.DONE;
        }
        if (acted.handedOff) {
            return Result.HANDED_OFF;
        }
        if (pass.deleting()) {
            // Not done yet: a step failed (retried), or the guest is shutting down (looked at again by then).
            return acted.error != null ? Result.RETRY : new Result(pass.plan().requeueAfter(), false);
        }
        return record(pass, acted);
    }

    // --------------------------------------------------------------------------------------------------- observe

    /** The Domains claiming {@code uuid} and the libvirt domain with it, its XMLs parsed once. */
    Observation observe(String uuid) throws LibvirtConnection.UnavailableException {
        List<Domain> claims = domainsByUuid.apply(uuid);
        Optional<InspectedDomain> lv = inspect(uuid);
        DomainDocument current = lv.map(InspectedDomain::current).orElse(null);
        if (lv.isPresent() && current == null && lv.get().parseProblem() != null) {
            LOG.warn("libvirt domain {}: cannot parse its XML: {}", uuid, lv.get().parseProblem());
        }
        DomainDocument defined = lv.map(i -> i.inactiveXml() == null ? current : i.inactive()).orElse(null);
        return new Observation(uuid, claims, lv, current, defined);
    }

    private Result conflictingClaims(String uuid, List<Domain> claims) {
        String names = claims.stream().map(DomainSyncer::ref).toList().toString();
        for (Domain d : claims) {
            LOG.error("{}: {} Domains claim uuid {}: {}; the agent acts on none of them", ref(d), claims.size(),
                    uuid, names);
            writeStatus(d, null, OptionalLong.empty(), false, DomainStatusBuilder.Outcome.failed(
                    DomainStatusBuilder.REASON_CONFLICT, "Domains " + names + " all claim uuid " + uuid, 0, null));
        }
        return Result.DONE;
    }

    /** libvirt has a domain with the Domain's UUID that is not virtfleet's, or is another host's: never touched. */
    private Result notOurs(Domain d, Observation seen) {
        String ref = ref(d);
        String uuid = seen.uuid();
        String why = seen.mark().isEmpty()
                ? "libvirt already has a domain with uuid " + uuid + " that is not virtfleet's (no ownership "
                + "mark); the agent never touches it"
                : "libvirt's domain with uuid " + uuid + " is marked for host '" + seen.mark().get().host()
                + "', not this host; the agent does not touch it";
        if (d.getMetadata().getDeletionTimestamp() != null) {
            LOG.warn("{}: {}; removing the finalizer without undefining anything", ref, why);
            status.patchFinalizer(d, false);
            return Result.DONE;
        }
        LOG.error("{}: {}", ref, why);
        warnIfNew(d, DomainStatusBuilder.REASON_CONFLICT, why);
        writeStatus(d, null, OptionalLong.empty(), false, DomainStatusBuilder.Outcome.failed(
                DomainStatusBuilder.REASON_CONFLICT, why, 0, null));
        return Result.DONE;
    }

    // ------------------------------------------------------------------------------------------------------ plan

    /** Validates the spec and plans (pure: {@link DomainSyncPlanner}) from what was observed. */
    Pass plan(Domain d, Observation seen) throws LibvirtConnection.UnavailableException {
        String ref = ref(d);
        boolean deleting = d.getMetadata().getDeletionTimestamp() != null;
        DomainValidator.Result validation = validator.validate(d, emulators());
        if (!validation.valid() && !deleting) {
            LOG.warn("{}: invalid spec, nothing is defined from it: {}", ref, validation.summary());
        }
        boolean hasFinalizer = d.getMetadata().getFinalizers() != null
                && d.getMetadata().getFinalizers().contains(ApiGroup.AGENT_FINALIZER);
        Long observedRestart = d.getStatus() == null ? null : d.getStatus().observedRestartGeneration;
        DomainStarts.Finished ended = starts.finished(seen.uuid());
        ObservedDomain observed = seen.libvirt().map(i -> new ObservedDomain(true, DomainState.of(i.state()),
                        seen.appliedSpecHash(), shutdownRequests.get(seen.uuid())))
                .orElse(ObservedDomain.notDefined())
                .withStart(starts.inFlight(seen.uuid()), ended == null ? null : ended.served(),
                        ended != null && ended.error() != null)
                .withLastShutdownPress(shutdownPresses.get(seen.uuid()));
        DomainSyncPlanner.Desired desired = DomainSyncPlanner.Desired.of(d.getSpec(), validation.specHash(),
                validation.valid(), deleting, hasFinalizer, observedRestart);
        Instant now = clock.instant();
        DomainSyncPlanner.Plan plan = DomainSyncPlanner.plan(desired, observed, now);
        if (!plan.actions().isEmpty()) {
            LOG.info("{}: libvirt {} ({}), powerState {}, restartGeneration {}/{} -> {}", ref,
                    seen.libvirt().map(i -> DomainState.of(i.state()).statusName()).orElse(DomainState.NOT_DEFINED),
                    seen.uuid(), d.getSpec().powerState, desired.restartGeneration(), observedRestart,
                    plan.actions());
        }
        return new Pass(d, ref, seen, validation, desired, observed, plan, now);
    }

    // ------------------------------------------------------------------------------------------------------- act

    /** Carries out the plan's steps in order; the first libvirt error ends them (reported, retried). */
    Acted act(Pass p) throws LibvirtConnection.UnavailableException {
        Acted a = new Acted(p.domain());
        String uuid = p.uuid();
        DomainStarts.Finished ended = starts.finished(uuid);
        if (ended != null && !p.deleting()) {
            // The starts that ended since the last status write: counted, and a failure reported as a failed step
            // of this pass would be (the planner did not start again: the retry backs off).
            a.startsReported = ended;
            a.started = ended.started();
            if (ended.error() != null) {
                a.error = "start failed: " + ended.error().getMessage();
                a.errorReason = DomainStatusBuilder.REASON_LIBVIRT_ERROR;
                LOG.error("{}: {}", p.ref(), a.error);
                warnIfNew(a.domain, "LibvirtError", a.error);
            }
        }
        Optional<InspectedDomain> lv = p.seen().libvirt();
        // Hot-plug fast path: a running domain whose only step is the redefine of its persistent config gets its
        // devices attached/detached first (LIVE|CONFIG, from what the inspect above read), not after a define round
        // trip and another inspect; the redefine then finds the config already matching.
        if (a.error == null && lv.isPresent() && lv.get().active() && lv.get().liveXml() != null && hotplugDriver
                && p.validation().valid()
                && !p.deleting() && p.domain().getSpec().domainXml != null
                && p.plan().actions().equals(List.of(LifecycleAction.DEFINE))
                && GenidPolicy.mayDefine(p.wantGeneration(), p.seen().stampedGeneration())
                // A disk the host still has to create (or the seed) is attached after the redefine, once it exists.
                && !DomainFiles.needed(p.domain().getSpec())) {
            a.early = hotplug(p.domain(), p, uuid, lv.get(), true);
            a.changedLibvirt = a.early != null && a.early.changed(); // null: it touched nothing
        }
        boolean guestAgent = lv.isPresent() && lv.get().active()
                && GuestReplies.channel(p.seen().currentXml()) == GuestReplies.Channel.CONNECTED;
        DomainActuator.Context context = new DomainActuator.Context(p.ref(), uuid, host,
                p.desired().shutdownTimeout(), p.observed().shutdownRequestedAt() != null, guestAgent);
        for (LifecycleAction action : p.plan().actions()) {
            if (a.error != null) {
                break; // the failed start this pass reports
            }
            if (a.prepared == null && (action == LifecycleAction.DEFINE || action == LifecycleAction.START
                    || action == LifecycleAction.START_PAUSED) && !prepareFiles(p, a)) {
                break;
            }
            try {
                switch (action) {
                    case ADD_FINALIZER -> {
                        a.domain = status.patchFinalizer(a.domain, true);
                        if (a.domain == null) {
                            a.finished = true; // deleted meanwhile
                            return a;
                        }
                    }
                    case DEFINE -> define(p, a);
                    case REMOVE_FINALIZER -> {
                        starts.forget(uuid);
                        removeFiles(a.domain, p.ref());
                        status.patchFinalizer(a.domain, false);
                        forgetShutdown(uuid);
                        status.forget(uuid);
                        watcher.untrack(uuid);
                        LOG.info("{}: libvirt domain {} is gone; removed the finalizer", p.ref(), uuid);
                        a.finished = true;
                        return a;
                    }
                    case RECORD_RESTART -> a.recordRestart = p.observed().startedGeneration() != null
                            ? p.observed().startedGeneration() : p.desired().restartGeneration();
                    case START, START_PAUSED -> {
                        // Off this worker: virDomainCreate returns once QEMU runs the guest (most of a second
                        // under TCG); its end queues the UUID again, and that pass records the start.
                        forgetShutdown(uuid);
                        starts.submit(uuid, action, a.domain, context, p.desired().restartGeneration());
                        a.handedOff = true;
                        return a;
                    }
                    default -> {
                        a.changedLibvirt |= actuator.run(action, a.domain, context);
                        switch (action) {
                            case SHUTDOWN -> {
                                shutdownRequests.put(uuid, p.now());
                                shutdownPresses.remove(uuid);
                            }
                            case REPEAT_SHUTDOWN -> shutdownPresses.put(uuid, p.now());
                            case DESTROY -> forgetShutdown(uuid);
                            default -> {
                            }
                        }
                    }
                }
            } catch (LibvirtCallException e) {
                a.error = action.name().toLowerCase(Locale.ROOT).replace('_', ' ') + " failed: " + e.getMessage();
                a.errorReason = DomainStatusBuilder.REASON_LIBVIRT_ERROR;
                LOG.error("{}: {}", p.ref(), a.error);
                warnIfNew(a.domain, "LibvirtError", a.error);
                break;
            }
        }
        return a;
    }

    /**
     * The files the domain opens (disks from images, blank disks, the cloud-init seed) are made before libvirt is
     * asked to define or start it; false when they are not there yet (downloading, or failed: {@code a.error}) and
     * the pass must not go on.
     */
    private boolean prepareFiles(Pass p, Acted a) {
        DomainFiles f = files;
        if (f == null) {
            a.prepared = DomainFiles.needed(a.domain.getSpec())
                    ? new DomainFiles.Prepared(false, List.of(), List.of(),
                    "this agent creates no disks from images, blank disks or cloud-init seeds", null)
                    : DomainFiles.Prepared.NOTHING;
        } else {
            a.prepared = f.prepare(a.domain, p.validation().xml().qcow2DiskFiles());
        }
        if (!a.prepared.created().isEmpty()) {
            // Recorded at once, not with the rest of the pass: a libvirt outage later in this pass would end it
            // unrecorded, the next pass finds the files existing, and they would never be removed with the Domain.
            List<String> created = a.prepared.created();
            status.write(a.domain, cur -> {
                DomainStatus s = cur.getStatus() == null ? new DomainStatus()
                        : client.getKubernetesSerialization().clone(cur).getStatus();
                s.createdDisks = DomainFiles.record(s.createdDisks, created);
                return s;
            });
        }
        if (a.prepared.error() != null) {
            a.error = a.prepared.error();
            a.errorReason = DomainStatus.REASON_PROVISIONING_FAILED;
            LOG.warn("{}: {}", p.ref(), a.error);
            warnIfNew(a.domain, a.errorReason, a.error);
        }
        return a.prepared.ready();
    }

    /** The libvirt domain is gone: its seed and the disks this host created go too (never a cached base). */
    private void removeFiles(Domain d, String ref) {
        DomainFiles f = files;
        if (f == null) {
            return;
        }
        List<String> left = f.remove(d);
        if (!left.isEmpty()) {
            // Not a reason to keep the Domain (and its VM) from going: the files are named for the admin.
            LOG.warn("{}: could not remove {}", ref, left);
            events.record(d, EventRecorder.WARNING, "FilesLeft", "could not remove " + left);
        }
    }

    /**
     * Defines the spec, stamped with the agent's metadata. The genid rule ({@link GenidPolicy#mayDefine}): libvirt's
     * definition is stamped with the genidGeneration of its genid; a spec of a lower one (a Domain cached before a
     * restore pinned a newer genid) is never defined over it. libvirt starts a domain from its persistent
     * definition, so skipping the redefine is safe.
     */
    private void define(Pass p, Acted a) throws LibvirtConnection.UnavailableException, LibvirtCallException {
        DomainDocument definedXml = p.seen().definedXml();
        Long stampedGeneration = p.seen().stampedGeneration();
        long wantGeneration = p.wantGeneration();
        String uuid = p.uuid();
        if (!GenidPolicy.mayDefine(wantGeneration, stampedGeneration)) {
            a.genidWait = "the operator to pin generation ID " + definedXml.genid() + " (genidGeneration "
                    + stampedGeneration + "; the spec has " + wantGeneration + ")";
            LOG.info("{}: not redefining libvirt domain {}: waiting for {}", p.ref(), uuid, a.genidWait);
            return;
        }
        String genid = a.domain.getSpec().genid;
        if ((genid == null || genid.isBlank()) && definedXml != null && definedXml.genid() != null
                && !definedXml.genid().isEmpty() && "".equals(p.validation().xml().genid())) {
            // <genid/> makes libvirt generate a new one on every define: keep the one it made.
            genid = definedXml.genid();
        }
        String xml = p.validation().xml().withAgentMetadata(p.validation().specHash(), genid, wantGeneration);
        a.changedLibvirt = true;
        libvirt.define(xml);
        String note = p.observed().active() ? " - persistent config only; it applies at the next start" : "";
        LOG.info("{}: defined libvirt domain {} ({}){}", p.ref(), p.validation().xml().name(), uuid, note);
        events.record(a.domain, EventRecorder.NORMAL, p.observed().defined() ? "Redefined" : "Defined",
                "libvirt domain " + p.validation().xml().name() + " (" + uuid + ") defined on host " + host + note);
    }

    // ---------------------------------------------------------------------------------------------------- record

    /** Reads libvirt again, applies hot-plug to a running domain, and writes the status; says what comes next. */
    Result record(Pass p, Acted a) throws LibvirtConnection.UnavailableException {
        Domain d = a.domain;
        String uuid = p.uuid();
        if (a.error == null && !p.validation().valid()) {
            a.error = "invalid spec: " + p.validation().summary();
            a.errorReason = DomainStatusBuilder.REASON_INVALID_SPEC;
            warnIfNew(d, DomainStatusBuilder.REASON_INVALID_SPEC, a.error);
        }
        // What observe read is still what is when this pass changed nothing in libvirt (a change by anything else
        // comes with libvirt's lifecycle event, which queues the UUID again).
        Optional<InspectedDomain> after = a.changedLibvirt ? inspect(uuid) : p.seen().libvirt();
        // A running domain's disks and interfaces follow the spec live (the persistent config was redefined).
        Hotplugger.Outcome hot = Hotplugger.Outcome.NOTHING;
        if (after.isPresent() && after.get().active() && after.get().liveXml() != null && hotplugDriver
                && p.validation().valid() && a.error == null && d.getSpec().domainXml != null) {
            if (a.early != null) {
                hot = a.early; // done before the redefine: `after` already shows it
            } else {
                hot = hotplug(d, p, uuid, after.get(), false);
                if (hot.changed()) {
                    after = inspect(uuid);
                }
            }
            if (hot.error() != null) {
                a.error = hot.error();
                a.errorReason = Hotplugger.REASON_HOTPLUG_FAILED;
                warnIfNew(d, Hotplugger.REASON_HOTPLUG_FAILED, a.error);
            }
        } else if (after.isEmpty() || !after.get().active()) {
            hotplugger.forget(uuid);
        }
        if (after.isEmpty() || !after.get().active()) {
            forgetShutdown(uuid);
        }
        InspectedDomain info = after.orElse(null);
        OptionalLong pid = info != null && info.active() ? qemu.pid(info.name(), uuid) : OptionalLong.empty();
        boolean visible = info != null && info.active() && qemuDriver && qemu.seesHostProcesses();
        boolean processGone = visible && pid.isEmpty();
        if (pid.isPresent() && visible) {
            watcher.track(uuid, pid.getAsLong());
        } else {
            watcher.untrack(uuid);
        }
        String waiting = a.genidWait != null ? a.genidWait : p.plan().waitingFor();
        DomainFiles.Prepared made = a.prepared;
        if (made != null && !made.downloads().isEmpty()) {
            waiting = DomainFiles.describe(made.downloads());
        }
        DomainStatusBuilder.Outcome outcome = a.error == null
                ? DomainStatusBuilder.Outcome.ok(waiting, a.started, a.recordRestart)
                : DomainStatusBuilder.Outcome.failed(a.errorReason, a.error, a.started, a.recordRestart);
        // observe (guest side): the guest agent's last reading, a new one started off this worker when due.
        boolean active = info != null && info.active();
        GuestReplies.Channel channel = active ? GuestReplies.channel(info.live())
                : GuestReplies.Channel.NONE;
        GuestAgentPoller agentReader = guestAgent;
        GuestView.Reading reading = agentReader == null ? null
                : agentReader.reading(uuid, channel == GuestReplies.Channel.CONNECTED);
        Instant seenAt = clock.instant();
        GuestView[] guest = new GuestView[1];
        status.write(d, cur -> {
            DomainStatus s = DomainStatusBuilder.build(cur, info, pid, processGone, outcome, clock.instant());
            s.devices = hotplugger.decorate(uuid, s.devices);
            if (agentReader != null) {
                guest[0] = GuestView.of(active, channel, reading, s.devices, seenAt);
                DomainStatusBuilder.withGuest(cur, s, guest[0], clock.instant());
            }
            if (made != null) {
                s.createdDisks = DomainFiles.record(s.createdDisks, made.created());
                s.imageDownloads = made.downloads().isEmpty() ? null : made.downloads();
            }
            return s;
        });
        if (a.startsReported != null) {
            starts.reported(uuid, a.startsReported);
        }
        if (a.error != null && a.errorReason.equals(DomainStatusBuilder.REASON_LIBVIRT_ERROR)) {
            return Result.RETRY;
        }
        Duration requeue = p.plan().requeueAfter();
        if (made != null && made.retryAfter() != null
                && (requeue == null || made.retryAfter().compareTo(requeue) < 0)) {
            requeue = made.retryAfter();
        }
        if (guest[0] != null && guest[0].pollAgain() != null
                && (requeue == null || guest[0].pollAgain().compareTo(requeue) < 0)) {
            requeue = guest[0].pollAgain();
        }
        Duration hotRequeue = !hot.failures().isEmpty() ? Hotplugger.RETRY_FAILED : hot.requeueAfter();
        if (hotRequeue != null && (requeue == null || hotRequeue.compareTo(requeue) < 0)) {
            requeue = hotRequeue;
        }
        return new Result(requeue, false);
    }

    /**
     * One hot-plug pass; {@code beforeRedefine}: the fast path, null when it must wait for the redefine. Plans from
     * the documents already parsed: the validated spec's and those of {@code info}'s read.
     */
    private Hotplugger.Outcome hotplug(Domain d, Pass p, String uuid, InspectedDomain info, boolean beforeRedefine)
            throws LibvirtConnection.UnavailableException {
        Hotplugger.Outcome none = beforeRedefine ? null : Hotplugger.Outcome.NOTHING;
        if (info.live() == null) {
            LOG.warn("{}: cannot plan hot-plug: libvirt's live XML does not parse: {}", p.ref(), info.parseProblem());
            return none;
        }
        Hotplugger.Outcome hot;
        try {
            DomainDef desired = p.validation().xml().def();
            DomainDef live = info.live().def();
            DomainDef persistent = info.inactive() == null ? null : info.inactive().def();
            hot = beforeRedefine
                    ? hotplugger.syncBeforeRedefine(p.ref(), uuid, desired, live, persistent)
                    : hotplugger.sync(p.ref(), uuid, desired, live, persistent);
        } catch (IllegalArgumentException e) {
            LOG.warn("{}: cannot plan hot-plug: {}", p.ref(), e.getMessage());
            return none;
        }
        if (hot == null) {
            return null;
        }
        for (String done : hot.done()) {
            events.record(d, EventRecorder.NORMAL, "DeviceChanged", done + " (live)");
        }
        return hot;
    }

    /**
     * A Domain without a usable spec.uuid: nothing can be keyed on it, so nothing is defined; the error goes to its
     * status (and a deleting one just loses the finalizer).
     */
    public void syncUnkeyed(Domain d) {
        if (d.getSpec() != null && d.getSpec().host != null && !host.equals(d.getSpec().host)) {
            return;
        }
        if (d.getMetadata().getDeletionTimestamp() != null) {
            status.patchFinalizer(d, false);
            return;
        }
        String uuid = d.getSpec() == null ? null : d.getSpec().uuid;
        String why = "invalid spec: spec.uuid " + (uuid == null ? "is missing" : "'" + uuid + "' is not a UUID")
                + "; nothing is defined";
        LOG.warn("{}: {}", ref(d), why);
        warnIfNew(d, DomainStatusBuilder.REASON_INVALID_SPEC, why);
        writeStatus(d, null, OptionalLong.empty(), false, DomainStatusBuilder.Outcome.failed(
                DomainStatusBuilder.REASON_INVALID_SPEC, why, 0, null));
    }

    /** A Warning event, unless the Domain's status already reports this very error (no event per retry). */
    private void warnIfNew(Domain d, String reason, String message) {
        if (d.getStatus() != null && message.equals(d.getStatus().lastError)) {
            return;
        }
        events.record(d, EventRecorder.WARNING, reason, message);
    }

    /**
     * The QEMU process of {@code uuid} exited (seen by {@link QemuWatcher}). libvirt may block calls on the domain
     * until it has reaped the process, so the status says so at once, without asking libvirt; the regular pass that
     * follows reports libvirt's state.
     */
    public void processExited(String uuid, long pid) {
        List<Domain> claims = domainsByUuid.apply(uuid);
        if (claims.size() != 1) {
            return;
        }
        Domain d = claims.get(0);
        if (d.getStatus() == null || d.getStatus().pid == null || d.getStatus().pid != pid
                || d.getSpec() == null || !host.equals(d.getSpec().host)) {
            return;
        }
        if (d.getSpec().migration != null) {
            // The source QEMU of a live migration exits once the guest runs on the target (migration/Migrator).
            LOG.info("{}: QEMU process {} of libvirt domain {} exited during its live migration", ref(d), pid, uuid);
            return;
        }
        LOG.info("{}: QEMU process {} of libvirt domain {} exited", ref(d), pid, uuid);
        events.record(d, EventRecorder.WARNING, DomainStatusBuilder.PROCESS_EXITED, "QEMU process " + pid
                + " of libvirt domain " + uuid + " exited");
        status.write(d, cur -> {
            DomainStatus prev = cur.getStatus() == null ? new DomainStatus() : cur.getStatus();
            if (prev.pid == null || prev.pid != pid) {
                return prev; // already reported otherwise
            }
            DomainStatus s = client.getKubernetesSerialization().clone(prev);
            s.pid = null;
            s.observedTime = clock.instant().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString();
            List<io.fabric8.kubernetes.api.model.Condition> conds = new ArrayList<>();
            for (var c : prev.conditions) {
                if (!DomainStatusBuilder.READY.equals(c.getType())) {
                    conds.add(c);
                }
            }
            conds.add(DomainStatusBuilder.condition(prev, DomainStatusBuilder.READY, "False",
                    DomainStatusBuilder.PROCESS_EXITED, "QEMU process " + pid + " has exited; waiting for libvirt "
                            + "to report the domain's new state", cur.getMetadata().getGeneration(), clock.instant()));
            s.conditions = conds;
            return s;
        });
    }

    // --------------------------------------------------------------------------------------------------- fencing

    private Result fence(String uuid, InspectedDomain info, Domain d) throws LibvirtConnection.UnavailableException {
        String name = info.name();
        if (d == null) {
            if (!informerSynced.getAsBoolean()) {
                LOG.info("libvirt domain {} ({}) is marked for this host but its Domain is not (yet) known; "
                        + "waiting for the Domain informer to sync before deciding", name, uuid);
                return new Result(Duration.ofSeconds(1), false);
            }
            // The cache says gone or assigned elsewhere. Confirm against the API before destroying anything.
            Optional<Domain> live;
            try {
                live = client.resources(Domain.class).inAnyNamespace().list().getItems().stream()
                        .filter(x -> x.getSpec() != null && uuid.equalsIgnoreCase(x.getSpec().uuid)).findFirst();
            } catch (KubernetesClientException e) {
                LOG.warn("libvirt domain {} ({}): cannot confirm with the API server that its Domain is gone ({}); "
                        + "not fencing now", name, uuid, e.getMessage());
                return new Result(null, true);
            }
            if (live.isPresent() && io.virtfleet.agent.migration.Migrator.arriving(live.get(), host)) {
                // The copy arriving by a live migration (marked for this host by the destination XML); the Domain
                // is re-pointed here once libvirt finished.
                LOG.debug("libvirt domain {} ({}) is arriving by live migration for {}", name, uuid, ref(live.get()));
                return new Result(Duration.ofSeconds(2), false);
            }
            if (live.isPresent() && host.equals(live.get().getSpec().host)) {
                LOG.warn("{}: assigned to this host (spec.host) but not labelled {}={}; the agent does not see it "
                        + "and leaves libvirt domain {} ({}) alone", ref(live.get()), ApiGroup.HOST_LABEL, host, name,
                        uuid);
                return Result.DONE;
            }
            d = live.orElse(null);
        }
        String why = d == null ? "its Domain no longer exists"
                : "its Domain " + ref(d) + " is assigned to host '" + d.getSpec().host + "'";
        LOG.error("FENCING libvirt domain {} ({}): marked for this host '{}' but {}; destroying and undefining it",
                name, uuid, host, why);
        if (d != null) {
            events.record(d, EventRecorder.WARNING, "Fenced", "host " + host + " destroys and undefines its copy "
                    + "of libvirt domain " + name + " (" + uuid + "): the Domain is assigned to host '"
                    + d.getSpec().host + "'");
        }
        try {
            if (info.active()) {
                DomainActuator.tolerant(name, LifecycleAction.DESTROY, true, () -> libvirt.destroy(uuid));
                LOG.error("FENCING libvirt domain {} ({}): destroyed", name, uuid);
            }
            if (info.persistent()) {
                libvirt.undefine(uuid, FENCE_UNDEFINE_FLAGS);
                LOG.error("FENCING libvirt domain {} ({}): undefined", name, uuid);
            }
        } catch (LibvirtCallException e) {
            String msg = e.getMessage();
            LOG.error("FENCING libvirt domain {} ({}) failed: {}; retrying", name, uuid, msg);
            return new Result(null, true);
        }
        forgetShutdown(uuid);
        watcher.untrack(uuid);
        return Result.DONE;
    }

    // ------------------------------------------------------------------------------------------------ kubernetes

    private void writeStatus(Domain d, InspectedDomain info, OptionalLong pid, boolean processGone,
                             DomainStatusBuilder.Outcome outcome) {
        status.write(d, cur -> DomainStatusBuilder.build(cur, info, pid, processGone, outcome, clock.instant()));
    }

    // --------------------------------------------------------------------------------------------------- libvirt

    private Optional<InspectedDomain> inspect(String uuid) throws LibvirtConnection.UnavailableException {
        try {
            return libvirt.inspect(uuid);
        } catch (LibvirtCallException e) {
            throw new LibvirtConnection.UnavailableException("cannot read libvirt domain " + uuid + ": "
                    + e.getMessage());
        }
    }

    /** No shutdown is awaited for {@code uuid} any more (it is off, destroyed, started or gone). */
    private void forgetShutdown(String uuid) {
        shutdownRequests.remove(uuid);
        shutdownPresses.remove(uuid);
    }
}
