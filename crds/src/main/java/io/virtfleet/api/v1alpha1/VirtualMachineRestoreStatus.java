package io.virtfleet.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class VirtualMachineRestoreStatus extends RequestStatus {
    public static final String PHASE_COPYING_DISKS = "CopyingDisks";
    public static final String PHASE_DISKS_READY = "DisksReady";

    @JsonPropertyDescription("Pending, CopyingDisks, DisksReady, Succeeded or Failed: a revert to a snapshot goes "
            + "Pending -> Succeeded, a restore from a backup Pending -> CopyingDisks -> DisksReady -> Succeeded.")
    public String phase;

    @JsonPropertyDescription("True once the VM runs (or is stopped) from the snapshot with its new generation ID.")
    public Boolean complete;

    @JsonPropertyDescription("The new generation ID of the VM: chosen by the operator when it accepts the restore "
            + "(recorded here first, so a retry or a restarted operator reuses it) and applied by the agent exactly; "
            + "a revert to a snapshot taken while the VM ran starts a new QEMU, for which libvirt generates the "
            + "generation ID itself: the agent then records libvirt's value here. None when spec.genid is none.")
    public String genid;

    @JsonPropertyDescription("The VM's genidGeneration with this restore's generation ID (see "
            + "VirtualMachine status.genidGeneration).")
    public Long genidGeneration;

    @JsonPropertyDescription("The uid of the VirtualMachine the generation ID was chosen for (recorded with genid): "
            + "a restore of an earlier VM of the same name, deleted since, never pins its generation ID on a new one.")
    public String vmUid;

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
