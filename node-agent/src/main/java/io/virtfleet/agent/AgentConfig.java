package io.virtfleet.agent;

import io.virtfleet.agent.host.HostProbe;
import io.virtfleet.agent.image.CacheKeeper;
import io.virtfleet.agent.image.ImageCache;
import io.virtfleet.api.v1alpha1.HostSpec;
import io.virtfleet.observability.serving.Serving;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * The node agent's settings.
 *
 * @param host          the Host name (and value of the {@code virtfleet.io/host} label the agent watches)
 * @param libvirtUri    libvirt connection the agent manages domains on
 * @param allowedRoots  directories under which domain disks, kernels etc. may live
 * @param domainPrefix  required prefix of the libvirt domain names (empty: any)
 * @param leaseDuration heartbeat Lease duration (renewed every third of it)
 * @param resync        period of the full resync (the safety net behind events)
 * @param workers       domains synced in parallel
 * @param probeUris     other libvirt URIs probed for the Host's driver list
 * @param consoleLogDir   where domains log their serial console (published in Host.spec; null: no console log)
 * @param guestChannelDir where domains' guest channel sockets live (published in Host.spec; null: no channel)
 * @param healthPort    port of /healthz and /readyz (-1: off, the in-process default; 0: any free port)
 * @param metricsPort   port of /metrics (-1: off, the in-process default; 0: any free port; may equal healthPort)
 * @param sharedRoots   allowed roots on storage other hosts share at the same path (published in Host.spec; a VM can
 *                      be live-migrated only when all its files are under roots both hosts share)
 * @param migrationUri  libvirt URI by which other hosts' libvirtd reach this one for a live migration (published in
 *                      Host.spec; null: this host accepts no migrations)
 * @param serving       how the health and metrics ports are served (null: plain HTTP on 127.0.0.1, the in-process
 *                      default; `virtfleet agent` serves HTTPS with bearer-token authentication)
 * @param images        image size limit and image cache keeper settings (null: {@link Images#DEFAULT})
 */
public record AgentConfig(String host, String libvirtUri, List<String> allowedRoots, String domainPrefix,
                          Duration leaseDuration, Duration resync, int workers, List<String> probeUris,
                          String consoleLogDir, String guestChannelDir, int healthPort, int metricsPort,
                          List<String> sharedRoots, String migrationUri, Serving serving, Images images) {
    public static final String DEFAULT_URI = "qemu:///system";
    public static final Duration DEFAULT_LEASE_DURATION = Duration.ofSeconds(15);
    public static final Duration DEFAULT_RESYNC = Duration.ofSeconds(30);
    public static final int DEFAULT_WORKERS = 4;

    public AgentConfig {
        Objects.requireNonNull(host, "host");
        if (host.isBlank() || !host.matches("[a-z0-9]([-a-z0-9.]*[a-z0-9])?") || host.length() > 253) {
            throw new IllegalArgumentException("host '" + host + "' is not a valid Kubernetes object name "
                    + "(lower-case alphanumerics, '-' and '.')");
        }
        libvirtUri = libvirtUri == null || libvirtUri.isBlank() ? DEFAULT_URI : libvirtUri;
        allowedRoots = allowedRoots == null || allowedRoots.isEmpty() ? List.of(HostSpec.DEFAULT_ALLOWED_ROOT)
                : List.copyOf(allowedRoots);
        domainPrefix = domainPrefix == null ? "" : domainPrefix;
        leaseDuration = leaseDuration == null ? DEFAULT_LEASE_DURATION : leaseDuration;
        resync = resync == null ? DEFAULT_RESYNC : resync;
        if (leaseDuration.compareTo(Duration.ofSeconds(1)) < 0) {
            throw new IllegalArgumentException("lease duration must be at least 1s");
        }
        if (resync.compareTo(Duration.ofMillis(100)) < 0) {
            throw new IllegalArgumentException("resync period must be at least 100ms");
        }
        workers = workers <= 0 ? DEFAULT_WORKERS : workers;
        probeUris = probeUris == null ? HostProbe.WELL_KNOWN_URIS : List.copyOf(probeUris);
        sharedRoots = sharedRoots == null ? List.of() : List.copyOf(sharedRoots);
        migrationUri = migrationUri == null || migrationUri.isBlank() ? null : migrationUri;
        serving = serving == null ? Serving.LOOPBACK_PLAIN : serving;
        images = images == null ? Images.DEFAULT : images;
    }

    /**
     * The image cache's settings.
     *
     * @param maxImageBytes the largest image the host downloads ({@code --max-image-size})
     * @param cacheInterval period of the cache keeper's runs ({@code --image-cache-interval}); it also runs after each
     *                      download
     * @param cacheGrace    a base used less than this long ago is never evicted ({@code --image-cache-grace})
     */
    public record Images(long maxImageBytes, Duration cacheInterval, Duration cacheGrace) {
        public static final Images DEFAULT = new Images(ImageCache.DEFAULT_MAX_BYTES, CacheKeeper.DEFAULT_INTERVAL,
                CacheKeeper.DEFAULT_GRACE);

        public Images {
            if (maxImageBytes <= 0) {
                throw new IllegalArgumentException("the image size limit must be positive, not " + maxImageBytes);
            }
            cacheInterval = cacheInterval == null ? CacheKeeper.DEFAULT_INTERVAL : cacheInterval;
            cacheGrace = cacheGrace == null ? CacheKeeper.DEFAULT_GRACE : cacheGrace;
            if (cacheInterval.compareTo(Duration.ofMillis(100)) < 0) {
                throw new IllegalArgumentException("the image cache interval must be at least 100ms");
            }
            if (cacheGrace.isNegative()) {
                throw new IllegalArgumentException("the image cache grace period must not be negative");
            }
        }
    }

    /** With these image cache settings. */
    public AgentConfig withImages(Images i) {
        return with(c -> c.images = i);
    }

    /** Accepts live migrations at {@code uri}; {@code shared}: allowed roots on storage shared with other hosts. */
    public AgentConfig withMigration(String uri, List<String> shared) {
        return with(c -> {
            c.migrationUri = uri;
            c.sharedRoots = shared;
        });
    }

    /** Without console log, guest channel, HTTP endpoints, migration settings, serving or image settings. */
    public AgentConfig(String host, String libvirtUri, List<String> allowedRoots, String domainPrefix,
                       Duration leaseDuration, Duration resync, int workers, List<String> probeUris) {
        this(host, libvirtUri, allowedRoots, domainPrefix, leaseDuration, resync, workers, probeUris, null, null, -1,
                -1, null, null, null, null);
    }

    /** Serves /healthz and /readyz on {@code healthPort} and /metrics on {@code metricsPort} (-1: off, 0: any). */
    public AgentConfig withPorts(int health, int metrics) {
        return with(c -> {
            c.healthPort = health;
            c.metricsPort = metrics;
        });
    }

    /** Serves the health and metrics ports as {@code s} says (HTTPS and authentication, or plain on loopback). */
    public AgentConfig withServing(Serving s) {
        return with(c -> c.serving = s);
    }

    public AgentConfig withConsoleLogDir(String dir) {
        return with(c -> c.consoleLogDir = dir);
    }

    public AgentConfig withGuestChannelDir(String dir) {
        return with(c -> c.guestChannelDir = dir);
    }

    /** Defaults for everything but the host. */
    public static AgentConfig forHost(String host) {
        return new AgentConfig(host, null, null, null, null, null, 0, null);
    }

    public AgentConfig withLibvirtUri(String uri) {
        return with(c -> c.libvirtUri = uri);
    }

    public AgentConfig withAllowedRoots(List<String> roots) {
        return with(c -> c.allowedRoots = roots);
    }

    public AgentConfig withDomainPrefix(String prefix) {
        return with(c -> c.domainPrefix = prefix);
    }

    public AgentConfig withLeaseDuration(Duration d) {
        return with(c -> c.leaseDuration = d);
    }

    public AgentConfig withResync(Duration d) {
        return with(c -> c.resync = d);
    }

    public AgentConfig withWorkers(int n) {
        return with(c -> c.workers = n);
    }

    public AgentConfig withProbeUris(List<String> uris) {
        return with(c -> c.probeUris = uris);
    }

    /** This configuration with the changes {@code edit} makes to a copy of its fields (checked and defaulted again). */
    private AgentConfig with(java.util.function.Consumer<Fields> edit) {
        Fields c = new Fields(this);
        edit.accept(c);
        return c.build();
    }

    /** The components as mutable fields, for {@link #with}. */
    private static final class Fields {
        String host;
        String libvirtUri;
        List<String> allowedRoots;
        String domainPrefix;
        Duration leaseDuration;
        Duration resync;
        int workers;
        List<String> probeUris;
        String consoleLogDir;
        String guestChannelDir;
        int healthPort;
        int metricsPort;
        List<String> sharedRoots;
        String migrationUri;
        Serving serving;
        Images images;

        Fields(AgentConfig c) {
            host = c.host;
            libvirtUri = c.libvirtUri;
            allowedRoots = c.allowedRoots;
            domainPrefix = c.domainPrefix;
            leaseDuration = c.leaseDuration;
            resync = c.resync;
            workers = c.workers;
            probeUris = c.probeUris;
            consoleLogDir = c.consoleLogDir;
            guestChannelDir = c.guestChannelDir;
            healthPort = c.healthPort;
            metricsPort = c.metricsPort;
            sharedRoots = c.sharedRoots;
            migrationUri = c.migrationUri;
            serving = c.serving;
            images = c.images;
        }

        AgentConfig build() {
            return new AgentConfig(host, libvirtUri, allowedRoots, domainPrefix, leaseDuration, resync, workers,
                    probeUris, consoleLogDir, guestChannelDir, healthPort, metricsPort, sharedRoots, migrationUri,
                    serving, images);
        }
    }

    /** Parses {@code 15s}, {@code 500ms}, {@code 2m}, {@code 1h} or ISO-8601 {@code PT15S}. */
    public static Duration parseDuration(String s) {
        return io.virtfleet.reconcilers.lifecycle.Durations.parse(s);
    }
}
