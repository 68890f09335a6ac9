package io.virtfleet.operator;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.virtfleet.api.v1alpha1.ApiGroup;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.DomainSpec;
import io.virtfleet.api.v1alpha1.DomainStatus;
import io.virtfleet.api.v1alpha1.Host;
import io.virtfleet.api.v1alpha1.HostSpec;
import io.virtfleet.api.v1alpha1.HostStatus;
import io.virtfleet.reconcilers.lifecycle.DomainStates;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A FAKE node agent for the operator's tests: no libvirt, no real domains. It registers a Host and keeps its
 * heartbeat Lease fresh like the real agent, and (when {@code auto}) plays the agent's side of the Domain contract
 * (see {@link DomainSpec}): powerState Running with a new restartGeneration "starts" the domain (state Running, a new
 * id, observedRestartGeneration recorded), powerState Stopped "shuts it down", a deleted Domain loses the agent
 * finalizer. It never restarts a domain that stopped on its own. Tests make the "guest" power off or crash with
 * {@link #guestPowersOff} and {@link #crash}, and can write any status with {@link #report}.
 */
final class FakeAgent implements AutoCloseable {
    static final int LEASE_SECONDS = 10;

    final String host;
    private final KubernetesClient client;
    private final boolean auto;
    final AtomicInteger nextId = new AtomicInteger(1);
    private final AtomicBoolean heartbeating = new AtomicBoolean(true);
    private final ScheduledExecutorService heartbeat;
    private final ExecutorService worker;
    private final SharedIndexInformer<Domain> informer;

    private FakeAgent(KubernetesClient client, String host, boolean auto) {
        this.client = client;
        this.host = host;
        this.auto = auto;
        this.heartbeat = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "fake-agent-heartbeat-" + host));
        this.worker = Executors.newSingleThreadExecutor(r -> daemon(r, "fake-agent-" + host));
        this.informer = client.resources(Domain.class).inAnyNamespace()
                .withLabel(ApiGroup.HOST_LABEL, host).runnableInformer(0);
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    /** Registers the Host (labels, capacity, drivers) with a fresh Lease and starts acting on its Domains. */
    static FakeAgent start(KubernetesClient client, String host, Map<String, String> labels, int cpus, String memory,
                           boolean auto, String... drivers) {
        FakeAgent a = new FakeAgent(client, host, auto);
        a.register(labels, cpus, memory, drivers);
        a.renewLease(Instant.now());
        a.heartbeat.scheduleAtFixedRate(() -> {
            if (a.heartbeating.get()) {
                try {
                    a.renewLease(Instant.now());
                } catch (RuntimeException e) {
                    // the control plane may be going away at the end of the run
                }
            }
        }, 1, 1, TimeUnit.SECONDS);
        a.informer.addEventHandler(new ResourceEventHandler<>() {
            @Override
            public void onAdd(Domain d) {
                a.worker.submit(() -> a.act(d.getMetadata().getNamespace(), d.getMetadata().getName()));
            }

            @Override
            public void onUpdate(Domain o, Domain d) {
                a.worker.submit(() -> a.act(d.getMetadata().getNamespace(), d.getMetadata().getName()));
            }

            @Override
            public void onDelete(Domain d, boolean unknown) {
            }
        });
        a.informer.start().toCompletableFuture().join();
        return a;
    }

    private void register(Map<String, String> labels, int cpus, String memory, String... drivers) {
        Host h = new Host();
        h.setMetadata(new ObjectMetaBuilder().withName(host).withLabels(labels).build());
        h.setSpec(new HostSpec());
        h.getSpec().allowedDiskRoots.add(HostSpec.DEFAULT_ALLOWED_ROOT);
        h.getSpec().domainPrefix = "vf-";
        client.resource(h).fieldManager(ApiGroup.AGENT_FIELD_MANAGER).forceConflicts().serverSideApply();
        h.setStatus(new HostStatus());
        h.getStatus().cpus = cpus;
        h.getStatus().memory = new Quantity(memory);
        List<String> available = new ArrayList<>();
        for (String d : new String[] {"kvm", "qemu", "xen", "openvz"}) {
            boolean on = List.of(drivers).contains(d);
            h.getStatus().drivers.add(new HostStatus.HypervisorDriver(d, d.equals("xen") ? "xen:///system"
                    : d.equals("openvz") ? "openvz:///system" : "qemu:///system", on, on ? "8.2.0" : null,
                    on ? null : "not installed (fake agent)"));
            if (on) {
                available.add(d);
            }
        }
        h.getStatus().availableDrivers = String.join(",", available);
        h.getStatus().leaseName = ApiGroup.leaseName(host);
        h.getStatus().leaseNamespace = ApiGroup.SYSTEM_NAMESPACE;
        h.getStatus().agentVersion = "fake";
        client.resources(Host.class).resource(h).patchStatus();
    }

    private void renewLease(Instant renew) {
        ZonedDateTime t = renew.atZone(ZoneOffset.UTC);
        Lease lease = new LeaseBuilder().withNewMetadata().withName(ApiGroup.leaseName(host))
                .withNamespace(ApiGroup.SYSTEM_NAMESPACE).endMetadata()
                .withNewSpec().withHolderIdentity("fake-agent-" + host).withLeaseDurationSeconds(LEASE_SECONDS)
                .withRenewTime(t).endSpec().build();
        client.resource(lease).fieldManager(ApiGroup.AGENT_FIELD_MANAGER).forceConflicts().serverSideApply();
    }

    /**
     * The Host accepts live migrations (as the real agent started with {@code --migration-uri} and
     * {@code --shared-disk-root}): {@code spec.migrationUri} and {@code spec.sharedDiskRoots} applied by the agent's
     * field manager. Nothing migrates here; a test plays the source agent's report in the migration's status.
     */
    FakeAgent acceptingMigrations(String uri, String sharedRoot) {
        Host registered = client.resources(Host.class).withName(host).get();
        Host h = new Host();
        // A server-side apply drops what this field manager applied before and leaves out now: labels included.
        h.setMetadata(new ObjectMetaBuilder().withName(host).withLabels(registered.getMetadata().getLabels()).build());
        h.setSpec(registered.getSpec());
        h.getSpec().migrationUri = uri;
        h.getSpec().sharedDiskRoots = new ArrayList<>(List.of(sharedRoot));
        client.resource(h).fieldManager(ApiGroup.AGENT_FIELD_MANAGER).forceConflicts().serverSideApply();
        return this;
    }

    /** The agent dies: no more renewals, and the Lease is set to have expired a minute ago. */
    void expireLease() {
        heartbeating.set(false);
        renewLease(Instant.now().minusSeconds(60));
    }

    /** The agent comes back. */
    void resumeHeartbeat() {
        renewLease(Instant.now());
        heartbeating.set(true);
    }

    /** The guest powered itself off: Shutoff (Shutdown); observedRestartGeneration stays. */
    void guestPowersOff(String ns, String name) {
        report(ns, name, DomainStates.SHUTOFF, DomainStates.REASON_SHUTDOWN, -1);
    }

    /** QEMU crashed: Shutoff (Crashed). */
    void crash(String ns, String name) {
        report(ns, name, DomainStates.SHUTOFF, DomainStates.REASON_CRASHED, -1);
    }

    /** Writes state, reason and id into Domain.status, leaving the rest as it is. */
    void report(String ns, String name, String state, String reason, int id) {
        client.resources(Domain.class).inNamespace(ns).withName(name).editStatus(d -> {
            DomainStatus s = d.getStatus() != null ? d.getStatus() : new DomainStatus();
            s.state = state;
            s.reason = reason;
            s.id = id;
            s.uuid = d.getSpec().uuid;
            s.observedTime = Instant.now().toString();
            d.setStatus(s);
            return d;
        });
    }

    /** The agent's side of the contract, minus libvirt. */
    private void act(String ns, String name) {
        try {
            Domain d = client.resources(Domain.class).inNamespace(ns).withName(name).get();
            if (d == null) {
                return;
            }
            if (d.isMarkedForDeletion()) {
                if (d.getMetadata().getFinalizers() != null
                        && d.getMetadata().getFinalizers().contains(ApiGroup.AGENT_FINALIZER)) {
                    client.resources(Domain.class).inNamespace(ns).withName(name).edit(x -> {
                        x.getMetadata().getFinalizers().remove(ApiGroup.AGENT_FINALIZER);
                        return x;
                    });
                }
                return;
            }
            if (!auto) {
                return;
            }
            if (d.getMetadata().getFinalizers() == null
                    || !d.getMetadata().getFinalizers().contains(ApiGroup.AGENT_FINALIZER)) {
                client.resources(Domain.class).inNamespace(ns).withName(name).edit(x -> {
                    x.getMetadata().getFinalizers().add(ApiGroup.AGENT_FINALIZER);
                    return x;
                });
            }
            DomainSpec spec = d.getSpec();
            DomainStatus st = d.getStatus();
            long gen = spec.restartGeneration == null ? 0 : spec.restartGeneration;
            Long observed = st == null ? null : st.observedRestartGeneration;
            boolean active = st != null && DomainStates.isActive(st.state);
            if (DomainSpec.POWER_RUNNING.equals(spec.powerState) && !Objects.equals(gen, observed)) {
                int id = nextId.getAndIncrement();
                client.resources(Domain.class).inNamespace(ns).withName(name).editStatus(x -> {
                    DomainStatus s = x.getStatus() != null ? x.getStatus() : new DomainStatus();
                    s.state = DomainStates.RUNNING;
                    s.reason = "Booted";
                    s.id = id;
                    s.uuid = x.getSpec().uuid;
                    // like libvirt: a genid in the XML is what the domain starts with
                    s.genid = x.getSpec().genid != null ? x.getSpec().genid : s.genid != null ? s.genid
                            : UUID.randomUUID().toString();
                    s.pid = 4000L + id;
                    s.observedRestartGeneration = gen;
                    s.startCount = (s.startCount == null ? 0 : s.startCount) + 1;
                    s.observedTime = Instant.now().toString();
                    s.observedGeneration = x.getMetadata().getGeneration();
                    x.setStatus(s);
                    return x;
                });
            } else if (DomainSpec.POWER_STOPPED.equals(spec.powerState) && (active || st == null)) {
                client.resources(Domain.class).inNamespace(ns).withName(name).editStatus(x -> {
                    DomainStatus s = x.getStatus() != null ? x.getStatus() : new DomainStatus();
                    s.state = DomainStates.SHUTOFF;
                    s.reason = active ? DomainStates.REASON_SHUTDOWN : "Unknown";
                    s.id = -1;
                    s.pid = null;
                    s.uuid = x.getSpec().uuid;
                    s.observedTime = Instant.now().toString();
                    s.observedGeneration = x.getMetadata().getGeneration();
                    x.setStatus(s);
                    return x;
                });
            }
        } catch (KubernetesClientException e) {
            // a concurrent change; the next event brings us back
        }
    }

    @Override
    public void close() {
        heartbeating.set(false);
        heartbeat.shutdownNow();
        informer.stop();
        worker.shutdownNow();
    }
}
