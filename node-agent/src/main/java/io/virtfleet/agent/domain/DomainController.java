package io.virtfleet.agent.domain;

import io.virtfleet.agent.Closer;
import io.virtfleet.reconcilers.domain.xml.DomainDocument;
import io.virtfleet.agent.libvirt.LibvirtCallException;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.virtfleet.agent.libvirt.InspectedDomain;
import io.virtfleet.agent.libvirt.LibvirtConnection;
import io.virtfleet.agent.libvirt.QemuProcesses;
import io.virtfleet.agent.libvirt.QemuWatcher;
import io.virtfleet.agent.loop.Result;
import io.virtfleet.agent.loop.WorkLoop;
import io.virtfleet.api.v1alpha1.ApiGroup;
import io.virtfleet.api.v1alpha1.Domain;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Watches the Domains labelled for this host (all namespaces) and keeps libvirt in line with them: every informer
 * event, libvirt lifecycle/device event, reconnect and periodic resync enqueues the affected UUIDs; worker threads
 * run {@link DomainSyncer#sync} per UUID on the agent's {@link WorkLoop} (never two passes for one UUID at once).
 */
public final class DomainController implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DomainController.class);
    static final String UUID_INDEX = "virtfleet.io/uuid";
    static final String UNKEYED_PREFIX = "unkeyed:";

    private final KubernetesClient client;
    private final LibvirtConnection libvirt;
    private final String host;
    private final Duration resync;
    private final ScheduledExecutorService scheduler;
    private final WorkLoop queue;
    private final DomainSyncer syncer;
    private final QemuWatcher watcher;
    private final DomainLocks locks = new DomainLocks();
    private SharedIndexInformer<Domain> informer;
    private ScheduledFuture<?> resyncTask;
    private volatile boolean running;
    private io.virtfleet.agent.migration.Migrator migrator;
    private volatile io.virtfleet.agent.provision.DomainFiles files;
    private final io.virtfleet.agent.guest.GuestAgentPoller guestAgent;

    public DomainController(KubernetesClient client, LibvirtConnection libvirt, String host,
                            DomainValidator validator, Duration resync, int workers,
                            ScheduledExecutorService scheduler) {
        this.client = client;
        this.libvirt = libvirt;
        this.host = host;
        this.resync = resync;
        this.scheduler = scheduler;
        this.queue = new WorkLoop("domain-worker-" + host, workers, scheduler, this::reconcile, this::describeKey);
        // Rewrite an unchanged status at most this often (so observedTime says the agent still looks).
        Duration statusRefresh = resync.multipliedBy(10);
        this.watcher = new QemuWatcher(this::qemuExited, "qemu-watch-" + host);
        this.syncer = new DomainSyncer(client, libvirt, host, validator, QemuProcesses.forUri(libvirt.uri()),
                this::domainsByUuid,
                () -> informer != null && informer.hasSynced(), Clock.systemUTC(), statusRefresh, watcher, locks,
                this::requeue);
        this.guestAgent = new io.virtfleet.agent.guest.GuestAgentPoller(libvirt, Clock.systemUTC(), queue::add);
        syncer.setGuestAgent(guestAgent);
    }

    public static String key(Domain d) {
        String uuid = d.getSpec() == null ? null : d.getSpec().uuid;
        if (DomainValidator.isUuid(uuid)) {
            return uuid.toLowerCase(Locale.ROOT);
        }
        return UNKEYED_PREFIX + d.getMetadata().getNamespace() + "/" + d.getMetadata().getName();
    }

    public synchronized void start() {
        running = true;
        informer = client.resources(Domain.class).inAnyNamespace().withLabel(ApiGroup.HOST_LABEL, host)
                .runnableInformer(0);
        informer.addIndexers(Map.of(UUID_INDEX, d -> List.of(key(d))));
        informer.addEventHandler(new ResourceEventHandler<>() {
            @Override
            public void onAdd(Domain d) {
                queue.add(key(d));
            }

            @Override
            public void onUpdate(Domain oldD, Domain newD) {
                String oldKey = key(oldD);
                String newKey = key(newD);
                queue.add(newKey);
                if (!oldKey.equals(newKey)) {
                    queue.add(oldKey);
                }
            }

            @Override
            public void onDelete(Domain d, boolean deletedFinalStateUnknown) {
                queue.add(key(d));
            }
        });
        informer.start().whenComplete((v, e) -> {
            if (e != null) {
                if (running) {
                    LOG.error("the Domain informer for host {} failed to start: {}", host, e.getMessage(), e);
                }
            } else {
                LOG.info("Domain informer for host {} synced ({} Domains)", host, informer.getStore().list().size());
                resyncAll("informer synced");
            }
        });
        watcher.start();
        queue.start();
        resyncTask = scheduler.scheduleWithFixedDelay(() -> resyncAll("periodic resync"), resync.toMillis(),
                resync.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The per-domain locks its passes hold (shared with the snapshot controller). */
    public DomainLocks locks() {
        return locks;
    }

    /**
     * Drives live migrations of this host's domains (the source side) with {@code sharedRoots} as the roots on
     * shared storage; a migration's progress re-syncs its domain.
     */
    public void enableMigrations(java.util.List<String> sharedRoots) {
        migrator = new io.virtfleet.agent.migration.Migrator(client, libvirt, host, sharedRoots,
                io.virtfleet.agent.migration.Migrator.Policy.DEFAULT, queue::add);
        syncer.setMigrator(migrator);
    }

    /**
     * Lets this host create disks from images (cache under the first allowed root), blank disks and cloud-init seeds
     * (Secrets read by name with the agent's client).
     */
    public void enableDomainFiles(java.util.List<String> allowedRoots, long imageMaxBytes) {
        io.virtfleet.agent.image.ImageCache cache = new io.virtfleet.agent.image.ImageCache(
                java.nio.file.Path.of(io.virtfleet.agent.image.ImageCache.rootFor(allowedRoots)), allowedRoots,
                imageMaxBytes, Duration.ofSeconds(60));
        files = new io.virtfleet.agent.provision.DomainFiles(cache, allowedRoots,
                new io.virtfleet.agent.provision.KubernetesSecrets(
                        new io.virtfleet.agent.provision.HostIdentity(client, host, Clock.systemUTC())), Clock.systemUTC(), queue::add);
        syncer.setDomainFiles(files);
    }

    /** The host's disk and seed maker (null until {@link #enableDomainFiles}). */
    public io.virtfleet.agent.provision.DomainFiles domainFiles() {
        return files;
    }

    public boolean hasSynced() {
        return informer != null && informer.hasSynced();
    }

    /** A libvirt event for a UUID: sync it now. */
    public void libvirtEvent(String uuid, String event) {
        LOG.debug("libvirt event {} for {}", event, uuid);
        if (event.startsWith("DeviceRemoved ")) {
            syncer.deviceRemoved(uuid.toLowerCase(Locale.ROOT), event.substring("DeviceRemoved ".length()));
        }
        queue.add(uuid.toLowerCase(Locale.ROOT));
    }

    /** libvirt (re)connected: refresh what depends on it and look at everything. */
    public void libvirtConnected(Set<String> emulators) {
        syncer.setEmulators(emulators);
        resyncAll("libvirt connected");
    }

    /** Enqueues every Domain of this host and every libvirt domain marked for this host. */
    public void resyncAll(String why) {
        if (!running) {
            return;
        }
        int n = 0;
        if (informer != null) {
            for (Domain d : informer.getStore().list()) {
                queue.add(key(d));
                n++;
            }
        }
        if (libvirt.isConnected()) {
            try {
                for (InspectedDomain i : libvirt.listAll()) {
                    DomainDocument x = i.current();
                    if (x == null) {
                        LOG.warn("libvirt domain {} ({}): cannot parse its XML: {}", i.name(), i.uuid(),
                                i.parseProblem());
                    } else if (x.ownershipMark().filter(m -> host.equals(m.host())).isPresent()) {
                        queue.add(i.uuid());
                        n++;
                    }
                }
            } catch (LibvirtConnection.UnavailableException e) {
                LOG.warn("resync ({}): libvirt unavailable: {}", why, e.getMessage());
            } catch (LibvirtCallException e) {
                LOG.warn("resync ({}): cannot list libvirt domains: {}", why, e.getMessage());
            }
        }
        LOG.debug("resync ({}): {} keys enqueued", why, n);
    }

    /** A start ended (DomainStarts): the next pass records it. */
    private void requeue(String uuid) {
        queue.add(uuid);
    }

    private void qemuExited(String uuid, long pid) {
        try {
            syncer.processExited(uuid, pid);
        } catch (KubernetesClientException e) {
            LOG.error("uuid {}: cannot report the exit of QEMU process {}: {}", uuid, pid, e.getMessage());
        }
        queue.add(uuid);
    }

    List<Domain> domainsByUuid(String uuid) {
        if (informer == null) {
            return List.of();
        }
        return informer.getIndexer().byIndex(UUID_INDEX, uuid);
    }

    /** One pass for one key, under the domain's lock (shared with the snapshot controller). */
    private Result reconcile(String key) throws LibvirtConnection.UnavailableException {
        if (key.startsWith(UNKEYED_PREFIX)) {
            for (Domain d : domainsByUuid(key)) {
                syncer.syncUnkeyed(d);
            }
            return Result.DONE;
        }
        if (syncer.starting(key)) {
            // virDomainCreate of this domain runs on the start executor, under the domain's lock; nothing is decided
            // meanwhile (DomainSyncPlanner), so the worker does not wait for that lock. The start's end adds the key.
            return Result.HANDED_OFF;
        }
        try (DomainLocks.Held held = locks.hold(key)) {
            return syncer.sync(key);
        }
    }

    private String describeKey(String key) {
        List<Domain> ds = domainsByUuid(key);
        if (ds.isEmpty()) {
            return key.startsWith(UNKEYED_PREFIX) ? key.substring(UNKEYED_PREFIX.length()) : "uuid " + key;
        }
        return DomainSyncer.ref(ds.get(0)) + " (" + key + ")";
    }

    /**
     * This host's Domains as the informer last saw them (those being deleted included, until their finalizer goes).
     * Throws while the informer has not listed them: an empty list then would not mean "none".
     */
    public List<Domain> domains() {
        SharedIndexInformer<Domain> i = informer;
        if (i == null || !i.hasSynced()) {
            throw new IllegalStateException("the Domain informer of host " + host + " has not synced yet");
        }
        return i.getStore().list();
    }

    /** This host's Domains in the informer cache by the {@code status.state} last reported (Unknown: none yet). */
    public Map<String, Long> countByState() {
        Map<String, Long> out = new java.util.HashMap<>();
        SharedIndexInformer<Domain> i = informer;
        if (i != null) {
            for (Domain d : i.getStore().list()) {
                String s = d.getStatus() != null && d.getStatus().state != null ? d.getStatus().state : "Unknown";
                out.merge(s, 1L, Long::sum);
            }
        }
        return out;
    }

    @Override
    public synchronized void close() {
        running = false;
        if (resyncTask != null) {
            resyncTask.cancel(false);
        }
        Closer.closeInOrder(queue, watcher, migrator, informer, syncer, guestAgent, files);
    }
}
