package io.virtfleet.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/**
 * Written by the operator (validation, the disk plan, the new VM) and the source's host's agent (the disk copies).
 * Phases: Pending (validated, handed to the agent) → CopyingDisks → DisksReady (agent) → Succeeded (the new VM
 * exists, and runs when its runStrategy says so), or Failed at any step.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class VirtualMachineCloneStatus extends RequestStatus {
    public static final String PHASE_COPYING_DISKS = "CopyingDisks";
    public static final String PHASE_DISKS_READY = "DisksReady";

    @JsonPropertyDescription("Pending, CopyingDisks, DisksReady, Succeeded or Failed.")
    public String phase;

    @JsonPropertyDescription("Writable disks to copy: source path -> target path (cdroms and read-only disks are "
            + "shared, not copied).")
    public java.util.Map<String, String> disks;

    @JsonPropertyDescription("The host of the source VM, where the copies are made and the new VM runs.")
    public String host;

    @JsonPropertyDescription("How the disks were copied: backup-api (the source ran: libvirt push-mode backup, a "
            + "point-in-time copy) or qemu-img (the source was stopped).")
    public String copyMethod;

    @JsonPropertyDescription("The new VM's generation ID (none when the source has spec.genid none).")
    public String genid;

    @JsonPropertyDescription("When the new VM was created (RFC 3339).")
    public String completionTime;

    @JsonPropertyDescription("For a running VM: whether its filesystems were frozen through the guest agent for the "
            + "copy (absent for a stopped VM).")
    public FilesystemFreeze filesystemFreeze;

    @JsonPropertyDescription("Why it failed; the source VM was not changed.")
    public String error;
}
