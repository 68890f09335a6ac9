package io.virtfleet.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

import java.util.List;

/**
 * What the agent on {@link #host} must make true in libvirt.
 *
 * <p>Start semantics: the agent never restarts a domain that stopped on its own (guest power-off, crash, QEMU killed);
 * it only reports that in status. Starting is an explicit request: with {@code powerState: Running}, the agent
 * (re)starts the domain when {@link #restartGeneration} differs from {@code status.observedRestartGeneration}, then
 * records it there. A running domain whose restartGeneration was bumped is stopped and started again. Whether a stopped
 * domain should run again is the operator's decision (runStrategy), expressed by bumping restartGeneration.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class DomainSpec {
    public static final String POWER_RUNNING = "Running";
    public static final String POWER_STOPPED = "Stopped";
    public static final String POWER_PAUSED = "Paused";

    @JsonPropertyDescription("Host whose agent owns this domain. A Domain reassigned away from a host is destroyed "
            + "there (fencing), never started.")
    public String host;

    @JsonPropertyDescription("Running, Stopped or Paused.")
    public String powerState;

    @JsonPropertyDescription("SMBIOS UUID: the key of the libvirt domain.")
    public String uuid;

    @JsonPropertyDescription("Full libvirt domain XML to define.")
    public String domainXml;

    @JsonPropertyDescription("Generation ID the domain must carry before it next runs; empty for none or libvirt-generated.")
    public String genid;

    @JsonPropertyDescription("Counts the generation IDs of this VM: raised by one with every new one virtfleet asks for "
            + "(snapshot restore, failover, ...). The agent never defines a generation ID whose generation is below "
            + "the one libvirt's domain carries, so an older generation ID can never come back. Absent means 0.")
    public Long genidGeneration;

    @JsonPropertyDescription("Start request counter: when it differs from status.observedRestartGeneration and powerState "
            + "is Running, the agent (re)starts the domain (stopping it first if it runs) and records the value. A "
            + "domain that stopped on its own is not started again until this is bumped.")
    public Long restartGeneration;

    @JsonPropertyDescription("Seconds a graceful shutdown may take before the domain is destroyed.")
    public Integer shutdownTimeoutSeconds;

    @JsonPropertyDescription("A live migration in progress (set by the operator's migration controller): while set, "
            + "the source host's agent drives it instead of its usual pass, and the target host's agent does not "
            + "fence the arriving domain.")
    public DomainMigration migration;

    @JsonPropertyDescription("The VM's spec.disks (same order and indices), carried only when the host must create a "
            + "disk file first: a disk with volume.image becomes a qcow2 overlay on the host's cached base, one with "
            + "volume.size a blank disk; a file that exists is never touched. Absent: nothing to create.")
    public List<VirtualMachineSpec.Disk> disks;

    @JsonPropertyDescription("The VM's spec.cloudInit: the agent writes the cidata seed the domain XML attaches "
            + "(instance-id = spec.uuid, local-hostname = the Domain's name). Secret references are names only: the "
            + "host's agent reads the Secret, its content is never copied into this object.")
    public VirtualMachineSpec.CloudInit cloudInit;
}
