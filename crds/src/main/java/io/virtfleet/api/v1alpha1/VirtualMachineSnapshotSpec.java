package io.virtfleet.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.Required;

/** Which VM to snapshot. Immutable once taken. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class VirtualMachineSnapshotSpec {
    @Required
    @JsonPropertyDescription("The VirtualMachine to snapshot, in the same namespace. Every disk must be qcow2 "
            + "(libvirt internal snapshot); a running VM's memory state is included.")
    @Pattern(ApiGroup.OBJECT_NAME_PATTERN)
    @Size(max = ApiGroup.OBJECT_NAME_MAX)
    public String vmName;
}
