package io.virtfleet.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Condition;

import java.util.ArrayList;
import java.util.List;

/** What virtfleet observed and decided for a VirtualMachine. Written only through the status subresource. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class VirtualMachineStatus {
    @JsonPropertyDescription("One word for humans: Pending, Scheduling, Starting, Running, Paused, Stopping, Stopped, "
            + "Failed, Migrating or Unknown.")
    public String printableStatus;

    @JsonPropertyDescription("The Host the VM is assigned to.")
    public String host;

    @JsonPropertyDescription("libvirt domain id: -1 when inactive, a positive number while running. Reused over time; "
            + "use uuid to identify the domain.")
    public Integer domainId;

    @JsonPropertyDescription("SMBIOS UUID of the domain: its stable identity.")
    public String uuid;

    @JsonPropertyDescription("Current VM generation ID as libvirt reports it.")
    public String genid;

    @JsonPropertyDescription("How many generation IDs virtfleet has given this VM after its first (each snapshot "
            + "restore, failover, ... adds one); only ever increases, so a stale report cannot bring an older genid "
            + "back.")
    public Long genidGeneration;

    @JsonPropertyDescription("Every change of the generation ID, oldest first, with its reason.")
    public List<GenidChange> genidHistory = new ArrayList<>();

    @JsonPropertyDescription("Where the current generation ID comes from: Spec (the explicit spec.genid), Generated "
            + "(by libvirt, spec.genid auto), or the reason of its last change (SnapshotRestored, Failover, ...).")
    public String genidSource;

    @JsonPropertyDescription("Why genid differs from an explicit spec.genid: spec.genid is only the initial value and "
            + "is never rewritten; the current value changed on a restore, clone or failover.")
    public String genidMessage;

    @JsonPropertyDescription("Devices as they are in the live domain, with names libvirt allocated.")
    public List<DeviceStatus> devices = new ArrayList<>();

    @JsonPropertyDescription("Images the VM's host is downloading for its disks, with the bytes so far (absent when "
            + "none).")
    public List<ImageDownload> imageDownloads;

    @JsonPropertyDescription("Network interfaces and addresses as the guest agent reports them (absent without one).")
    public List<GuestInterface> interfaces;

    @JsonPropertyDescription("The guest's OS and host name as the guest agent reports them (absent without one).")
    public GuestOSInfo guestOSInfo;

    @JsonPropertyDescription("Ready, Scheduled, Synced, RestartRequired, Failure, Paused, GuestAgentConnected.")
    public List<Condition> conditions = new ArrayList<>();

    @JsonPropertyDescription("The metadata.generation this status reflects.")
    public Long observedGeneration;
}
