package io.virtfleet.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Required;

/** Revert {@link #vmName} to {@link #snapshotName}. Acted on once. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class VirtualMachineRestoreSpec {
    @Required
    @JsonPropertyDescription("The VirtualMachine to revert, in the same namespace.")
    public String vmName;

    @Required
    @JsonPropertyDescription("A ready VirtualMachineSnapshot of that VM, in the same namespace.")
    public String snapshotName;
}
