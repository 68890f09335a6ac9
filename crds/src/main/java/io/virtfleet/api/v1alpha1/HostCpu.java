package io.virtfleet.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/**
 * The host's CPU as libvirt describes it, for live migration: a {@code host-passthrough} guest sees the host's exact
 * CPU, so it may only move to a host whose CPU is the same (libvirt does not check this for host-passthrough; for
 * host-model and named models the target's libvirt compares the guest CPU with its host CPU itself). Written by the
 * agent.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class HostCpu {
    @JsonPropertyDescription("CPU architecture, e.g. x86_64.")
    public String arch;

    @JsonPropertyDescription("Vendor, e.g. Intel or AMD.")
    public String vendor;

    @JsonPropertyDescription("libvirt's name for the host CPU model (capabilities /host/cpu/model).")
    public String model;

    @JsonPropertyDescription("SHA-256 of vendor, model and the sorted feature list of the host CPU: equal on hosts "
            + "whose CPUs a host-passthrough guest cannot tell apart.")
    public String signature;
}
