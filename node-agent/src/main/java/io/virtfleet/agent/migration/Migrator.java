package io.virtfleet.agent.migration;

import io.virtfleet.agent.libvirt.LibvirtCallException;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.virtfleet.agent.libvirt.LibvirtConnection;
import io.virtfleet.agent.libvirt.LibvirtConnection.DomainInfo;
import io.virtfleet.agent.libvirt.LibvirtNative;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.DomainMigration;
import io.virtfleet.api.v1alpha1.VirtualMachineMigration;
import io.virtfleet.api.v1alpha1.VirtualMachineMigrationStatus.Progress;
import io.virtfleet.api.v1alpha1.VirtualMachineMigrationStatus.Transfer;
import org.libvirt.Connect;
import org.libvirt.DomainJobStats;
import org.libvirt.LibvirtException;
import org.libvirt.TypedParameter;
import org.libvirt.TypedStringParameter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The agent's side of a live migration: the source host's agent drives libvirt's peer-to-peer migration of a Domain
 * carrying {@code spec.migration}, and reports in the VirtualMachineMigration's {@code status.transfer} and
 * {@code status.progress} (JSON merge patches of those fields only; the operator owns the rest of the status).
 *
 * <p><b>What libvirt is asked.</b> {@code virDomainMigrateToURI3} to the target Host's {@code spec.migrationUri} with
 * {@code VIR_MIGRATE_LIVE | PEER2PEER} (the source libvirtd drives the whole protocol, so the job survives this agent
 * dying) {@code | PERSIST_DEST | UNDEFINE_SOURCE} (exactly one persistent definition at any time) {@code |
 * AUTO_CONVERGE} (QEMU throttles the guest's vCPUs while it dirties memory faster than it is copied), plus
 * {@code UNSAFE} when every disk is under a root this host declares shared (libvirt detects NFS/GFS2/… itself but
 * cannot know a bind-mounted or otherwise shared local path; the operator already refused migrations whose files are
 * not under roots both hosts share). {@code VIR_MIGRATE_PARAM_DEST_XML} is the running domain's migratable XML with
 * the target's name, ownership mark and per-host paths ({@link DestinationXml}); {@code DEST_NAME} its name. Between
 * two libvirtds on one machine (a {@code qemu+unix} target URI) the memory stream goes to {@code tcp://127.0.0.1}
 * and the target listens on 127.0.0.1 only.
 *
 * <p><b>Policy for a guest that dirties memory faster than it can be copied</b> ({@link Policy}): max downtime
 * {@code maxDowntime} (libvirt's migrate-setmaxdowntime: the switch-over happens once the rest fits in it), auto-
 * converge throttling, and after {@code timeout} the source guest is paused (as {@code virsh migrate --timeout
 * --timeout-suspend}): nothing is dirtied any more, the rest is copied, the target resumes it. Post-copy is not used:
 * a failure during post-copy loses the guest, which is worse than a long pause for a fleet's VMs.
 *
 * <p><b>Every crash point converges.</b> Each step is recorded before it acts ({@code Starting} before libvirt is
 * asked, {@code Running}, then the outcome), and after an agent restart the state is read back from libvirt: the
 * domain still here with a migration job → libvirt still migrates it (peer-to-peer jobs belong to libvirtd), watched
 * to its end; here without a job → not migrated, started again (idempotent: the target has nothing); gone from here
 * → looked up on the target: running there → Completed, nowhere → Failed. While the Domain carries a migration the
 * usual sync pass stands aside on this host (it would define the vanished domain again), and the target's agent does
 * not fence the domain arriving with its mark; the operator re-points the Domain only after Completed.
 */
public final class Migrator implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Migrator.class);
    static final int XML_MIGRATABLE = org.libvirt.Domain.XMLFlags.SECURE | org.libvirt.Domain.XMLFlags.MIGRATABLE;
    /** Completed and kept: an agent restarted mid-way can still read them. */
    static final int JOB_STATS_COMPLETED = org.libvirt.Domain.DomainGetJobStatsFlags.COMPLETED
            | org.libvirt.Domain.DomainGetJobStatsFlags.KEEP_COMPLETED;
    /** {@code VIR_DOMAIN_JOB_NONE} (virDomainJobType; not in libvirt-java 0.5.4). */
    static final int JOB_NONE = 0;
    public static final String FIELD_MANAGER = "virtfleet-agent";
    private static final Duration WAIT = Duration.ofSeconds(1);

    /**
     * @param maxDowntime   the longest switch-over pause libvirt may choose (virDomainMigrateSetMaxDowntime)
     * @param timeout       after this the source guest is paused so the migration completes
     * @param progressEvery how often job statistics are reported while it runs
     */
    public record Policy(Duration maxDowntime, Duration timeout, Duration progressEvery) {
        /**
         * Progress every second: each report is a status write (and a reconciliation of the migration by the
         * operator) that competes for CPU with the memory copy itself.
         */
        public static final Policy DEFAULT = new Policy(Duration.ofMillis(300), Duration.ofSeconds(120),
                Duration.ofSeconds(1));
    }

    private final KubernetesClient client;
    private final LibvirtConnection libvirt;
    private final String host;
    private final List<String> sharedRoots;
    private final Policy policy;
    private final Consumer<String> resync;
    private final Clock clock = Clock.systemUTC();
    private final Map<String, Job> jobs = new ConcurrentHashMap<>();
    /** Stopped: a job whose libvirt call returns afterwards records nothing; the next agent reads libvirt instead. */
    private volatile boolean closed;
    private final ExecutorService runner = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "migration");
        t.setDaemon(true);
        return t;
    });
    private final ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "migration-progress");
        t.setDaemon(true);
        return t;
    });

    public Migrator(KubernetesClient client, LibvirtConnection libvirt, String host, List<String> sharedRoots,
                    Policy policy, Consumer<String> resync) {
        this.client = client;
        this.libvirt = libvirt;
        this.host = host;
        this.sharedRoots = List.copyOf(sharedRoots);
        this.policy = policy;
        this.resync = resync;
    }

    /**
     * True when {@code d} (a Domain assigned to another host) is live-migrating to {@code host}: the libvirt domain
     * carrying this host's mark is the arriving copy, not a stale one to fence.
     */
    public static boolean arriving(Domain d, String host) {
        return d != null && d.getSpec() != null && d.getSpec().migration != null
                && host.equals(d.getSpec().migration.targetHost);
    }

    /**
     * Called first in a sync pass for {@code uuid}. Present: the usual pass must not run now (a migration owns the
     * domain on this host), look again after the duration. Empty: nothing to do with migrations.
     */
    public Optional<Duration> beforeSync(String uuid, Domain d, Optional<DomainInfo> lv)
            throws LibvirtConnection.UnavailableException {
        DomainMigration m = d != null && d.getSpec() != null && host.equals(d.getSpec().host)
                ? d.getSpec().migration : null;
        Job job = jobs.get(uuid);
        if (job != null && !job.finished) {
            boolean deleting = d != null && d.getMetadata().getDeletionTimestamp() != null;
            if (m == null || !m.id.equals(job.id) || Boolean.TRUE.equals(m.cancel) || deleting) {
                job.abort(m == null || !m.id.equals(job.id) ? "the Domain no longer carries this migration"
                        : deleting ? "the Domain is being deleted" : "the migration was cancelled");
            }
            return Optional.of(WAIT);
        }
        if (job != null && (m == null || !m.id.equals(job.id))) {
            jobs.remove(uuid);
            job = null;
        }
        if (m == null) {
            return Optional.empty();
        }
        if (job != null) {
            if (!job.recorded) {
                job.record();
            }
            return Optional.of(Duration.ofSeconds(2)); // the outcome is reported; the operator acts on it
        }
        Transfer reported = reported(d.getMetadata().getNamespace(), m);
        if (reported != null && isTerminal(reported.state)) {
            return Optional.of(Duration.ofSeconds(2));
        }
        Job fresh = new Job(uuid, d.getMetadata().getNamespace(), m, d.getSpec().domainXml);
        if (Boolean.TRUE.equals(m.cancel)) {
            fresh.finish(Transfer.ABORTED, "cancelled before libvirt was asked; nothing was migrated", null);
            jobs.put(uuid, fresh);
            return Optional.of(WAIT);
        }
        jobs.put(uuid, fresh);
        if (reported == null) {
            runner.execute(fresh::migrate);
        } else {
            // Recorded Starting/Running before this agent (re)started: find out what libvirt did.
            runner.execute(() -> fresh.resume(lv));
        }
        return Optional.of(WAIT);
    }

    /** The transfer the VirtualMachineMigration reports for this migration, or null. */
    private Transfer reported(String ns, DomainMigration m) {
        try {
            VirtualMachineMigration vmm = client.resources(VirtualMachineMigration.class).inNamespace(ns)
                    .withName(m.name).get();
            if (vmm == null || vmm.getStatus() == null || vmm.getStatus().transfer == null
                    || !m.id.equals(vmm.getStatus().transfer.id)) {
                return null;
            }
            return vmm.getStatus().transfer;
        } catch (KubernetesClientException e) {
            LOG.warn("cannot read VirtualMachineMigration {}/{}: {}", ns, m.name, e.getMessage());
            return null;
        }
    }

    static boolean isTerminal(String state) {
        return Transfer.COMPLETED.equals(state) || Transfer.FAILED.equals(state) || Transfer.ABORTED.equals(state);
    }

    @Override
    public void close() {
        closed = true;
        runner.shutdownNow();
        ticker.shutdownNow();
    }

    /** One migration of one domain by this agent. */
    final class Job {
        final String uuid;
        final String namespace;
        final String id;
        final DomainMigration m;
        final String sourceXml;
        volatile boolean finished;
        volatile boolean recorded;
        volatile boolean aborting;
        volatile boolean suspendedForTimeout;
        private volatile String state;
        private volatile String message;
        private volatile Long downtimeMs;
        private volatile String targetName;
        private volatile ScheduledFuture<?> progress;
        /** The Running record, written while libvirt migrates (null before). */
        private volatile java.util.concurrent.CompletableFuture<Void> runningRecorded;
        private final long startNanos = System.nanoTime();

        Job(String uuid, String namespace, DomainMigration m, String sourceXml) {
            this.uuid = uuid;
            this.namespace = namespace;
            this.id = m.id;
            this.m = m;
            this.sourceXml = sourceXml;
        }

        void migrate() {
            try {
                state = Transfer.STARTING;
                recordState(null);
                migrateNow();
            } catch (RuntimeException e) {
                LOG.error("migration {} of {}: {}", id, uuid, e.toString(), e);
                finish(Transfer.FAILED, "the agent failed: " + e.getMessage(), null);
            }
        }

        private void migrateNow() {
            DestinationXml.Result dest;
            String flagsDesc;
            TypedParameter[] params;
            int flags;
            try {
                String liveXml = libvirt.call("dumpxml", c -> c.domainLookupByUUIDString(uuid)
                        .getXMLDesc(XML_MIGRATABLE));
                dest = DestinationXml.rewrite(liveXml, m.targetDomainXml);
                targetName = dest.name();
                List<TypedParameter> p = new ArrayList<>();
                p.add(new TypedStringParameter(org.libvirt.Domain.DomainMigrateParameters.VIR_MIGRATE_PARAM_DEST_XML,
                        dest.xml()));
                p.add(new TypedStringParameter(org.libvirt.Domain.DomainMigrateParameters.VIR_MIGRATE_PARAM_DEST_NAME,
                        dest.name()));
                if (sameMachine(m.targetUri)) {
                    p.add(new TypedStringParameter(org.libvirt.Domain.DomainMigrateParameters.VIR_MIGRATE_PARAM_URI,
                            "tcp://127.0.0.1"));
                    p.add(new TypedStringParameter(
                            org.libvirt.Domain.DomainMigrateParameters.VIR_MIGRATE_PARAM_LISTEN_ADDRESS, "127.0.0.1"));
                }
                params = p.toArray(TypedParameter[]::new);
                flags = org.libvirt.Domain.MigrateFlags.LIVE | org.libvirt.Domain.MigrateFlags.PEER2PEER
                        | org.libvirt.Domain.MigrateFlags.PERSIST_DEST | org.libvirt.Domain.MigrateFlags.UNDEFINE_SOURCE
                        | org.libvirt.Domain.MigrateFlags.AUTO_CONVERGE;
                flagsDesc = "live, peer-to-peer, persist on target, undefine source, auto-converge";
                List<String> unshared = MigrationFiles.notUnder(liveXml, sharedRoots);
                if (unshared.isEmpty()) {
                    flags |= org.libvirt.Domain.MigrateFlags.UNSAFE;
                    flagsDesc += ", disks on declared shared storage";
                } else {
                    LOG.warn("migration {} of {}: {} not under this host's shared roots {}; libvirt decides whether "
                            + "the storage is shared", id, uuid, unshared, sharedRoots);
                }
                try {
                    libvirt.call("migrate-setmaxdowntime", c -> c.domainLookupByUUIDString(uuid)
                            .migrateSetMaxDowntime(policy.maxDowntime().toMillis()));
                } catch (LibvirtCallException e) {
                    LOG.warn("migration {} of {}: cannot set max downtime: {}", id, uuid, e.getMessage());
                }
            } catch (LibvirtCallException e) {
                finish(Transfer.FAILED, e.getMessage(), null);
                return;
            } catch (LibvirtConnection.UnavailableException e) {
                finish(Transfer.FAILED, "libvirt on host " + host + " unavailable: " + e.getMessage(), null);
                return;
            } catch (IllegalArgumentException e) {
                finish(Transfer.FAILED, "cannot build the destination XML: " + e.getMessage(), null);
                return;
            }
            if (aborting) {
                finish(Transfer.ABORTED, "cancelled before libvirt was asked; nothing was migrated", null);
                return;
            }
            state = Transfer.RUNNING;
            // Starting is recorded (that is what a restarted agent resolves from libvirt); Running only reports it, so
            // it is written while libvirt already migrates instead of before (one round trip off the critical path).
            // The outcome waits for it, so a late Running never overwrites Completed.
            runningRecorded = java.util.concurrent.CompletableFuture.runAsync(() -> recordState(null), runner);
            LOG.info("migration {}: libvirt domain {} -> {} as {} ({})", id, uuid, m.targetUri, dest.name(), flagsDesc);
            progress = ticker.scheduleWithFixedDelay(this::tick, policy.progressEvery().toMillis(),
                    policy.progressEvery().toMillis(), TimeUnit.MILLISECONDS);
            final TypedParameter[] fp = params;
            final int ff = flags;
            try {
                libvirt.call("migrate", c -> c.domainLookupByUUIDString(uuid).migrateToURI(m.targetUri, fp, ff));
                progress.cancel(false);
                Long downtime = completedDowntime();
                finish(Transfer.COMPLETED, "libvirt finished: the domain runs on host " + m.targetHost + " as "
                        + dest.name() + " and is undefined here" + (suspendedForTimeout ? " (paused for the switch-over "
                        + "after " + policy.timeout().toSeconds() + " s)" : ""), downtime);
            } catch (LibvirtCallException e) {
                progress.cancel(false);
                // An error of the call is not yet the outcome (the connection may have broken while libvirtd went on
                // migrating): what counts is where the domain runs.
                verifyAfterError(e.getMessage());
            } catch (LibvirtConnection.UnavailableException e) {
                // libvirtd went away mid-call: what happened is read back from libvirt at the next pass.
                progress.cancel(false);
                LOG.warn("migration {} of {}: lost libvirt during the migration ({}); resolving from libvirt", id,
                        uuid, e.getMessage());
                resolveAfterLoss();
            }
        }

        /** After an agent restart (or a lost connection): what did libvirt do? */
        void resume(Optional<DomainInfo> lv) {
            try {
                if (lv.isPresent() && lv.get().active()) {
                    int job = libvirt.call("jobinfo", c -> c.domainLookupByUUIDString(uuid).getJobInfo().getType());
                    if (job != JOB_NONE) {
                        LOG.info("migration {} of {}: libvirt is still migrating it; watching the job", id, uuid);
                        state = Transfer.RUNNING;
                        progress = ticker.scheduleWithFixedDelay(this::tick, 0, policy.progressEvery().toMillis(),
                                TimeUnit.MILLISECONDS);
                        while (libvirt.call("jobinfo", c -> c.domainLookupByUUIDString(uuid).getJobInfo()
                                .getType()) != JOB_NONE) {
                            Thread.sleep(200);
                        }
                        progress.cancel(false);
                        resolveAfterLoss();
                        return;
                    }
                    LOG.info("migration {} of {}: recorded as started, but libvirt runs the domain here with no job: "
                            + "not migrated; starting it (again)", id, uuid);
                    migrate();
                    return;
                }
                resolveAfterLoss();
            } catch (LibvirtCallException e) {
                // Gone, or no longer running here while its job was watched (libvirt: "operation invalid: domain is
                // not running" once the migrated domain left): where it runs decides, not this error.
                if (e.isNoDomain() || e.is(org.libvirt.Error.ErrorNumber.VIR_ERR_OPERATION_INVALID)) {
                    if (progress != null) {
                        progress.cancel(false);
                    }
                    resolveAfterLoss();
                } else {
                    finish(Transfer.FAILED, "cannot read the migration's state: " + e.getMessage(), null);
                }
            } catch (LibvirtConnection.UnavailableException e) {
                LOG.warn("migration {} of {}: libvirt unavailable ({}); retried at the next pass", id, uuid,
                        e.getMessage());
                jobs.remove(uuid, this);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        /** libvirt returned an error: failed only if the domain still runs here and no job is left. */
        private void verifyAfterError(String why) {
            try {
                while (true) {
                    Optional<DomainInfo> here = libvirt.inspect(uuid);
                    if (here.isEmpty() || !here.get().active()) {
                        resolveAfterLoss();
                        return;
                    }
                    int job = libvirt.call("jobinfo", c -> c.domainLookupByUUIDString(uuid).getJobInfo().getType());
                    if (job == JOB_NONE) {
                        if (suspendedForTimeout) {
                            resumeQuietly();
                        }
                        finish(aborting ? Transfer.ABORTED : Transfer.FAILED, why, null);
                        return;
                    }
                    Thread.sleep(200);
                }
            } catch (LibvirtConnection.UnavailableException | LibvirtCallException e) {
                LOG.warn("migration {} of {}: libvirt said \"{}\" and cannot be asked now ({}); resolved at the next "
                        + "pass", id, uuid, why, e.getMessage());
                jobs.remove(uuid, this);
                resync.accept(uuid);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        /** The guest was paused by the timeout policy and the migration did not happen: it runs on here. */
        private void resumeQuietly() {
            try {
                libvirt.call("resume", c -> {
                    c.domainLookupByUUIDString(uuid).resume();
                    return null;
                });
            } catch (LibvirtConnection.UnavailableException | LibvirtCallException e) {
                LOG.warn("migration {} of {}: cannot resume the guest paused for the switch-over: {}", id, uuid,
                        e.getMessage());
            }
        }

        /** The domain is not (or no longer) migrating here: where does it run? */
        private void resolveAfterLoss() {
            try {
                Optional<DomainInfo> here = libvirt.inspect(uuid);
                if (here.isPresent() && here.get().active()) {
                    finish(aborting ? Transfer.ABORTED : Transfer.FAILED, "libvirt did not finish the migration (the "
                            + "agent or libvirtd restarted meanwhile); the domain keeps running on host " + host, null);
                    return;
                }
                String onTarget = runningOnTarget();
                if (onTarget != null) {
                    finish(Transfer.COMPLETED, "libvirt finished: the domain runs on host " + m.targetHost + " as "
                            + onTarget + (here.isPresent() ? "" : " and is undefined here"), completedDowntime());
                } else {
                    finish(Transfer.FAILED, "the domain runs neither here nor on host " + m.targetHost
                            + " after the migration was interrupted", null);
                }
            } catch (LibvirtConnection.UnavailableException | LibvirtCallException e) {
                LOG.warn("migration {} of {}: cannot resolve yet ({}); retried at the next pass", id, uuid,
                        e.getMessage());
                jobs.remove(uuid, this);
                resync.accept(uuid);
            }
        }

        /** The target's libvirt name of the domain if it runs there, else null (asked on the target's libvirtd). */
        private String runningOnTarget() {
            Connect t = null;
            try {
                t = new Connect(m.targetUri);
                org.libvirt.Domain d = t.domainLookupByUUIDString(uuid);
                return d.isActive() == 1 ? d.getName() : null;
            } catch (LibvirtException e) {
                return null;
            } finally {
                closeQuietly(t);
            }
        }

        /** Downtime of the completed job, which libvirt keeps on the target's side. */
        private Long completedDowntime() {
            Connect t = null;
            try {
                t = new Connect(m.targetUri);
                DomainJobStats st = t.domainLookupByUUIDString(uuid).getJobStats(JOB_STATS_COMPLETED);
                Map<String, Long> s = numbers(st);
                return s.get("downtime");
            } catch (LibvirtException e) {
                LOG.info("migration {} of {}: no completed job statistics on the target: {}", id, uuid,
                        LibvirtConnection.describe(e));
                return null;
            } finally {
                closeQuietly(t);
            }
        }

        /** Progress, and the timeout policy. */
        private void tick() {
            try {
                DomainJobStats st = libvirt.call("jobstats", c -> c.domainLookupByUUIDString(uuid).getJobStats(0));
                Map<String, Long> s = numbers(st);
                Progress p = new Progress();
                p.memoryTotalBytes = s.get("memory_total");
                p.memoryRemainingBytes = s.get("memory_remaining");
                p.memoryProcessedBytes = s.get("memory_processed");
                p.iterations = s.get("memory_iteration");
                p.elapsedMs = s.get("time_elapsed");
                patch(null, p);
                if (!suspendedForTimeout && !aborting
                        && System.nanoTime() - startNanos > policy.timeout().toNanos()) {
                    suspendedForTimeout = true;
                    LOG.warn("migration {} of {}: not converged after {} s (guest dirties memory faster than it is "
                            + "copied); pausing it on host {} so the rest can be copied", id, uuid,
                            policy.timeout().toSeconds(), host);
                    libvirt.call("suspend", c -> {
                        c.domainLookupByUUIDString(uuid).suspend();
                        return null;
                    });
                }
            } catch (LibvirtConnection.UnavailableException | LibvirtCallException | RuntimeException e) {
                LOG.debug("migration {} of {}: no job statistics: {}", id, uuid, e.getMessage());
            }
        }

        void abort(String why) {
            if (aborting) {
                return;
            }
            aborting = true;
            LOG.warn("migration {} of {}: aborting the libvirt job: {}", id, uuid, why);
            runner.execute(() -> {
                try {
                    libvirt.call("abort", c -> c.domainLookupByUUIDString(uuid).abortJob());
                } catch (LibvirtConnection.UnavailableException | LibvirtCallException e) {
                    LOG.warn("migration {} of {}: abortJob: {}", id, uuid, e.getMessage());
                }
            });
        }

        void finish(String outcome, String msg, Long downtime) {
            if (closed) {
                LOG.warn("migration {} of {}: the agent stopped before the outcome ({}: {}) was recorded; its next run "
                        + "reads it from libvirt", id, uuid, outcome, msg);
                return;
            }
            java.util.concurrent.CompletableFuture<Void> running = runningRecorded;
            if (running != null) {
                try {
                    running.join();
                } catch (RuntimeException e) {
                    LOG.debug("migration {} of {}: recording Running: {}", id, uuid, e.toString());
                }
            }
            state = outcome;
            message = msg;
            downtimeMs = downtime;
            finished = true;
            if (Transfer.COMPLETED.equals(outcome)) {
                LOG.info("migration {} of {}: {}{}", id, uuid, msg, downtime != null ? " (downtime " + downtime
                        + " ms)" : "");
            } else {
                LOG.warn("migration {} of {}: {}: {}", id, uuid, outcome, msg);
            }
            record();
            resync.accept(uuid);
        }

        void record() {
            recorded = recordState(message);
        }

        private boolean recordState(String msg) {
            Transfer t = new Transfer();
            t.state = state;
            t.id = id;
            t.message = msg;
            t.downtimeMs = downtimeMs;
            t.targetDomainName = targetName;
            t.time = clock.instant().toString();
            return patch(t, null);
        }

        private boolean patch(Transfer t, Progress p) {
            Map<String, Object> status = new LinkedHashMap<>();
            if (t != null) {
                status.put("transfer", t);
            }
            if (p != null) {
                status.put("progress", p);
            }
            try {
                client.resources(VirtualMachineMigration.class).inNamespace(namespace).withName(m.name)
                        .subresource("status").patch(PatchContext.of(PatchType.JSON_MERGE),
                                client.getKubernetesSerialization().asJson(Map.of("status", status)));
                return true;
            } catch (KubernetesClientException e) {
                if (e.getCode() != 404) {
                    LOG.warn("migration {}: cannot write the status of VirtualMachineMigration {}/{}: {}", id,
                            namespace, m.name, e.getMessage());
                }
                return e.getCode() == 404;
            }
        }
    }

    static Map<String, Long> numbers(DomainJobStats st) {
        Map<String, Long> out = new LinkedHashMap<>();
        if (st == null || st.stats == null) {
            return out;
        }
        for (TypedParameter tp : st.stats) {
            try {
                out.put(tp.field, Long.parseLong(tp.getValueAsString()));
            } catch (NumberFormatException e) {
                // not a number (none of the fields used here)
            }
        }
        return out;
    }

    /** Two libvirtds of one machine (UNIX socket): migration traffic stays on loopback. */
    static boolean sameMachine(String uri) {
        return uri != null && (uri.startsWith("qemu+unix:") || uri.startsWith("qemu:///"));
    }

    private static void closeQuietly(Connect c) {
        if (c != null) {
            try {
                c.close();
            } catch (LibvirtException e) {
                // closing a short-lived connection
            }
        }
    }
}
