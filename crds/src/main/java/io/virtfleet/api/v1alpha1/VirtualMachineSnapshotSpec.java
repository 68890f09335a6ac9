package io.virtfleet.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Required;

/** Which VM to snapshot. Immutable once taken. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class VirtualMachineSnapshotSpec {
    @Required
    @JsonPropertyDescription("The VirtualMachine to snapshot, in the same namespace. Every disk must be qcow2 "
            + "(libvirt internal snapshot); a running VM's memory state is included.")
    public String vmName;
}
