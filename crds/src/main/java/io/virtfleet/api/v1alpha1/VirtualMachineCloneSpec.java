package io.virtfleet.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.ValidationRule;

/** Copy {@link #source} into a new VM {@link #target} (same namespace). */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "self == oldSelf", message = "spec is immutable; create a new object")
public class VirtualMachineCloneSpec {
    @Required
    @JsonPropertyDescription("The VirtualMachine to copy, in the same namespace. Its writable disks are copied "
            + "(point in time when it runs); it is not changed.")
    @Pattern(ApiGroup.OBJECT_NAME_PATTERN)
    @Size(max = ApiGroup.OBJECT_NAME_MAX)
    public String source;

    @Required
    @JsonPropertyDescription("Name of the new VirtualMachine. It gets a new UUID, new MAC addresses and a new "
            + "generation ID.")
    // No schema pattern: the operator refuses a bad target with its own message (ClonePlans.targetErrors).
    public String target;
}
