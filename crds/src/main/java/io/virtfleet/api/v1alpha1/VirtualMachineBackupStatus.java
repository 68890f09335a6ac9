package io.virtfleet.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/**
 * Written by the operator (validation, the plan: status.disks, vmSpec, phase Pending) and the VM's host's agent (the
 * copies: InProgress, then Succeeded with readyToUse, or Failed).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class VirtualMachineBackupStatus extends PointInTimeCopyStatus {
    @JsonPropertyDescription("True once every file of the backup is written; a restore can use it.")
    public Boolean readyToUse;

    @JsonPropertyDescription("The directory holding the backup: <destination>/<backup name>.")
    public String location;

    @JsonPropertyDescription("The host whose disks hold the backup (a restore recreates the VM there).")
    public String host;

    @JsonPropertyDescription("Writable disks backed up: the VM's disk path -> the file in the backup.")
    public java.util.Map<String, String> disks;

    @JsonPropertyDescription("The VM's spec when the backup was requested (JSON), also stored as vm.json in the "
            + "backup directory; a restore recreates the VM from it.")
    public String vmSpec;

    @JsonPropertyDescription("The generation ID the VM had when the backup was taken.")
    public String genid;

    @JsonPropertyDescription("How the disks were copied: backup-api (the VM ran) or qemu-img (it was stopped).")
    public String copyMethod;

    @JsonPropertyDescription("When the copy was taken (RFC 3339).")
    public String creationTime;

    @JsonPropertyDescription("Bytes of the backup's disk files.")
    public Long size;
}
