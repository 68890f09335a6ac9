package io.virtfleet.bench;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.virtfleet.api.v1alpha1.ApiGroup;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.DomainSpec;
import io.virtfleet.api.v1alpha1.Host;
import io.virtfleet.api.v1alpha1.HostSpec;
import io.virtfleet.api.v1alpha1.HostStatus;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * SIMULATED hosts for the controller-scale scenario: Host objects with a capacity and the qemu driver, heartbeat
 * Leases renewed like the real agent's (15 s, every 5 s, spread over the period), and a lightweight fake agent that
 * acknowledges each Domain by writing {@code status.state=Running} (one JSON merge patch of the status subresource)
 * without libvirt. It adds no agent finalizer. Nothing here is virtfleet's code; its requests are counted apart.
 */
public final class SimulatedFleet implements AutoCloseable {
    public static final int LEASE_SECONDS = 15;
    public static final int RENEW_SECONDS = 5;
    public static final int HOST_CPUS = 64;
    public static final String HOST_MEMORY = "256Gi";

    private final KubernetesClient client;
    private final List<String> hosts = new ArrayList<>();
    private final ScheduledExecutorService heartbeat;
    private final ExecutorService ackers;
    private final Set<String> inflight = ConcurrentHashMap.newKeySet();
    /** The restartGeneration each Domain was last acknowledged for (the informer can lag behind our own writes). */
    private final Map<String, Long> acked = new ConcurrentHashMap<>();
    private final AtomicInteger nextId = new AtomicInteger(1);
    public final AtomicLong acks = new AtomicLong();
    public final AtomicLong ackErrors = new AtomicLong();
    public final AtomicLong renewals = new AtomicLong();

    private SimulatedFleet(KubernetesClient client) {
        this.client = client;
        this.heartbeat = Executors.newScheduledThreadPool(2, r -> daemon(r, "sim-heartbeat"));
        this.ackers = Executors.newFixedThreadPool(4, r -> daemon(r, "sim-agent"));
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    /** Registers {@code count} hosts named {@code prefix-000...} with fresh Leases and starts their heartbeats. */
    public static SimulatedFleet start(KubernetesClient client, String prefix, int count) throws Exception {
        SimulatedFleet f = new SimulatedFleet(client);
        for (int i = 0; i < count; i++) {
            f.hosts.add(String.format("%s-%03d", prefix, i));
        }
        Parallel.map(List.copyOf(f.hosts), 4, Duration.ofSeconds(120), host -> {
            f.register(host);
            f.renew(host);
            return null;
        });
        long periodMs = RENEW_SECONDS * 1000L;
        for (int i = 0; i < count; i++) {
            String host = f.hosts.get(i);
            f.heartbeat.scheduleAtFixedRate(() -> {
                try {
                    f.renew(host);
                } catch (RuntimeException e) {
                    // the control plane may be going away
                }
            }, periodMs * i / count, periodMs, TimeUnit.MILLISECONDS);
        }
        return f;
    }

    public List<String> hosts() {
        return hosts;
    }

    private void register(String host) {
        Host h = new Host();
        h.setMetadata(new ObjectMetaBuilder().withName(host).build());
        h.setSpec(new HostSpec());
        h.getSpec().allowedDiskRoots.add(HostSpec.DEFAULT_ALLOWED_ROOT);
        h.getSpec().domainPrefix = "sim-";
        client.resource(h).fieldManager(ApiGroup.AGENT_FIELD_MANAGER).forceConflicts().serverSideApply();
        HostStatus s = new HostStatus();
        s.cpus = HOST_CPUS;
        s.memory = new Quantity(HOST_MEMORY);
        s.drivers.add(new HostStatus.HypervisorDriver("qemu", "qemu:///system", true, "9.0.0", null));
        s.drivers.add(new HostStatus.HypervisorDriver("kvm", "qemu:///system", false, null, "SIMULATED host"));
        s.availableDrivers = "qemu";
        s.leaseName = ApiGroup.leaseName(host);
        s.leaseNamespace = ApiGroup.SYSTEM_NAMESPACE;
        s.agentVersion = "bench-simulated";
        client.resources(Host.class).withName(host).subresource("status")
                .patch(PatchContext.of(PatchType.JSON_MERGE),
                        client.getKubernetesSerialization().asJson(Map.of("status", s)));
    }

    private void renew(String host) {
        Lease lease = new LeaseBuilder().withNewMetadata().withName(ApiGroup.leaseName(host))
                .withNamespace(ApiGroup.SYSTEM_NAMESPACE).endMetadata()
                .withNewSpec().withHolderIdentity(host).withLeaseDurationSeconds(LEASE_SECONDS)
                .withRenewTime(Instant.now().atZone(ZoneOffset.UTC)).endSpec().build();
        client.resource(lease).fieldManager(ApiGroup.AGENT_FIELD_MANAGER).forceConflicts().serverSideApply();
        renewals.incrementAndGet();
    }

    /** The fake agent: acknowledges a Domain that asks to run and has not been started for its generation. */
    public void maybeAck(Domain d) {
        if (d.isMarkedForDeletion() || d.getSpec() == null) {
            return;
        }
        DomainSpec spec = d.getSpec();
        if (spec.powerState != null && !DomainSpec.POWER_RUNNING.equals(spec.powerState)) {
            return;
        }
        long gen = spec.restartGeneration == null ? 0 : spec.restartGeneration;
        Long observed = d.getStatus() == null ? null : d.getStatus().observedRestartGeneration;
        if (observed != null && observed == gen) {
            return;
        }
        String ns = d.getMetadata().getNamespace();
        String name = d.getMetadata().getName();
        Long done = acked.get(ns + "/" + name);
        if (done != null && done == gen || !inflight.add(ns + "/" + name)) {
            return;
        }
        ackers.submit(() -> {
            try {
                int id = nextId.getAndIncrement();
                Map<String, Object> s = new LinkedHashMap<>();
                s.put("state", "Running");
                s.put("reason", "Booted");
                s.put("id", id);
                s.put("uuid", spec.uuid);
                s.put("genid", spec.genid != null ? spec.genid : UUID.randomUUID().toString());
                s.put("observedRestartGeneration", gen);
                s.put("startCount", 1);
                s.put("observedTime", Instant.now().toString());
                client.resources(Domain.class).inNamespace(ns).withName(name).subresource("status")
                        .patch(PatchContext.of(PatchType.JSON_MERGE),
                                client.getKubernetesSerialization().asJson(Map.of("status", s)));
                acked.put(ns + "/" + name, gen);
                acks.incrementAndGet();
            } catch (KubernetesClientException e) {
                ackErrors.incrementAndGet();
            } finally {
                inflight.remove(ns + "/" + name);
            }
        });
    }

    @Override
    public void close() {
        heartbeat.shutdownNow();
        ackers.shutdownNow();
    }
}
