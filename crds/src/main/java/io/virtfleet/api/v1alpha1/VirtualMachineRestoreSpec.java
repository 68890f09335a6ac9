package io.virtfleet.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

/**
 * Revert {@link #vmName} to {@link #snapshotName}, or recreate a VM from the backup {@link #backupName}. Acted on once.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "self == oldSelf", message = "spec is immutable; create a new object")
@ValidationRule(value = "has(self.snapshotName) != has(self.backupName)",
        message = "set exactly one of snapshotName (revert a VM) and backupName (recreate a VM from a backup)")
@ValidationRule(value = "has(self.vmName) || has(self.backupName)",
        message = "vmName is required to restore a snapshot", fieldPath = ".vmName")
public class VirtualMachineRestoreSpec {
    @JsonPropertyDescription("With snapshotName: the VirtualMachine to revert, in the same namespace. With backupName: "
            + "the name of the VirtualMachine to create (default: the backed-up VM's name); no VM of that name may "
            + "exist.")
    @Pattern(ApiGroup.OBJECT_NAME_PATTERN)
    @Size(max = ApiGroup.OBJECT_NAME_MAX)
    public String vmName;

    @JsonPropertyDescription("A ready VirtualMachineSnapshot of that VM, in the same namespace.")
    @Pattern(ApiGroup.OBJECT_NAME_PATTERN)
    @Size(max = ApiGroup.OBJECT_NAME_MAX)
    public String snapshotName;

    @JsonPropertyDescription("A ready VirtualMachineBackup in the same namespace: the VM is recreated from its stored "
            + "spec with its disks copied back from the backup, on the backup's host, with a new generation ID.")
    @Pattern(ApiGroup.OBJECT_NAME_PATTERN)
    @Size(max = ApiGroup.OBJECT_NAME_MAX)
    public String backupName;
}
