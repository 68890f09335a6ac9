package io.virtfleet.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.Required;

/** Fail {@link #vmName} over to {@link #targetHost} (or a host the scheduler picks). Acted on once. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class VirtualMachineFailoverSpec {
    @Required
    @JsonPropertyDescription("The VirtualMachine to move, in the same namespace. Its host's heartbeat Lease must have "
            + "expired.")
    @Pattern(ApiGroup.OBJECT_NAME_PATTERN)
    @Size(max = ApiGroup.OBJECT_NAME_MAX)
    public String vmName;

    @JsonPropertyDescription("The host to start the VM on; default: the scheduler's choice among the ready hosts other "
            + "than the lost one.")
    @Pattern(ApiGroup.OBJECT_NAME_PATTERN)
    @Size(max = ApiGroup.OBJECT_NAME_MAX)
    public String targetHost;
}
