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
    /** XML namespace of virtfleet's ownership mark in a libvirt domain's {@code <metadata>}. */
    public static final String LIBVIRT_METADATA_NS = "https://virtfleet.io/xmlns/libvirt/domain/1.0";
    public static final String LIBVIRT_METADATA_PREFIX = "virtfleet";
    /** Prefix of a user-named device's libvirt alias ({@code ua-} is libvirt's rule for user aliases). */
    public static final String DEVICE_ALIAS_PREFIX = "ua-";

    private ApiGroup() {
    }
}
