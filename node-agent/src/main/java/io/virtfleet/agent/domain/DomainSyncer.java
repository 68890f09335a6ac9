package io.virtfleet.agent.domain;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.virtfleet.agent.hotplug.Hotplugger;
import io.virtfleet.agent.libvirt.Capabilities;
import io.virtfleet.agent.libvirt.DomainState;
import io.virtfleet.agent.libvirt.LibvirtConnection;
import io.virtfleet.agent.libvirt.LibvirtConnection.DomainInfo;
import io.virtfleet.agent.libvirt.LibvirtNative;
import io.virtfleet.agent.libvirt.QemuProcesses;
import io.virtfleet.agent.libvirt.QemuWatcher;
import io.virtfleet.api.v1alpha1.ApiGroup;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.DomainStatus;
import io.virtfleet.reconcilers.genid.GenidPolicy;
import org.libvirt.Error.ErrorNumber;
import org.libvirt.LibvirtException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * One sync pass for one UUID: looks at the Domain (from the informer cache) and the libvirt domain, plans with
 * {@link DomainSyncPlanner}, carries the plan out, and writes what it then observes to the Domain's status.
 *
 * <p>Ownership: a libvirt domain is the agent's only if its XML carries virtfleet's mark naming this host. Other
 * domains are never changed nor reported. A domain with this host's mark whose Domain is gone or assigned to another
 * host is fenced: destroyed (never started) and undefined.
 */
public final class DomainSyncer {
    private static final Logger LOG = LoggerFactory.getLogger(DomainSyncer.class);
    /** Undefine flags for a deleted Domain: drop managed-save, snapshot/checkpoint metadata and NVRAM. */
    static final int UNDEFINE_FLAGS = LibvirtConnection.UNDEFINE_MANAGED_SAVE
            | LibvirtConnection.UNDEFINE_SNAPSHOTS_METADATA | LibvirtConnection.UNDEFINE_CHECKPOINTS_METADATA
            | LibvirtConnection.UNDEFINE_NVRAM;
    /** Undefine flags when fencing: as above but keep NVRAM (data the Domain's new host may still want). */
    static final int FENCE_UNDEFINE_FLAGS = LibvirtConnection.UNDEFINE_MANAGED_SAVE
            | LibvirtConnection.UNDEFINE_SNAPSHOTS_METADATA | LibvirtConnection.UNDEFINE_CHECKPOINTS_METADATA
            | LibvirtConnection.UNDEFINE_KEEP_NVRAM;

    private final KubernetesClient client;
    private final LibvirtConnection libvirt;
    private final String host;
    private final DomainValidator validator;
    private final QemuProcesses qemu;
    private final Function<String, List<Domain>> domainsByUuid;
    private final BooleanSupplier informerSynced;
    private final Clock clock;
    private final Duration statusRefresh;
    private final Map<String, Instant> shutdownRequests = new ConcurrentHashMap<>();
    /**
     * What this agent last wrote into each Domain's status (by UUID): the informer cache can lag behind our own
     * writes, and planning from a stale observedRestartGeneration would restart a domain twice.
     */
    private final Map<String, Recorded> recorded = new ConcurrentHashMap<>();
    private final QemuWatcher watcher;
    private final boolean qemuDriver;
    private final EventRecorder events;
    private final Hotplugger hotplugger;
    private volatile Set<String> emulators = Set.of();
    private volatile io.virtfleet.agent.migration.Migrator migrator;
    private volatile io.virtfleet.agent.provision.DomainFiles files;

    private record Recorded(String uid, Long observedRestartGeneration, Long startCount) {
    }

    /** What the pass wants next: another pass after {@code requeueAfter} (nullable), or a retry with backoff. */
    public record Result(Duration requeueAfter, boolean failed) {
        static final Result DONE = new Result(null, false);
    }

    public DomainSyncer(KubernetesClient client, LibvirtConnection libvirt, String host, DomainValidator validator,
                        QemuProcesses qemu, Function<String, List<Domain>> domainsByUuid,
                        BooleanSupplier informerSynced, Clock clock, Duration statusRefresh,
                        QemuWatcher watcher) {
        this.client = client;
        this.libvirt = libvirt;
        this.host = host;
        this.validator = validator;
        this.qemu = qemu;
        this.domainsByUuid = domainsByUuid;
        this.informerSynced = informerSynced;
        this.clock = clock;
        this.statusRefresh = statusRefresh;
        this.watcher = watcher;
        this.qemuDriver = libvirt.uri().startsWith("qemu");
        this.events = new EventRecorder(client, host);
        this.hotplugger = new Hotplugger(libvirt, clock);
    }

    /** Live migrations of this host's domains (null: none are driven). */
    public void setMigrator(io.virtfleet.agent.migration.Migrator migrator) {
        this.migrator = migrator;
    }

    /** Disks from images, blank disks and cloud-init seeds (null: Domains needing them are refused). */
    public void setDomainFiles(io.virtfleet.agent.provision.DomainFiles files) {
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
            } catch (LibvirtException ex) {
                throw new LibvirtConnection.UnavailableException("cannot read libvirt capabilities: "
                        + LibvirtConnection.describe(ex));
            } catch (LibvirtNative.LibvirtCallException ex) {
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
    public void close() {
        events.close(Duration.ofSeconds(5));
    }

    public Result sync(String uuid) throws LibvirtConnection.UnavailableException {
        List<Domain> claims = domainsByUuid.apply(uuid);
        Optional<DomainInfo> lv = inspect(uuid);
        DomainXml lvXml = lv.map(i -> parseQuietly(i.currentXml(), uuid)).orElse(null);
        Optional<DomainXml.OwnershipMark> mark = lvXml == null ? Optional.empty() : lvXml.ownershipMark();
        boolean mine = mark.isPresent() && host.equals(mark.get().host());

        if (claims.size() > 1) {
            String names = claims.stream().map(DomainSyncer::ref).toList().toString();
            for (Domain d : claims) {
                LOG.error("{}: {} Domains claim uuid {}: {}; the agent acts on none of them", ref(d), claims.size(),
                        uuid, names);
                writeStatus(d, null, OptionalLong.empty(), false, DomainStatusBuilder.Outcome.failed(
                        DomainStatusBuilder.REASON_CONFLICT, "Domains " + names + " all claim uuid " + uuid, 0,
                        null));
            }
            return Result.DONE;
        }
        Domain d = claims.isEmpty() ? null : withRecorded(uuid, claims.get(0));
        if (migrator != null) {
            // A live migration owns the domain on this host while the Domain carries it (migration/Migrator).
            Optional<Duration> migrating = migrator.beforeSync(uuid, d, lv);
            if (migrating.isPresent()) {
                return new Result(migrating.get(), false);
            }
        }
        if (d == null || d.getSpec() == null || !host.equals(d.getSpec().host)) {
            recorded.remove(uuid);
            watcher.untrack(uuid);
            if (lv.isPresent() && mine) {
                return fence(uuid, lv.get(), d);
            }
            return Result.DONE;
        }
        String ref = ref(d);
        boolean deleting = d.getMetadata().getDeletionTimestamp() != null;
        if (lv.isPresent() && !mine) {
            String why = mark.isEmpty()
                    ? "libvirt already has a domain with uuid " + uuid + " that is not virtfleet's (no ownership "
                    + "mark); the agent never touches it"
                    : "libvirt's domain with uuid " + uuid + " is marked for host '" + mark.get().host()
                    + "', not this host; the agent does not touch it";
            if (deleting) {
                LOG.warn("{}: {}; removing the finalizer without undefining anything", ref, why);
                patchFinalizer(d, false);
                return Result.DONE;
            }
            LOG.error("{}: {}", ref, why);
            warnIfNew(d, DomainStatusBuilder.REASON_CONFLICT, why);
            writeStatus(d, null, OptionalLong.empty(), false, DomainStatusBuilder.Outcome.failed(
                    DomainStatusBuilder.REASON_CONFLICT, why, 0, null));
            return Result.DONE;
        }

        DomainValidator.Result validation = validator.validate(d, emulators());
        if (!validation.valid() && !deleting) {
            LOG.warn("{}: invalid spec, nothing is defined from it: {}", ref, validation.summary());
        }
        boolean hasFinalizer = d.getMetadata().getFinalizers() != null
                && d.getMetadata().getFinalizers().contains(ApiGroup.AGENT_FINALIZER);
        Long observedRestart = d.getStatus() == null ? null : d.getStatus().observedRestartGeneration;
        ObservedDomain observed = lv.map(i -> new ObservedDomain(true, DomainState.of(i.state()),
                        appliedHash(i), shutdownRequests.get(uuid)))
                .orElse(ObservedDomain.notDefined());
        DomainSyncPlanner.Desired desired = DomainSyncPlanner.Desired.of(d.getSpec(), validation.specHash(),
                validation.valid(), deleting, hasFinalizer, observedRestart);
        Instant now = clock.instant();
        DomainSyncPlanner.Plan plan = DomainSyncPlanner.plan(desired, observed, now);
        if (!plan.actions().isEmpty()) {
            LOG.info("{}: libvirt {} ({}), powerState {}, restartGeneration {}/{} -> {}", ref,
                    lv.map(i -> DomainState.of(i.state()).statusName()).orElse(DomainState.NOT_DEFINED),
                    uuid, d.getSpec().powerState, desired.restartGeneration(), observedRestart, plan.actions());
        }

        // The genid rule (GenidPolicy.mayDefine): libvirt's definition is stamped with the genidGeneration of its
        // genid; a spec of a lower one (a Domain cached before a restore pinned a newer genid) is never defined over
        // it. libvirt starts a domain from its persistent definition, so skipping the redefine is safe.
        DomainXml definedXml = lv.map(i -> parseQuietly(i.inactiveXml() != null ? i.inactiveXml() : i.liveXml(),
                uuid)).orElse(null);
        Long stampedGeneration = definedXml == null ? null : definedXml.appliedGenidGeneration().orElse(null);
        long wantGeneration = d.getSpec().genidGeneration == null ? 0L : d.getSpec().genidGeneration;
        String genidWait = null;

        // Hot-plug fast path: a running domain whose only step is the redefine of its persistent config gets its
        // devices attached/detached first (LIVE|CONFIG, from what the inspect above read), not after a define round
        // trip and another inspect; the redefine then finds the config already matching.
        Hotplugger.Outcome early = null;
        if (lv.isPresent() && lv.get().active() && lv.get().liveXml() != null && qemuDriver && validation.valid()
                && !deleting && d.getSpec().domainXml != null
                && plan.actions().equals(List.of(LifecycleAction.DEFINE))
                && GenidPolicy.mayDefine(wantGeneration, stampedGeneration)) {
            early = hotplug(d, ref, uuid, lv.get(), true);
        }

        int started = 0;
        Long recordRestart = null;
        String error = null;
        String errorReason = null;
        io.virtfleet.agent.provision.DomainFiles.Prepared prepared = null;
        for (LifecycleAction action : plan.actions()) {
            if (prepared == null && (action == LifecycleAction.DEFINE || action == LifecycleAction.START
                    || action == LifecycleAction.START_PAUSED)) {
                // The files the domain opens (disks from images, blank disks, the cloud-init seed) exist before
                // libvirt is asked to define or start it; until then nothing else is done.
                prepared = prepareFiles(d, validation.xml());
                if (!prepared.ready()) {
                    if (prepared.error() != null) {
                        error = prepared.error();
                        errorReason = io.virtfleet.api.v1alpha1.DomainStatus.REASON_PROVISIONING_FAILED;
                        LOG.warn("{}: {}", ref, error);
                        warnIfNew(d, errorReason, error);
                    }
                    break;
                }
            }
            try {
                switch (action) {
                    case ADD_FINALIZER -> {
                        d = patchFinalizer(d, true);
                        if (d == null) {
                            return Result.DONE; // deleted meanwhile
                        }
                    }
                    case DEFINE -> {
                        if (!GenidPolicy.mayDefine(wantGeneration, stampedGeneration)) {
                            genidWait = "the operator to pin generation ID " + definedXml.genid() + " (genidGeneration "
                                    + stampedGeneration + "; the spec has " + wantGeneration + ")";
                            LOG.info("{}: not redefining libvirt domain {}: waiting for {}", ref, uuid, genidWait);
                            break;
                        }
                        String genid = d.getSpec().genid;
                        if ((genid == null || genid.isBlank()) && definedXml != null && definedXml.genid() != null
                                && !definedXml.genid().isEmpty() && "".equals(validation.xml().genid())) {
                            // <genid/> makes libvirt generate a new one on every define: keep the one it made.
                            genid = definedXml.genid();
                        }
                        String xml = validation.xml().withAgentMetadata(validation.specHash(), genid, wantGeneration);
                        libvirt.define(xml);
                        String note = observed.active() ? " - persistent config only; it applies at the next start"
                                : "";
                        LOG.info("{}: defined libvirt domain {} ({}){}", ref, validation.xml().name(), uuid, note);
                        events.record(d, EventRecorder.NORMAL, observed.defined() ? "Redefined" : "Defined",
                                "libvirt domain " + validation.xml().name() + " (" + uuid + ") defined on host "
                                        + host + note);
                    }
                    case START, START_PAUSED -> {
                        libvirt.start(uuid, action == LifecycleAction.START_PAUSED);
                        shutdownRequests.remove(uuid);
                        started++;
                        LOG.info("{}: started libvirt domain {}{}", ref, uuid,
                                action == LifecycleAction.START_PAUSED ? " (paused)" : "");
                        events.record(d, EventRecorder.NORMAL, "Started", "started libvirt domain " + uuid
                                + " on host " + host + (action == LifecycleAction.START_PAUSED ? " (paused)" : ""));
                    }
                    case RESUME -> {
                        tolerateInvalid(ref, action, () -> libvirt.resume(uuid));
                        LOG.info("{}: resumed libvirt domain {}", ref, uuid);
                        events.record(d, EventRecorder.NORMAL, "Resumed", "resumed libvirt domain " + uuid);
                    }
                    case SUSPEND -> {
                        tolerateInvalid(ref, action, () -> libvirt.suspend(uuid));
                        LOG.info("{}: suspended libvirt domain {}", ref, uuid);
                        events.record(d, EventRecorder.NORMAL, "Suspended", "suspended libvirt domain " + uuid);
                    }
                    case SHUTDOWN -> {
                        tolerateInvalid(ref, action, () -> libvirt.shutdown(uuid));
                        shutdownRequests.put(uuid, now);
                        LOG.info("{}: asked the guest to shut down; destroying it after {}s", ref,
                                desired.shutdownTimeout().toSeconds());
                        events.record(d, EventRecorder.NORMAL, "ShuttingDown", "asked the guest to shut down; it "
                                + "is destroyed after " + desired.shutdownTimeout().toSeconds() + " s");
                    }
                    case REPEAT_SHUTDOWN -> {
                        tolerateInvalid(ref, action, () -> libvirt.shutdown(uuid));
                        LOG.info("{}: pressed the power button again; still waiting for the guest", ref);
                    }
                    case DESTROY -> {
                        tolerateInvalid(ref, action, () -> libvirt.destroy(uuid));
                        shutdownRequests.remove(uuid);
                        LOG.info("{}: destroyed libvirt domain {}", ref, uuid);
                        events.record(d, EventRecorder.NORMAL, "Destroyed", "destroyed libvirt domain " + uuid
                                + (observed.shutdownRequestedAt() != null ? " (no shutdown within "
                                + desired.shutdownTimeout().toSeconds() + " s)" : ""));
                    }
                    case UNDEFINE -> {
                        libvirt.undefine(uuid, UNDEFINE_FLAGS);
                        LOG.info("{}: undefined libvirt domain {}", ref, uuid);
                        events.record(d, EventRecorder.NORMAL, "Undefined", "undefined libvirt domain " + uuid
                                + " on host " + host);
                    }
                    case REMOVE_FINALIZER -> {
                        removeFiles(d, ref);
                        patchFinalizer(d, false);
                        shutdownRequests.remove(uuid);
                        recorded.remove(uuid);
                        watcher.untrack(uuid);
                        LOG.info("{}: libvirt domain {} is gone; removed the finalizer", ref, uuid);
                        return Result.DONE;
                    }
                    case RECORD_RESTART -> recordRestart = desired.restartGeneration();
                    default -> throw new IllegalStateException("unhandled action " + action);
                }
            } catch (LibvirtException | LibvirtNative.LibvirtCallException e) {
                String msg = e instanceof LibvirtException le ? LibvirtConnection.describe(le) : e.getMessage();
                error = action.name().toLowerCase(Locale.ROOT).replace('_', ' ') + " failed: " + msg;
                errorReason = DomainStatusBuilder.REASON_LIBVIRT_ERROR;
                LOG.error("{}: {}", ref, error);
                warnIfNew(d, "LibvirtError", error);
                break;
            }
        }
        if (deleting) {
            // Not done yet (a step failed): report and retry.
            return error != null ? new Result(null, true) : Result.DONE;
        }
        if (error == null && !validation.valid()) {
            error = "invalid spec: " + validation.summary();
            errorReason = DomainStatusBuilder.REASON_INVALID_SPEC;
            warnIfNew(d, DomainStatusBuilder.REASON_INVALID_SPEC, error);
        }

        Optional<DomainInfo> after = inspect(uuid);
        // Issue 8: a running domain's disks and interfaces follow the spec live (the persistent config was redefined).
        Hotplugger.Outcome hot = Hotplugger.Outcome.NOTHING;
        if (after.isPresent() && after.get().active() && after.get().liveXml() != null && qemuDriver
                && validation.valid() && error == null && d.getSpec().domainXml != null) {
            if (early != null) {
                hot = early; // done before the redefine: `after` already shows it
            } else {
                hot = hotplug(d, ref, uuid, after.get(), false);
                if (hot.changed()) {
                    after = inspect(uuid);
                }
            }
            if (hot.error() != null) {
                error = hot.error();
                errorReason = Hotplugger.REASON_HOTPLUG_FAILED;
                warnIfNew(d, Hotplugger.REASON_HOTPLUG_FAILED, error);
            }
        } else if (after.isEmpty() || !after.get().active()) {
            hotplugger.forget(uuid);
        }
        if (after.isEmpty() || !after.get().active()) {
            shutdownRequests.remove(uuid);
        }
        DomainInfo info = after.orElse(null);
        OptionalLong pid = info != null && info.active() ? qemu.pid(info.name(), uuid) : OptionalLong.empty();
        boolean visible = info != null && info.active() && qemuDriver && qemu.seesHostProcesses();
        boolean processGone = visible && pid.isEmpty();
        if (pid.isPresent() && visible) {
            watcher.track(uuid, pid.getAsLong());
        } else {
            watcher.untrack(uuid);
        }
        String waiting = genidWait != null ? genidWait : plan.waitingFor();
        if (error == null && prepared != null && !prepared.downloads().isEmpty()) {
            waiting = io.virtfleet.agent.provision.DomainFiles.describe(prepared.downloads());
        }
        DomainStatusBuilder.Outcome outcome = error == null
                ? DomainStatusBuilder.Outcome.ok(waiting, started, recordRestart)
                : DomainStatusBuilder.Outcome.failed(errorReason, error, started, recordRestart);
        DomainInfo seen = info;
        io.virtfleet.agent.provision.DomainFiles.Prepared made = prepared;
        writeStatus(d, cur -> {
            DomainStatus s = DomainStatusBuilder.build(cur, seen, pid, processGone, outcome, clock.instant());
            s.devices = hotplugger.decorate(uuid, s.devices);
            if (made != null) {
                s.createdDisks = io.virtfleet.agent.provision.DomainFiles.record(s.createdDisks, made.created());
                s.imageDownloads = made.downloads().isEmpty() ? null : made.downloads();
            }
            return s;
        });
        if (error != null && errorReason.equals(DomainStatusBuilder.REASON_LIBVIRT_ERROR)) {
            return new Result(null, true);
        }
        Duration requeue = plan.requeueAfter();
        if (prepared != null && prepared.retryAfter() != null
                && (requeue == null || prepared.retryAfter().compareTo(requeue) < 0)) {
            requeue = prepared.retryAfter();
        }
        Duration hotRequeue = !hot.failures().isEmpty() ? Hotplugger.RETRY_FAILED : hot.requeueAfter();
        if (hotRequeue != null && (requeue == null || hotRequeue.compareTo(requeue) < 0)) {
            requeue = hotRequeue;
        }
        return new Result(requeue, false);
    }

    /** The host files the Domain needs; a Domain needing some on an agent without {@link #files} is refused. */
    private io.virtfleet.agent.provision.DomainFiles.Prepared prepareFiles(Domain d, DomainXml xml) {
        io.virtfleet.agent.provision.DomainFiles f = files;
        if (f == null) {
            return io.virtfleet.agent.provision.DomainFiles.needed(d.getSpec())
                    ? new io.virtfleet.agent.provision.DomainFiles.Prepared(false, List.of(), List.of(),
                    "this agent creates no disks from images, blank disks or cloud-init seeds", null)
                    : io.virtfleet.agent.provision.DomainFiles.Prepared.NOTHING;
        }
        return f.prepare(d, xml.qcow2DiskFiles());
    }

    /** The libvirt domain is gone: its seed and the disks this host created go too (never a cached base). */
    private void removeFiles(Domain d, String ref) {
        io.virtfleet.agent.provision.DomainFiles f = files;
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

    /** One hot-plug pass; {@code beforeRedefine}: the fast path, null when it must wait for the redefine. */
    private Hotplugger.Outcome hotplug(Domain d, String ref, String uuid, DomainInfo info, boolean beforeRedefine)
            throws LibvirtConnection.UnavailableException {
        Hotplugger.Outcome hot;
        try {
            hot = beforeRedefine
                    ? hotplugger.syncBeforeRedefine(ref, uuid, d.getSpec().domainXml, info.liveXml(),
                    info.inactiveXml())
                    : hotplugger.sync(ref, uuid, d.getSpec().domainXml, info.liveXml(), info.inactiveXml());
        } catch (IllegalArgumentException e) {
            LOG.warn("{}: cannot plan hot-plug: {}", ref, e.getMessage());
            return beforeRedefine ? null : Hotplugger.Outcome.NOTHING;
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
            patchFinalizer(d, false);
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

    /** {@code d} with the status fields this agent wrote last, when the cached copy is older than that write. */
    private Domain withRecorded(String uuid, Domain d) {
        Recorded r = recorded.get(uuid);
        if (r == null || !java.util.Objects.equals(r.uid(), d.getMetadata().getUid())) {
            return d;
        }
        DomainStatus s = d.getStatus();
        if (s != null && java.util.Objects.equals(s.observedRestartGeneration, r.observedRestartGeneration())
                && java.util.Objects.equals(s.startCount, r.startCount())) {
            return d;
        }
        Domain copy = client.getKubernetesSerialization().clone(d);
        if (copy.getStatus() == null) {
            copy.setStatus(new DomainStatus());
        }
        copy.getStatus().observedRestartGeneration = r.observedRestartGeneration();
        copy.getStatus().startCount = r.startCount();
        return copy;
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
        writeStatus(d, cur -> {
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

    private Result fence(String uuid, DomainInfo info, Domain d) throws LibvirtConnection.UnavailableException {
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
                tolerateInvalid(name, LifecycleAction.DESTROY, () -> libvirt.destroy(uuid));
                LOG.error("FENCING libvirt domain {} ({}): destroyed", name, uuid);
            }
            if (info.persistent()) {
                libvirt.undefine(uuid, FENCE_UNDEFINE_FLAGS);
                LOG.error("FENCING libvirt domain {} ({}): undefined", name, uuid);
            }
        } catch (LibvirtException | LibvirtNative.LibvirtCallException e) {
            String msg = e instanceof LibvirtException le ? LibvirtConnection.describe(le) : e.getMessage();
            LOG.error("FENCING libvirt domain {} ({}) failed: {}; retrying", name, uuid, msg);
            return new Result(null, true);
        }
        shutdownRequests.remove(uuid);
        watcher.untrack(uuid);
        return Result.DONE;
    }

    // ------------------------------------------------------------------------------------------------ kubernetes

    /** Adds or removes the agent finalizer, optimistic on resourceVersion; returns the updated Domain or null. */
    Domain patchFinalizer(Domain d, boolean add) {
        Domain cur = d;
        for (int attempt = 0; attempt < 5; attempt++) {
            List<String> fins = cur.getMetadata().getFinalizers() == null ? new ArrayList<>()
                    : new ArrayList<>(cur.getMetadata().getFinalizers());
            boolean has = fins.contains(ApiGroup.AGENT_FINALIZER);
            if (has == add) {
                return cur;
            }
            if (add) {
                fins.add(ApiGroup.AGENT_FINALIZER);
            } else {
                fins.removeIf(ApiGroup.AGENT_FINALIZER::equals);
            }
            Map<String, Object> meta = new LinkedHashMap<>();
            meta.put("resourceVersion", cur.getMetadata().getResourceVersion());
            meta.put("finalizers", fins);
            String patch = client.getKubernetesSerialization().asJson(Map.of("metadata", meta));
            try {
                return client.resources(Domain.class).inNamespace(cur.getMetadata().getNamespace())
                        .withName(cur.getMetadata().getName())
                        .patch(PatchContext.of(PatchType.JSON_MERGE), patch);
            } catch (KubernetesClientException e) {
                if (e.getCode() == 404) {
                    return null;
                }
                if (e.getCode() != 409) {
                    throw e;
                }
                cur = client.resources(Domain.class).inNamespace(cur.getMetadata().getNamespace())
                        .withName(cur.getMetadata().getName()).get();
                if (cur == null) {
                    return null;
                }
            }
        }
        throw new KubernetesClientException("could not " + (add ? "add" : "remove") + " finalizer on " + ref(d)
                + ": conflicting updates");
    }

    private void writeStatus(Domain d, DomainInfo info, OptionalLong pid, boolean processGone,
                             DomainStatusBuilder.Outcome outcome) {
        writeStatus(d, cur -> DomainStatusBuilder.build(cur, info, pid, processGone, outcome, clock.instant()));
    }

    /** Writes the status {@code build} makes from the current Domain, optimistic on resourceVersion. */
    private void writeStatus(Domain d, Function<Domain, DomainStatus> build) {
        Domain cur = d;
        String uuid = d.getSpec() != null && d.getSpec().uuid != null ? d.getSpec().uuid.toLowerCase(Locale.ROOT)
                : null;
        for (int attempt = 0; attempt < 5; attempt++) {
            DomainStatus next = build.apply(cur);
            DomainStatus prev = cur.getStatus();
            if (!DomainStatusBuilder.differs(prev, next) && !stale(prev)) {
                return;
            }
            Domain copy = client.getKubernetesSerialization().clone(cur);
            copy.setStatus(next);
            try {
                client.resource(copy).updateStatus();
                if (uuid != null && DomainValidator.isUuid(uuid)) {
                    recorded.put(uuid, new Recorded(cur.getMetadata().getUid(), next.observedRestartGeneration,
                            next.startCount));
                    if (next.pid == null) {
                        watcher.untrack(uuid);
                    }
                }
                if (prev == null || !java.util.Objects.equals(prev.state, next.state)
                        || !java.util.Objects.equals(prev.id, next.id)) {
                    LOG.info("{}: status {} {} id={} pid={}", ref(cur), next.state,
                            next.reason == null ? "" : "(" + next.reason + ")", next.id, next.pid);
                }
                return;
            } catch (KubernetesClientException e) {
                if (e.getCode() == 404) {
                    return;
                }
                if (e.getCode() != 409) {
                    throw e;
                }
                cur = client.resources(Domain.class).inNamespace(cur.getMetadata().getNamespace())
                        .withName(cur.getMetadata().getName()).get();
                if (cur == null) {
                    return;
                }
                if (uuid != null) {
                    cur = withRecorded(uuid, cur);
                }
            }
        }
        throw new KubernetesClientException("could not write the status of " + ref(d) + ": conflicting updates");
    }

    private boolean stale(DomainStatus prev) {
        if (prev == null || prev.observedTime == null) {
            return true;
        }
        try {
            return Instant.parse(prev.observedTime).plus(statusRefresh).isBefore(clock.instant());
        } catch (RuntimeException e) {
            return true;
        }
    }

    // --------------------------------------------------------------------------------------------------- libvirt

    private Optional<DomainInfo> inspect(String uuid) throws LibvirtConnection.UnavailableException {
        try {
            return libvirt.inspect(uuid);
        } catch (LibvirtException e) {
            throw new LibvirtConnection.UnavailableException("cannot read libvirt domain " + uuid + ": "
                    + LibvirtConnection.describe(e));
        } catch (LibvirtNative.LibvirtCallException e) {
            throw new LibvirtConnection.UnavailableException("cannot read libvirt domain " + uuid + ": "
                    + e.getMessage());
        }
    }

    private static String appliedHash(DomainInfo i) {
        String xml = i.inactiveXml() != null ? i.inactiveXml() : i.liveXml();
        DomainXml x = parseQuietly(xml, i.uuid());
        return x == null ? null : x.appliedSpecHash().orElse(null);
    }

    private static DomainXml parseQuietly(String xml, String uuid) {
        if (xml == null) {
            return null;
        }
        try {
            return DomainXml.parse(xml);
        } catch (DomainXml.InvalidXmlException e) {
            LOG.warn("libvirt domain {}: cannot parse its XML: {}", uuid, e.getMessage());
            return null;
        }
    }

    @FunctionalInterface
    private interface LibvirtStep {
        void run() throws LibvirtException, LibvirtNative.LibvirtCallException,
                LibvirtConnection.UnavailableException;
    }

    /** Runs a step whose "operation invalid" (e.g. destroying a domain that just stopped) means it is moot. */
    private static void tolerateInvalid(String ref, LifecycleAction action, LibvirtStep step)
            throws LibvirtException, LibvirtNative.LibvirtCallException, LibvirtConnection.UnavailableException {
        try {
            step.run();
        } catch (LibvirtException e) {
            if (e.getError() != null && e.getError().getCode() == ErrorNumber.VIR_ERR_OPERATION_INVALID) {
                LOG.info("{}: {} not needed: {}", ref, action, LibvirtConnection.describe(e));
                return;
            }
            throw e;
        }
    }

}
