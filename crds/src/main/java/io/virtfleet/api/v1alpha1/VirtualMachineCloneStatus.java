package io.virtfleet.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class VirtualMachineCloneStatus {
    @JsonPropertyDescription("Pending, InProgress, Succeeded or Failed.")
    public String phase;

    @JsonPropertyDescription("Disks copied so far: source path -> target path.")
    public java.util.Map<String, String> disks;

    @JsonPropertyDescription("The new VM's generation ID.")
    public String genid;

    @JsonPropertyDescription("Why it failed; the source VM was not changed.")
    public String error;
}
