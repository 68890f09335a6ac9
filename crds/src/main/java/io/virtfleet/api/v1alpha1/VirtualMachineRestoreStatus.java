package io.virtfleet.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class VirtualMachineRestoreStatus {
    public static final String PHASE_PENDING = "Pending";
    public static final String PHASE_COPYING_DISKS = "CopyingDisks";
    public static final String PHASE_DISKS_READY = "DisksReady";
    public static final String PHASE_SUCCEEDED = "Succeeded";
    public static final String PHASE_FAILED = "Failed";

    @JsonPropertyDescription("Pending, InProgress, Succeeded or Failed; a restore from a backup goes Pending -> "
            + "CopyingDisks -> DisksReady -> Succeeded.")
    public String phase;

    @JsonPropertyDescription("True once the VM runs (or is stopped) from the snapshot with its new generation ID.")
    public Boolean complete;

    @JsonPropertyDescription("The new generation ID the VM got (none when spec.genid is none).")
    public String genid;

    @JsonPropertyDescription("The generation ID before the restore.")
    public String previousGenid;

    @JsonPropertyDescription("When the restore finished (RFC 3339).")
    public String restoreTime;

    @JsonPropertyDescription("Restore from a backup: the host that holds it, where the VM is recreated.")
    public String host;

    @JsonPropertyDescription("Restore from a backup: file in the backup -> the disk path of the recreated VM.")
    public java.util.Map<String, String> disks;

    @JsonPropertyDescription("Why it failed.")
    public String error;
}
