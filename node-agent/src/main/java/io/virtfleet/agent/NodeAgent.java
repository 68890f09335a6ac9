package io.virtfleet.agent;

import io.virtfleet.agent.libvirt.LibvirtCallException;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.virtfleet.agent.domain.DomainController;
import io.virtfleet.agent.domain.EventRecorder;
import io.virtfleet.agent.host.ImageCacheRecords;
import io.virtfleet.agent.image.BackingChains;
import io.virtfleet.agent.image.CacheKeeper;
import io.virtfleet.agent.image.DomainImages;
import io.virtfleet.agent.image.ImageCache;
import io.virtfleet.reconcilers.validation.DiskPaths;
import io.virtfleet.agent.domain.DomainValidator;
import io.virtfleet.agent.domain.PathPolicy;
import io.virtfleet.agent.host.HostProbe;
import io.virtfleet.agent.host.HostRegistrar;
import io.virtfleet.agent.host.LeaseHeartbeat;
import io.virtfleet.agent.libvirt.Capabilities;
import io.virtfleet.agent.libvirt.LibvirtConnection;
import io.virtfleet.observability.HttpEndpoints;
import io.virtfleet.observability.access.AccessReviews;
import io.virtfleet.observability.Registries;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The node agent for one host, runnable in-process: registers the Host and its heartbeat Lease, keeps a libvirt
 * connection (reconnecting after libvirtd restarts), and syncs the Domains labelled {@code virtfleet.io/host=<host>}
 * into libvirt.
 *
 * <pre>{@code
 * try (NodeAgent agent = new NodeAgent(AgentConfig.forHost("node-a"), client)) {
 *     agent.start();
 *     ...
 * }
 * }</pre>
 */
public final class NodeAgent implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(NodeAgent.class);

    private final AgentConfig config;
    private final KubernetesClient client;
    private final boolean ownsClient;
    private final AgentMetrics metrics = new AgentMetrics(Registries.prometheus());
    private HttpEndpoints endpoints;
    private ScheduledExecutorService scheduler;
    private LibvirtConnection libvirt;
    private LeaseHeartbeat heartbeat;
    private HostRegistrar registrar;
    private HostProbe probe;
    private DomainController controller;
    private io.virtfleet.agent.snapshot.SnapshotController snapshots;
    private CacheKeeper keeper;
    private EventRecorder hostEvents;
    private boolean started;
    private volatile boolean closed;

    /** An agent using {@code client} (which the caller closes after the agent). */
    public NodeAgent(AgentConfig config, KubernetesClient client) {
        this(config, client, false);
    }

    private NodeAgent(AgentConfig config, KubernetesClient client, boolean ownsClient) {
        this.config = config;
        this.client = client;
        this.ownsClient = ownsClient;
    }

    /** An agent with its own client from a kubeconfig file (null: the usual auto-configuration, e.g. in-cluster). */
    public static NodeAgent withKubeconfig(AgentConfig config, Path kubeconfig) throws IOException {
        KubernetesClient c;
        if (kubeconfig == null) {
            c = new KubernetesClientBuilder().build();
        } else {
            Config cfg = Config.fromKubeconfig(null, Files.readString(kubeconfig), kubeconfig.toString());
            c = new KubernetesClientBuilder().withConfig(cfg).build();
        }
        return new NodeAgent(config, c, true);
    }

    /** The client the agent talks to the apiserver with (also the console endpoint's, for its reviews). */
    public KubernetesClient client() {
        return client;
    }

    public AgentConfig config() {
        return config;
    }

    /**
     * Starts everything and returns; the work continues on background threads. Fails when the Kubernetes API is not
     * reachable (the Host cannot be registered); an unreachable libvirtd is retried in the background and shows in the
     * Host's Ready condition.
     */
    public synchronized void start() {
        if (started) {
            throw new IllegalStateException("already started");
        }
        started = true;
        LOG.info("starting node agent for host {} (libvirt {}, allowed roots {}, domain prefix '{}', lease {}, "
                        + "resync {})", config.host(), config.libvirtUri(), config.allowedRoots(),
                config.domainPrefix(), config.leaseDuration(), config.resync());
        AtomicInteger n = new AtomicInteger();
        scheduler = Executors.newScheduledThreadPool(4, r -> {
            Thread t = new Thread(r, "agent-" + config.host() + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        DomainValidator validator = new DomainValidator(config.host(), config.domainPrefix(),
                new PathPolicy(config.allowedRoots()));
        heartbeat = new LeaseHeartbeat(client, config.host(), config.leaseDuration(), scheduler);
        registrar = new HostRegistrar(client, config, heartbeat.leaseName());
        libvirt = new LibvirtConnection(config.libvirtUri(), new LibvirtConnection.Listener() {
            @Override
            public void domainEvent(String uuid, String event) {
                DomainController c = controller;
                if (c != null) {
                    c.libvirtEvent(uuid, event);
                }
            }

            @Override
            public void connected() {
                onLibvirtConnected();
            }

            @Override
            public void disconnected(String reason) {
                scheduler.execute(() -> writeHostStatus(null, false, reason));
            }
        }, scheduler, metrics);
        probe = new HostProbe(libvirt, config.probeUris());
        controller = new DomainController(client, libvirt, config.host(), validator, config.resync(),
                config.workers(), scheduler);
        controller.enableMigrations(config.sharedRoots());
        controller.enableDomainFiles(config.allowedRoots(), config.images().maxImageBytes());

        metrics.libvirt(libvirt::isConnected, libvirt::connections);
        DomainController dc = controller;
        metrics.domainStates(dc::countByState);
        startEndpoints();
        registrar.applySpec();
        heartbeat.start();
        libvirt.start();
        if (!libvirt.isConnected()) {
            writeHostStatus(null, false, libvirt.lastError());
        }
        controller.start();
        snapshots = new io.virtfleet.agent.snapshot.SnapshotController(client, libvirt, config.host(),
                new PathPolicy(config.allowedRoots()), controller.locks());
        snapshots.start();
        startCacheKeeper();
        // Networks and bridges come and go while the agent runs (an admin adds br0): re-read them, and publish only
        // a change, so a VM waiting for that bridge is scheduled within a few seconds.
        scheduler.scheduleWithFixedDelay(this::refreshNetworking, NETWORKING_REFRESH.toMillis(),
                NETWORKING_REFRESH.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    /**
     * The image cache keeper: every {@code --image-cache-interval} and after each download it deletes cached bases
     * nothing on this host uses once the cache is over the Host's {@code spec.imageCache.maxSize}. In use: a base in
     * the backing chain of any libvirt domain's disk, one a Domain of this host names (its overlay may exist before
     * libvirt has the domain), one being downloaded.
     */
    private void startCacheKeeper() {
        ImageCache cache = controller.domainFiles().cache();
        String root = cache.root().toString();
        String shared = config.sharedRoots().stream().filter(r -> DiskPaths.isUnder(root, r)).findFirst().orElse(null);
        hostEvents = new EventRecorder(client, config.host());
        ImageCacheRecords records = new ImageCacheRecords(registrar, hostEvents, root);
        BackingChains.Headers headers = BackingChains.qemuImg(java.time.Duration.ofMinutes(1));
        DomainController dc = controller;
        CacheKeeper.InUse inUse = () -> {
            Set<String> used = new java.util.TreeSet<>(BackingChains.basesUsedBy(libvirt.listAll(), root, headers));
            used.addAll(DomainImages.bases(dc.domains()));
            used.addAll(cache.downloading());
            return used;
        };
        keeper = new CacheKeeper(cache, inUse, records::limitBytes, records::record, java.time.Clock.systemUTC(),
                config.images().cacheGrace(), shared);
        long every = config.images().cacheInterval().toMillis();
        // A first look soon after start (the informer has listed the Domains by then), so status shows the cache.
        scheduler.scheduleWithFixedDelay(keeper::run, Math.min(every, 15_000), every, TimeUnit.MILLISECONDS);
        // Downloads finishing together ask for one run, not one each (a run looks at the whole cache).
        java.util.concurrent.atomic.AtomicBoolean asked = new java.util.concurrent.atomic.AtomicBoolean();
        cache.afterDownload(() -> {
            if (asked.compareAndSet(false, true)) {
                try {
                    scheduler.execute(() -> {
                        asked.set(false);
                        keeper.run();
                    });
                } catch (java.util.concurrent.RejectedExecutionException stopped) {
                    asked.set(false); // the agent is closing
                }
            }
        });
    }

    /** The image cache keeper (null until started). */
    public CacheKeeper cacheKeeper() {
        return keeper;
    }

    private static final java.time.Duration NETWORKING_REFRESH = java.time.Duration.ofSeconds(5);

    private void refreshNetworking() {
        try {
            if (libvirt != null && libvirt.isConnected()) {
                registrar.writeNetworking(probe.networkingNow());
            }
        } catch (RuntimeException e) {
            LOG.warn("cannot refresh the networks of Host {}: {}", config.host(), e.getMessage());
        }
    }

    private void startEndpoints() {
        if (config.healthPort() < 0 && config.metricsPort() < 0) {
            return;
        }
        // Scrapes are checked with the apiserver at most every few minutes per token (AccessReviews.Ttl.SCRAPES).
        endpoints = HttpEndpoints.start("agent", config.healthPort(), config.metricsPort(), config.serving(),
                config.serving().plainHttp() ? null : AccessReviews.cached(client, AccessReviews.Ttl.SCRAPES),
                new HttpEndpoints.Probes(this::liveness, this::readiness), metrics::scrape);
    }

    /** null when alive (for /healthz): the process works while it is not closed; libvirtd outages are retried. */
    private String liveness() {
        return closed ? "stopped" : null;
    }

    /** null when ready (for /readyz): connected to libvirtd and this host's Domains listed. */
    private String readiness() {
        if (closed) {
            return "stopped";
        }
        LibvirtConnection l = libvirt;
        if (l == null || !l.isConnected()) {
            return "not connected to libvirtd" + (l == null ? "" : " at " + l.uri() + ": " + l.lastError());
        }
        if (!hasSynced()) {
            return "the Domain informer has not synced yet";
        }
        return null;
    }

    /** The agent's meters (served on /metrics with a metrics port). */
    public AgentMetrics metrics() {
        return metrics;
    }

    /** The port /healthz and /readyz listen on, or -1. */
    public int healthPort() {
        HttpEndpoints e = endpoints;
        return e == null ? -1 : e.healthPort();
    }

    /** The port /metrics listens on, or -1. */
    public int metricsPort() {
        HttpEndpoints e = endpoints;
        return e == null ? -1 : e.metricsPort();
    }

    private void onLibvirtConnected() {
        DomainController c = controller;
        Set<String> emulators = Set.of();
        try {
            emulators = Capabilities.parse(libvirt.capabilities()).emulators();
        } catch (LibvirtConnection.UnavailableException | LibvirtCallException | RuntimeException e) {
            LOG.warn("cannot read libvirt capabilities: {}", e.getMessage());
        }
        if (c != null) {
            c.libvirtConnected(emulators);
        }
        scheduler.execute(() -> {
            HostProbe.Result r = probe.probe();
            writeHostStatus(r, libvirt.isConnected(), libvirt.lastError());
        });
    }

    private void writeHostStatus(HostProbe.Result r, boolean connected, String error) {
        try {
            registrar.writeStatus(r, connected, error);
        } catch (RuntimeException e) {
            LOG.error("cannot write the status of Host {}: {}", config.host(), e.getMessage(), e);
        }
    }

    /** Why libvirt is not connected (libvirt's last connect error), or null when it is. */
    public String libvirtError() {
        LibvirtConnection l = libvirt;
        return l == null ? "not started" : l.lastError();
    }

    public boolean isLibvirtConnected() {
        return libvirt != null && libvirt.isConnected();
    }

    /** How many times the agent (re)connected to libvirtd; grows by one per reconnect. */
    public long libvirtConnections() {
        return libvirt == null ? 0 : libvirt.connections();
    }

    /** True once the Domain informer has listed this host's Domains. */
    public boolean hasSynced() {
        return controller != null && controller.hasSynced();
    }

    /** Stops watching, syncing and renewing the Lease (so it expires), and closes the libvirt connection. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        LOG.info("stopping node agent for host {}", config.host());
        Closer.closeInOrder(heartbeat, controller, snapshots, libvirt);
        if (hostEvents != null) {
            hostEvents.close(java.time.Duration.ofSeconds(2));
        }
        Closer.shutdownNow(scheduler, java.time.Duration.ofSeconds(10));
        Closer.closeInOrder(endpoints, ownsClient ? client : null);
        LOG.info("node agent for host {} stopped", config.host());
    }
}
