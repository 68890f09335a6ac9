package io.virtfleet.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Quantity;

import java.util.ArrayList;
import java.util.List;

/** What the agent found on its host. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class HostStatus {
    @JsonPropertyDescription("Each hypervisor driver the agent probed, available or not.")
    public List<HypervisorDriver> drivers = new ArrayList<>();

    @JsonPropertyDescription("Comma-separated names of the available drivers, for kubectl get.")
    public String availableDrivers;

    @JsonPropertyDescription("Physical CPUs of the host.")
    public Integer cpus;

    @JsonPropertyDescription("Physical memory of the host.")
    public Quantity memory;

    public String libvirtVersion;
    public String qemuVersion;
    public String agentVersion;

    @JsonPropertyDescription("Name of the coordination.k8s.io Lease in the agent's namespace that carries the heartbeat.")
    public String leaseName;

    @JsonPropertyDescription("Namespace of the heartbeat Lease.")
    public String leaseNamespace;

    public List<Condition> conditions = new ArrayList<>();

    @JsonPropertyDescription("libvirt networks and Linux bridges VM interfaces can attach to here (written by the agent).")
    public HostNetworking networking;

    @JsonPropertyDescription("The host's CPU, for live migration checks (written by the agent).")
    public HostCpu cpu;

    @JsonPropertyDescription("Progress of the drain asked by spec.drain (written by the operator; absent otherwise).")
    public HostDrainStatus drain;

    @JsonPropertyDescription("The host's image cache: size, bases, limit and the last eviction (written by the agent).")
    public HostImageCacheStatus imageCache;

    @JsonPropertyDescription("The agent's endpoint for serial consoles, VNC displays and port-forwards of this host's "
            + "VMs, written by this host's agent only (status subresource; admission allows an agent only its own "
            + "Host). Absent while the agent serves none.")
    public AccessEndpoint accessEndpoint;

    /**
     * Where {@code virtfleet vm console|vnc|port-forward} connect, and the certificate they pin. In the status, not in
     * annotations: whoever may patch a Host (labels, cordon) must not be able to point clients, and their bearer
     * tokens, at an endpoint of their choosing; the status subresource is a separate RBAC resource that only the
     * agents are granted.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class AccessEndpoint {
        @JsonPropertyDescription("https://HOST:PORT the CLI connects to (TLS 1.3).")
        public String url;
        @JsonPropertyDescription("PEM of the endpoint's self-signed certificate, made at agent start; clients trust "
                + "exactly this certificate.")
        public String certificate;
        @JsonPropertyDescription("Subresources of virtualmachines served: console, vnc, portforward.")
        public List<String> subresources = new ArrayList<>();

        public AccessEndpoint() {
        }

        public AccessEndpoint(String url, String certificate, List<String> subresources) {
            this.url = url;
            this.certificate = certificate;
            this.subresources = new ArrayList<>(subresources);
        }
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class HypervisorDriver {
        @JsonPropertyDescription("kvm, qemu, xen or openvz.")
        public String name;
        @JsonPropertyDescription("libvirt connection URI probed.")
        public String uri;
        public Boolean available;
        @JsonPropertyDescription("Hypervisor version, when available.")
        public String version;
        @JsonPropertyDescription("Why the driver is not available.")
        public String message;

        public HypervisorDriver() {
        }

        public HypervisorDriver(String name, String uri, boolean available, String version, String message) {
            this.name = name;
            this.uri = uri;
            this.available = available;
            this.version = version;
            this.message = message;
        }
    }
}
