package io.virtfleet.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/**
 * What a snapshot's and a backup's status share: both copy a VM's disks at one point in time (freezing its
 * filesystems first when it runs) and leave the VM as it was, through the same phases. The CRD generator and Jackson
 * take these fields into each status as if declared there; the schema lists properties by name, so it is unchanged.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public abstract class PointInTimeCopyStatus extends RequestStatus {
    public static final String PHASE_IN_PROGRESS = "InProgress";

    @JsonPropertyDescription("Pending, InProgress, Succeeded or Failed.")
    public String phase;

    @JsonPropertyDescription("For a running VM: whether its filesystems were frozen through the guest agent for the "
            + "copy (absent for a stopped VM).")
    public FilesystemFreeze filesystemFreeze;

    @JsonPropertyDescription("Why it failed; the VM was not changed.")
    public String error;

    protected PointInTimeCopyStatus() {
    }
}
