package io.virtfleet.operator;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.javaoperatorsdk.operator.OperatorException;
import io.javaoperatorsdk.operator.health.Status;
import io.javaoperatorsdk.operator.processing.event.Event;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.AbstractEventSource;
import io.virtfleet.api.v1alpha1.ApiGroup;
import io.virtfleet.api.v1alpha1.Host;
import io.virtfleet.api.v1alpha1.HostSpec;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.reconcilers.lifecycle.HostView;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Hosts and their heartbeat Leases, as a JOSDK event source: it keeps both in informer caches, knows which hosts are
 * ready (Lease fresh), and asks for reconciliation of the VMs a change concerns (those waiting for a host, and those on
 * the host) when a host appears, changes, disappears, or its Lease becomes fresh or expires. Expiry produces no API
 * event, so a timer fires at each Lease's expiry time; routine renewals wake nobody.
 */
final class HostWatch extends AbstractEventSource<Host, VirtualMachine> {
    private static final Logger LOG = LoggerFactory.getLogger(HostWatch.class);
    private static final Duration EXPIRY_GRACE = Duration.ofMillis(200);
    private static final Duration SYNC_TIMEOUT = Duration.ofMinutes(2);

    private final KubernetesClient client;
    private final Clock clock;
    private final Function<String, Set<ResourceID>> affected;
    private final Map<String, Boolean> readiness = new ConcurrentHashMap<>();
    private final Map<String, HostView> lastViews = new ConcurrentHashMap<>();
    private final Map<String, ScheduledFuture<?>> expiryChecks = new ConcurrentHashMap<>();
    private volatile SharedIndexInformer<Host> hosts;
    private volatile SharedIndexInformer<Lease> leases;
    private volatile ScheduledExecutorService timer;
    /** Informers synced: before that, a Host seen without its Lease is not "not ready", just not seen in full yet. */
    private volatile boolean synced;
    /** Hosts listed when the informers synced whose first evaluation is still to come (see {@link #start()}). */
    private final Set<String> startupHosts = ConcurrentHashMap.newKeySet();
    private final Object evaluationLock = new Object();
    /**
     * The view of each host as of its Host's and Lease's resourceVersions. The scheduler reads every host's view on
     * every decision (500 hosts × 10,000 VMs in a burst); a view is rebuilt only when either object changed.
     */
    private final Map<String, CachedView> cachedViews = new ConcurrentHashMap<>();

    private record CachedView(String hostVersion, String leaseVersion, HostView view) {
    }

    /**
     * @param affected the VMs to reconcile when the host of this name changes (waiting ones and those placed there)
     */
    HostWatch(KubernetesClient client, Clock clock, Function<String, Set<ResourceID>> affected) {
        super(Host.class, "hosts-and-leases");
        this.client = client;
        this.clock = clock;
        this.affected = affected;
    }

    @Override
    public synchronized void start() throws OperatorException {
        if (isRunning()) {
            return;
        }
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "virtfleet-host-expiry");
            t.setDaemon(true);
            return t;
        });
        hosts = client.resources(Host.class).runnableInformer(0).itemStore(new PrunedItemStore<>());
        hosts.addEventHandler(new ResourceEventHandler<>() {
            @Override
            public void onAdd(Host h) {
                hostChanged(h.getMetadata().getName());
            }

            @Override
            public void onUpdate(Host oldHost, Host newHost) {
                hostChanged(newHost.getMetadata().getName());
            }

            @Override
            public void onDelete(Host h, boolean unknownFinalState) {
                hostChanged(h.getMetadata().getName());
            }
        });
        leases = client.leases().inNamespace(ApiGroup.SYSTEM_NAMESPACE).runnableInformer(0)
                .itemStore(new PrunedItemStore<>());
        leases.addEventHandler(new ResourceEventHandler<>() {
            @Override
            public void onAdd(Lease l) {
                leaseChanged(l);
            }

            @Override
            public void onUpdate(Lease oldLease, Lease newLease) {
                leaseChanged(newLease);
            }

            @Override
            public void onDelete(Lease l, boolean unknownFinalState) {
                leaseChanged(l);
            }
        });
        try {
            for (SharedIndexInformer<?> informer : informers()) {
                informer.start().toCompletableFuture().get(SYNC_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            }
        } catch (Exception e) {
            stop();
            throw new OperatorException("could not list Hosts and host Leases: " + e.getMessage(), e);
        }
        // The first verdict on each host known at start-up wakes nobody: JOSDK reconciles every VM once at start-up
        // anyway, after all event sources (this one included) have started. Firing then reconciled every VM twice
        // (bench/RESULTS.md) — from this loop, or from the informers' initial onAdd notifications, which fabric8
        // delivers asynchronously, possibly after the caches report synced.
        startupHosts.addAll(hostNames());
        synced = true;
        super.start();
        synchronized (evaluationLock) {
            for (String host : hostNames()) {
                evaluateLocked(host, false);
            }
        }
    }

    @Override
    public synchronized void stop() throws OperatorException {
        synced = false;
        startupHosts.clear();
        super.stop();
        for (SharedIndexInformer<?> informer : informers()) {
            if (informer != null) {
                informer.stop();
            }
        }
        if (timer != null) {
            timer.shutdownNow();
        }
    }

    @Override
    public Status getStatus() {
        if (!isRunning()) {
            return Status.UNKNOWN;
        }
        return informers().stream().allMatch(i -> i != null && i.isWatching()) ? Status.HEALTHY : Status.UNHEALTHY;
    }

    /** The Host and the Lease informer, in the order they start (null before {@link #start}). */
    private List<SharedIndexInformer<?>> informers() {
        return Arrays.asList(hosts, leases);
    }

    @Override
    public Set<Host> getSecondaryResources(VirtualMachine primary) {
        if (primary.getStatus() == null || primary.getStatus().host == null || hosts == null) {
            return Set.of();
        }
        Host h = hosts.getStore().getByKey(primary.getStatus().host);
        return h == null ? Set.of() : Set.of(h);
    }

    /** Every registered host with its Lease. */
    List<HostView> views() {
        List<HostView> out = new ArrayList<>();
        if (hosts == null) {
            return out;
        }
        for (Host h : hosts.getStore().list()) {
            out.add(viewOf(h, lease(h.getMetadata().getName())));
        }
        return out;
    }

    /** The host of this name, or null when it is not registered. */
    HostView view(String name) {
        Host h = hosts == null ? null : hosts.getStore().getByKey(name);
        if (h == null) {
            cachedViews.remove(name);
            return null;
        }
        return viewOf(h, lease(name));
    }

    /**
     * {@code HostView.of(h, l)}, reused while neither object's resourceVersion changed (an object in an informer's
     * store is replaced, never changed in place, and a new state of it has a new resourceVersion).
     */
    private HostView viewOf(Host h, Lease l) {
        String name = h.getMetadata().getName();
        String hostVersion = h.getMetadata().getResourceVersion();
        String leaseVersion = l == null ? null : l.getMetadata().getResourceVersion();
        boolean versioned = hostVersion != null && (l == null || leaseVersion != null);
        CachedView cached = cachedViews.get(name);
        if (versioned && cached != null && hostVersion.equals(cached.hostVersion())
                && Objects.equals(leaseVersion, cached.leaseVersion())) {
            return cached.view();
        }
        HostView view = HostView.of(h, l);
        if (versioned) {
            cachedViews.put(name, new CachedView(hostVersion, leaseVersion, view));
        }
        return view;
    }

    /** The registered spec of this host (console log and guest channel dirs, …), or null when it is not registered. */
    HostSpec spec(String name) {
        Host h = hosts == null ? null : hosts.getStore().getByKey(name);
        return h == null ? null : h.getSpec();
    }

    /** Why VMs on this host cannot be trusted to run (no Host, no Lease, Lease expired), or null when it is ready. */
    String lost(String name, Instant now) {
        Host h = hosts == null ? null : hosts.getStore().getByKey(name);
        if (h == null) {
            return "host " + name + " is not registered (no Host object)";
        }
        Lease l = lease(name);
        if (l == null) {
            return "host " + name + " has no heartbeat Lease " + ApiGroup.SYSTEM_NAMESPACE + "/"
                    + ApiGroup.leaseName(name);
        }
        Instant expiry = HostView.leaseExpiry(l);
        if (expiry == null || !expiry.isAfter(now)) {
            return "the heartbeat Lease of host " + name + " expired" + (expiry != null ? " at " + expiry : "")
                    + "; its agent is not reporting";
        }
        return null;
    }

    /** When the Lease of this host expires (null: no usable Lease). */
    Instant expiry(String name) {
        return HostView.leaseExpiry(lease(name));
    }

    private Lease lease(String host) {
        return leases == null ? null
                : leases.getStore().getByKey(ApiGroup.SYSTEM_NAMESPACE + "/" + ApiGroup.leaseName(host));
    }

    private List<String> hostNames() {
        List<String> names = new ArrayList<>();
        if (hosts != null) {
            for (Host h : hosts.getStore().list()) {
                names.add(h.getMetadata().getName());
            }
        }
        return names;
    }

    private void hostChanged(String host) {
        evaluate(host, true);
    }

    private void leaseChanged(Lease lease) {
        String name = lease.getMetadata().getName();
        String prefix = ApiGroup.leaseName("");
        if (name.startsWith(prefix)) {
            evaluate(name.substring(prefix.length()), false);
        }
    }

    /**
     * Recomputes a host's readiness, reconciles the affected VMs when it or the host's description changed, and arms
     * a timer for the Lease's expiry.
     */
    private void evaluate(String host, boolean hostObjectChanged) {
        if (!synced) {
            return;
        }
        synchronized (evaluationLock) {
            evaluateLocked(host, hostObjectChanged);
        }
    }

    /** One host at a time, so a view computed from older stores never overwrites a newer verdict. */
    private void evaluateLocked(String host, boolean hostObjectChanged) {
        Instant now = clock.instant();
        HostView view = view(host);
        boolean ready = view != null && view.isReady(now);
        Boolean before = readiness.put(host, ready);
        HostView comparable = view == null ? null : withoutLease(view);
        HostView previous = comparable == null ? lastViews.remove(host) : lastViews.put(host, comparable);
        boolean changed = !Objects.equals(before, ready) || (hostObjectChanged && !Objects.equals(previous, comparable));
        if (changed) {
            LOG.info("host {}: {}", host, view == null ? "gone" : ready ? "ready (Lease valid until "
                    + view.leaseExpiry() + ")" : "not ready: " + lost(host, now));
            if (!(before == null && startupHosts.remove(host))) {
                fire(host);
            }
        }
        ScheduledFuture<?> old = expiryChecks.remove(host);
        if (old != null) {
            old.cancel(false);
        }
        if (ready && view.leaseExpiry() != null && timer != null && !timer.isShutdown()) {
            long delay = Math.max(0, Duration.between(now, view.leaseExpiry()).plus(EXPIRY_GRACE).toMillis());
            expiryChecks.put(host, timer.schedule(() -> evaluate(host, false), delay, TimeUnit.MILLISECONDS));
        }
    }

    private static HostView withoutLease(HostView v) {
        return v.withLeaseExpiry(null);
    }

    private void fire(String host) {
        if (!isRunning() || getEventHandler() == null) {
            return;
        }
        try {
            for (ResourceID id : affected.apply(host)) {
                getEventHandler().handleEvent(new Event(id));
            }
        } catch (RuntimeException e) {
            LOG.warn("could not queue reconciliation for VMs of host {}: {}", host, e.toString());
        }
    }
}
