package io.virtfleet.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** Written by the operator (validation) and the VM's host's agent (the libvirt snapshot). */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class VirtualMachineSnapshotStatus extends PointInTimeCopyStatus {
    @JsonPropertyDescription("True once the snapshot exists in libvirt and can be restored.")
    public Boolean readyToUse;

    @JsonPropertyDescription("When libvirt took the snapshot (RFC 3339).")
    public String creationTime;

    @JsonPropertyDescription("Name of the libvirt snapshot.")
    public String snapshotName;

    @JsonPropertyDescription("The host that holds it.")
    public String host;

    @JsonPropertyDescription("UUID of the VM's domain when it was taken.")
    public String vmUuid;

    @JsonPropertyDescription("Running or Shutoff: a running snapshot holds the memory state and resumes running.")
    public String vmState;

    @JsonPropertyDescription("The generation ID the VM had when it was taken.")
    public String genid;

    @JsonPropertyDescription("Bytes of disk and memory state (approximate).")
    public Long size;
}
