package io.virtfleet.api.v1alpha1;

/** Names shared by every kind of the API group, so labels and annotations are spelt once. */
public final class ApiGroup {
    public static final String GROUP = "virtfleet.io";
    public static final String VERSION = "v1alpha1";
    public static final String API_VERSION = GROUP + "/" + VERSION;

    /** Label on a Domain naming the Host whose agent acts on it. */
    public static final String HOST_LABEL = GROUP + "/host";
    /** Label on a Domain naming the VirtualMachine it was rendered from. */
    public static final String VM_LABEL = GROUP + "/vm";
    /** On a VirtualMachineMigration a drain created: the draining host, and which drain (Host.status.drain.id). */
    public static final String DRAIN_HOST_LABEL = GROUP + "/drain-host";
    public static final String DRAIN_ID_LABEL = GROUP + "/drain-id";
    /** XML namespace of virtfleet's ownership mark in a libvirt domain's {@code <metadata>}. */
    public static final String LIBVIRT_METADATA_NS = "https://virtfleet.io/xmlns/libvirt/domain/1.0";
    public static final String LIBVIRT_METADATA_PREFIX = "virtfleet";
    /** Prefix of a user-named device's libvirt alias ({@code ua-} is libvirt's rule for user aliases). */
    public static final String DEVICE_ALIAS_PREFIX = "ua-";

    /** Namespace of the per-host heartbeat Leases and of virtfleet's own workloads. */
    public static final String SYSTEM_NAMESPACE = "virtfleet-system";
    /** Finalizer the operator puts on a VirtualMachine until its Domain is gone. */
    public static final String VM_FINALIZER = GROUP + "/vm-cleanup";
    /** Finalizer the node agent puts on a Domain until the libvirt domain is undefined. */
    public static final String AGENT_FINALIZER = GROUP + "/agent-cleanup";
    /** Field manager names used for server-side apply, so managedFields say who wrote what. */
    public static final String OPERATOR_FIELD_MANAGER = "virtfleet-operator";
    public static final String AGENT_FIELD_MANAGER = "virtfleet-agent";

    /**
     * An object name as the apiserver requires it of custom resources (an RFC 1123 DNS subdomain, at most
     * {@link #OBJECT_NAME_MAX} characters): the schema of every field that names another object, so a request naming
     * no valid object is refused on create, not left for a controller to trip over.
     */
    public static final String OBJECT_NAME_PATTERN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
    public static final int OBJECT_NAME_MAX = 253;

    /**
     * The ServiceAccount (in {@link #SYSTEM_NAMESPACE}) a host's agent reads cloud-init Secrets as: the one identity
     * the operator grants a VM's Secrets to (deploy/README.md "cloud-init Secrets").
     */
    public static String hostServiceAccount(String host) {
        return "virtfleet-agent-host-" + host;
    }

    /** Name of the coordination.k8s.io Lease that carries a host's heartbeat (in {@link #SYSTEM_NAMESPACE}). */
    public static String leaseName(String host) {
        return "virtfleet-host-" + host;
    }

    private ApiGroup() {
    }
}
