package io.virtfleet.agent.host;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.virtfleet.agent.AgentConfig;
import io.virtfleet.api.v1alpha1.ApiGroup;
import io.virtfleet.api.v1alpha1.Host;
import io.virtfleet.api.v1alpha1.HostNetworking;
import io.virtfleet.api.v1alpha1.HostSpec;
import io.virtfleet.api.v1alpha1.HostStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Registers the cluster-scoped {@link Host} named after the host: spec (allowed disk roots, domain prefix) by
 * server-side apply as {@link ApiGroup#AGENT_FIELD_MANAGER} (so an admin's {@code unschedulable} is left alone), and
 * status (drivers, capacity, versions, heartbeat Lease, Ready) through the status subresource.
 */
public final class HostRegistrar {
    private static final Logger LOG = LoggerFactory.getLogger(HostRegistrar.class);
    public static final String READY = "Ready";

    private final KubernetesClient client;
    private final String host;
    private final List<String> allowedRoots;
    private final String domainPrefix;
    private final String consoleLogDir;
    private final String guestChannelDir;
    private final String leaseName;
    private final List<String> sharedRoots;
    private final String migrationUri;
    private HostStatus lastStatus;

    public HostRegistrar(KubernetesClient client, AgentConfig config, String leaseName) {
        this.client = client;
        this.host = config.host();
        this.allowedRoots = List.copyOf(config.allowedRoots());
        this.domainPrefix = config.domainPrefix();
        this.consoleLogDir = config.consoleLogDir();
        this.guestChannelDir = config.guestChannelDir();
        this.leaseName = leaseName;
        this.sharedRoots = List.copyOf(config.sharedRoots());
        this.migrationUri = config.migrationUri();
    }

    public String host() {
        return host;
    }

    /** The Host as the apiserver has it now; null when there is none. */
    public Host read() {
        return client.resources(Host.class).withName(host).get();
    }

    /** Creates or updates the Host's spec. */
    public void applySpec() {
        Host h = new Host();
        h.setMetadata(new ObjectMetaBuilder().withName(host).build());
        HostSpec spec = new HostSpec();
        spec.allowedDiskRoots = new ArrayList<>(allowedRoots);
        spec.domainPrefix = domainPrefix == null || domainPrefix.isEmpty() ? null : domainPrefix;
        spec.consoleLogDir = consoleLogDir;
        spec.guestChannelDir = guestChannelDir;
        spec.sharedDiskRoots = new ArrayList<>(sharedRoots);
        spec.migrationUri = migrationUri;
        h.setSpec(spec);
        client.resource(h).fieldManager(ApiGroup.AGENT_FIELD_MANAGER).forceConflicts().serverSideApply();
        LOG.info("registered Host {} (allowed roots {}, domain prefix '{}')", host, allowedRoots,
                domainPrefix == null ? "" : domainPrefix);
    }

    /** Writes the status from a probe (null when libvirt is unreachable) and the connection state. */
    public synchronized void writeStatus(HostProbe.Result probe, boolean libvirtConnected, String libvirtError) {
        HostStatus s = new HostStatus();
        HostStatus prev = lastStatus;
        if (probe != null) {
            s.drivers = new ArrayList<>(probe.drivers());
            s.availableDrivers = probe.availableDrivers();
            s.cpus = probe.cpus();
            s.memory = probe.memory();
            s.libvirtVersion = probe.libvirtVersion();
            s.qemuVersion = probe.qemuVersion();
            s.networking = probe.networking() != null ? probe.networking() : prev != null ? prev.networking : null;
            s.cpu = probe.cpu() != null ? probe.cpu() : prev != null ? prev.cpu : null;
        } else if (prev != null) {
            s.drivers = prev.drivers;
            s.availableDrivers = prev.availableDrivers;
            s.cpus = prev.cpus;
            s.memory = prev.memory;
            s.libvirtVersion = prev.libvirtVersion;
            s.qemuVersion = prev.qemuVersion;
            s.networking = prev.networking;
            s.cpu = prev.cpu;
        }
        s.agentVersion = agentVersion();
        s.leaseName = leaseName;
        s.leaseNamespace = ApiGroup.SYSTEM_NAMESPACE;
        String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
        Condition ready;
        if (libvirtConnected) {
            ready = new ConditionBuilder().withType(READY).withStatus("True").withReason("LibvirtConnected")
                    .withMessage("libvirt " + s.libvirtVersion + "; drivers: " + s.availableDrivers)
                    .withLastTransitionTime(now).build();
        } else {
            ready = new ConditionBuilder().withType(READY).withStatus("False").withReason("LibvirtUnavailable")
                    .withMessage("libvirtd is not reachable: " + libvirtError).withLastTransitionTime(now).build();
        }
        if (prev != null) {
            for (Condition c : prev.conditions) {
                if (READY.equals(c.getType()) && Objects.equals(c.getStatus(), ready.getStatus())) {
                    ready.setLastTransitionTime(c.getLastTransitionTime());
                }
            }
        }
        s.conditions = new ArrayList<>(List.of(ready));
        String patch = client.getKubernetesSerialization().asJson(Map.of("status", s));
        client.resources(Host.class).withName(host).subresource("status")
                .patch(PatchContext.of(PatchType.JSON_MERGE), patch);
        lastStatus = s;
        LOG.info("Host {} status: Ready={} ({}), drivers [{}], {} CPUs, memory {}", host, ready.getStatus(),
                ready.getMessage(), s.availableDrivers, s.cpus, s.memory);
    }

    /**
     * Writes {@code status.imageCache} (a JSON merge patch of that field only, so the rest of the status stays). Absent
     * fields of {@code s} are left as they were, except the limit: no limit is written as null (removed).
     */
    public void writeImageCache(io.virtfleet.api.v1alpha1.HostImageCacheStatus s) {
        var json = client.getKubernetesSerialization();
        com.fasterxml.jackson.databind.node.ObjectNode cache;
        try {
            cache = (com.fasterxml.jackson.databind.node.ObjectNode) new com.fasterxml.jackson.databind.ObjectMapper()
                    .readTree(json.asJson(s));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        if (s.limitBytes == null) {
            cache.putNull("limitBytes");
        }
        String patch = "{\"status\":{\"imageCache\":" + cache + "}}";
        client.resources(Host.class).withName(host).subresource("status")
                .patch(PatchContext.of(PatchType.JSON_MERGE), patch);
    }

    /** Publishes the host's networks and bridges when they changed since the last status write. */
    public synchronized void writeNetworking(HostNetworking networking) {
        HostStatus prev = lastStatus;
        if (networking == null || prev == null || sameJson(prev.networking, networking)) {
            return;
        }
        String patch = client.getKubernetesSerialization().asJson(Map.of("status", Map.of("networking", networking)));
        client.resources(Host.class).withName(host).subresource("status")
                .patch(PatchContext.of(PatchType.JSON_MERGE), patch);
        prev.networking = networking;
        LOG.info("Host {} networks now {}, bridges {}", host, networking.networks.stream().map(n -> n.name).toList(),
                networking.bridges);
    }

    private boolean sameJson(Object a, Object b) {
        var json = client.getKubernetesSerialization();
        return Objects.equals(a == null ? null : json.asJson(a), b == null ? null : json.asJson(b));
    }

    static String agentVersion() {
        String v = HostRegistrar.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }
}
