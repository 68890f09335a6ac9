package io.virtfleet.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.ValidationRule;

/** Live-migrate {@link #vmName} to {@link #targetHost} (or a host the scheduler picks). Acted on once. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "self == oldSelf", message = "spec is immutable; create a new object")
public class VirtualMachineMigrationSpec {
    @Required
    @JsonPropertyDescription("The running VirtualMachine to move, in the same namespace.")
    public String vmName;

    @JsonPropertyDescription("The host to move it to; default: the scheduler's choice among the ready hosts other "
            + "than the VM's (capacity, driver, allowed roots, hostSelector).")
    public String targetHost;
}
