package io.virtfleet.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class VirtualMachineFailoverStatus {
    @JsonPropertyDescription("Succeeded (the VM's Domain now belongs to toHost) or Failed (nothing was changed).")
    public String phase;

    @JsonPropertyDescription("The host the VM was on (whose heartbeat had expired).")
    public String fromHost;

    @JsonPropertyDescription("The host the VM was moved to.")
    public String toHost;

    @JsonPropertyDescription("The new generation ID the VM gets on toHost (absent when spec.genid is none).")
    public String genid;

    @JsonPropertyDescription("The generation ID before the failover.")
    public String previousGenid;

    @JsonPropertyDescription("When the VM was re-pointed (RFC 3339).")
    public String failoverTime;

    @JsonPropertyDescription("Why it failed, naming the field.")
    public String error;
}
