package io.virtfleet.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.ValidationRule;

/** Back up {@link #vmName} into {@link #destination}/&lt;backup name&gt;/. Acted on once. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "self == oldSelf", message = "spec is immutable; create a new object")
public class VirtualMachineBackupSpec {
    @Required
    @JsonPropertyDescription("The VirtualMachine to back up, in the same namespace. Its writable disks are copied "
            + "(point in time when it runs).")
    @Pattern(ApiGroup.OBJECT_NAME_PATTERN)
    @Size(max = ApiGroup.OBJECT_NAME_MAX)
    public String vmName;

    @Required
    @JsonPropertyDescription("Absolute directory on the VM's host, under one of the Host's allowed disk roots; the "
            + "backup goes to <destination>/<backup name>/, which must not exist yet.")
    public String destination;
}
