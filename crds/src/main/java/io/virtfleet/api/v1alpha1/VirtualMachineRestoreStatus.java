package io.virtfleet.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class VirtualMachineRestoreStatus {
    @JsonPropertyDescription("Pending, InProgress, Succeeded or Failed.")
    public String phase;

    @JsonPropertyDescription("True once the VM runs (or is stopped) from the snapshot with its new generation ID.")
    public Boolean complete;

    @JsonPropertyDescription("The new generation ID the VM got (none when spec.genid is none).")
    public String genid;

    @JsonPropertyDescription("The generation ID before the restore.")
    public String previousGenid;

    @JsonPropertyDescription("When the restore finished (RFC 3339).")
    public String restoreTime;

    @JsonPropertyDescription("Why it failed.")
    public String error;
}
