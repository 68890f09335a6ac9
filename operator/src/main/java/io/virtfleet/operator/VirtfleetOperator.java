package io.virtfleet.operator;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import io.virtfleet.observability.HttpEndpoints;
import io.virtfleet.observability.access.AccessReviews;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The virtfleet operator, embeddable: {@code new VirtfleetOperator(config).start(client)} registers the
 * VirtualMachine controller with JOSDK and starts it; {@link #close()} stops it (the client stays open: it is the
 * caller's).
 *
 * <p>With leader election on, every replica watches but only the holder of the Lease {@code config.leaseName()} in
 * {@code config.leaseNamespace()} reconciles. A replica that loses the Lease exits the JVM
 * ({@code exitOnLostLeadership}, the safe default for a Deployment) or, embedded, stops this operator for good.
 */
public final class VirtfleetOperator implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(VirtfleetOperator.class);
    /**
     * Page size of the informers' initial LIST (and relists): the API server answers {@code limit}/{@code continue}
     * in chunks (Kubernetes API concepts, "Retrieving large results sets in chunks"), so a 10,000-VM relist is never
     * one response body held whole in memory while it is decoded.
     */
    static final long INFORMER_LIST_PAGE = 500;

    private final OperatorConfig config;
    private final AtomicBoolean leading = new AtomicBoolean();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final OperatorMetrics metrics = new OperatorMetrics();
    private volatile Operator operator;
    private volatile HttpEndpoints endpoints;
    private volatile OperatorEventRecorder events;
    private volatile boolean started;
    private volatile java.util.concurrent.ScheduledExecutorService sweeper;
    private volatile Runnable sweep;

    public VirtfleetOperator() {
        this(OperatorConfig.builder().build());
    }

    public VirtfleetOperator(OperatorConfig config) {
        this.config = config;
    }

    /** Registers the controllers and starts them; returns once informers are synced (and, without leader election, reconciling). */
    public synchronized VirtfleetOperator start(KubernetesClient client) {
        if (operator != null) {
            throw new IllegalStateException("already started");
        }
        if (config.leaderElection()) {
            ensureNamespace(client, config.leaseNamespace());
        }
        metrics.leader(this::isLeading);
        if (config.healthPort() >= 0 || config.metricsPort() >= 0) {
            // Ready means "started, informers synced and healthy", for the standby replica too (it must be ready for
            // the PodDisruptionBudget to allow evicting the leader). JOSDK's metrics are in the same registry, so
            // they are behind the same authentication; scrapes are reviewed at most every few minutes per token.
            endpoints = HttpEndpoints.start("operator", config.healthPort(), config.metricsPort(), config.serving(),
                    config.serving().plainHttp() ? null : AccessReviews.cached(client, AccessReviews.Ttl.SCRAPES),
                    new HttpEndpoints.Probes(this::liveness, this::readiness), metrics::scrape);
        }
        OperatorEventRecorder events = new OperatorEventRecorder(client, config.identity(), config.clock());
        this.events = events;
        Operator op = new Operator(o -> {
            o.withKubernetesClient(client);
            o.withCloseClientOnStop(false);
            o.withConcurrentReconciliationThreads(config.reconcileThreads());
            o.withStopOnInformerErrorDuringStartup(true);
            o.withMetrics(metrics.josdk());
            if (config.leaderElection()) {
                o.withLeaderElectionConfiguration(new LeaderElectionConfiguration(config.leaseName(),
                        config.leaseNamespace(), config.leaseDuration(), config.renewDeadline(), config.retryPeriod(),
                        config.identity(), new LeaderCallbacks(this::startedLeading, this::stoppedLeading,
                        leader -> LOG.info("virtfleet operator leader is {}", leader)),
                        // JOSDK would System.exit also when we stop on purpose (shutdown hook); decided below instead.
                        false));
            }
        });
        VirtualMachineReconciler vmReconciler = new VirtualMachineReconciler(config, events, metrics);
        op.register(vmReconciler, o -> {
            if (!config.namespaces().isEmpty()) {
                o.settingNamespaces(config.namespaces());
            }
            o.withReconciliationMaxInterval(config.maxReconcileInterval());
            o.withInformerListLimit(INFORMER_LIST_PAGE);
            // The VM cache without managedFields and kubectl's last-applied copy (PrunedItemStore).
            o.withItemStore(PrunedItemStore.forNamespaces(config.namespaces()));
        });
        io.virtfleet.operator.requests.RequestReconcilers.register(op, config, events);
        io.virtfleet.operator.migration.MigrationController.register(op, config, events);
        io.virtfleet.operator.drain.DrainController.register(op, config, events);
        operator = op;
        op.start();
        started = true;
        if (!config.leaderElection()) {
            leading.set(true);
        }
        // Domains of VMs deleted while no operator ran: once now (the caches have synced) and at every
        // maxReconcileInterval, by the leader only.
        sweeper = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "virtfleet-domain-sweep");
            t.setDaemon(true);
            return t;
        });
        long every = Math.max(1, config.maxReconcileInterval().toMillis());
        sweep = () -> {
            if (!isLeading()) {
                return;
            }
            try {
                vmReconciler.sweepOrphanDomains(client);
            } catch (RuntimeException e) {
                LOG.warn("sweeping Domains of deleted VMs failed: {}", e.toString());
            }
        };
        sweeper.scheduleWithFixedDelay(sweep, 0, every, TimeUnit.MILLISECONDS);
        LOG.info("virtfleet operator {} started ({}; namespaces: {})", config.identity(),
                config.leaderElection() ? "leader election in " + config.leaseNamespace() + "/" + config.leaseName()
                        : "no leader election", config.namespaces().isEmpty() ? "all" : config.namespaces());
        return this;
    }

    private void startedLeading() {
        LOG.info("{} is now the virtfleet operator leader", config.identity());
        leading.set(true);
        java.util.concurrent.ScheduledExecutorService s = sweeper;
        Runnable sweep = this.sweep;
        if (s != null && sweep != null) {
            s.execute(sweep); // a new leader looks at once, not only at the next interval
        }
    }

    private void stoppedLeading() {
        leading.set(false);
        if (closed.get()) {
            return; // stopped on purpose: the Lease is let go with it
        }
        if (config.exitOnLostLeadership()) {
            // Another replica may be reconciling already: stop at once rather than race it.
            LOG.error("{} lost the leader Lease; exiting", config.identity());
            Thread t = new Thread(() -> System.exit(1), "virtfleet-operator-exit");
            t.start();
            return;
        }
        LOG.warn("{} lost the leader Lease; stopping this operator", config.identity());
        Thread t = new Thread(this::close, "virtfleet-operator-stop");
        t.setDaemon(true);
        t.start();
    }

    /** null when alive, else why not (for /healthz). */
    private String liveness() {
        if (closed.get()) {
            return "stopped";
        }
        if (!started) {
            return null; // starting: the startup probe waits
        }
        return unhealthy();
    }

    /** null when ready to take over or reconciling, else why not (for /readyz). */
    private String readiness() {
        if (closed.get()) {
            return "stopped";
        }
        if (!started) {
            return "starting: informers are syncing";
        }
        return unhealthy();
    }

    private String unhealthy() {
        try {
            var info = operator.getRuntimeInfo();
            if (info.allEventSourcesAreHealthy()) {
                return null;
            }
            return "unhealthy event sources: " + info.unhealthyEventSources();
        } catch (RuntimeException e) {
            return "runtime information unavailable: " + e.getMessage();
        }
    }

    public OperatorMetrics metrics() {
        return metrics;
    }

    /** The port /healthz and /readyz listen on, or -1. */
    public int healthPort() {
        return endpoints == null ? -1 : endpoints.healthPort();
    }

    /** The port /metrics listens on, or -1. */
    public int metricsPort() {
        return endpoints == null ? -1 : endpoints.metricsPort();
    }

    /** True while this replica reconciles (always, without leader election, once started). */
    public boolean isLeading() {
        return leading.get() && !closed.get();
    }

    public String identity() {
        return config.identity();
    }

    public OperatorConfig config() {
        return config;
    }

    /** Blocks until {@link #close()} (from another thread or a lost leadership). */
    public void awaitTermination() throws InterruptedException {
        stopped.await();
    }

    public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
        return stopped.await(timeout, unit);
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        leading.set(false);
        Operator op = operator;
        if (sweeper != null) {
            sweeper.shutdownNow();
        }
        try {
            if (op != null) {
                op.stop();
            }
        } catch (RuntimeException e) {
            LOG.warn("error stopping the operator: {}", e.toString());
        } finally {
            if (endpoints != null) {
                endpoints.close();
            }
            if (events != null) {
                events.close(Duration.ofSeconds(5));
            }
            stopped.countDown();
            LOG.info("virtfleet operator {} stopped", config.identity());
        }
    }

    private static void ensureNamespace(KubernetesClient client, String namespace) {
        try {
            if (client.namespaces().withName(namespace).get() == null) {
                client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(namespace)
                        .endMetadata().build()).create();
            }
        } catch (KubernetesClientException e) {
            // 409: created meanwhile; 403: not allowed to look, the install created it (or leader election reports).
            LOG.debug("namespace {}: {}", namespace, e.getMessage());
        }
    }
}
