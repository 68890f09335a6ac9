package io.virtfleet.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Condition;

import java.util.ArrayList;
import java.util.List;

/** What the agent observed in libvirt. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class DomainStatus {
    /**
     * Synced=False reason for a disk or cloud-init seed the host could not create (an image that failed its checksum,
     * its size limit or its download; a Secret it could not read). The VM shows it as its Failure condition.
     */
    public static final String REASON_PROVISIONING_FAILED = "ProvisioningFailed";
    /** Synced=False reason while an image is downloading into the host's cache (not a failure). */
    public static final String REASON_PROVISIONING = "Provisioning";

    /**
     * Condition type: the guest agent (qemu-guest-agent on the {@code org.qemu.guest_agent.0} virtio channel) answers.
     * Reasons {@link #GUEST_AGENT_CONNECTED}, {@link #GUEST_AGENT_CHANNEL_DISCONNECTED} (no agent listens in the
     * guest), {@link #GUEST_AGENT_UNRESPONSIVE} (listens, but its commands failed or timed out),
     * {@link #GUEST_AGENT_NO_CHANNEL}, {@link #GUEST_AGENT_NOT_RUNNING}.
     */
    public static final String CONDITION_GUEST_AGENT_CONNECTED = "GuestAgentConnected";
    public static final String GUEST_AGENT_CONNECTED = "Connected";
    public static final String GUEST_AGENT_CHANNEL_DISCONNECTED = "ChannelDisconnected";
    public static final String GUEST_AGENT_UNRESPONSIVE = "Unresponsive";
    public static final String GUEST_AGENT_NO_CHANNEL = "NoChannel";
    public static final String GUEST_AGENT_NOT_RUNNING = "NotRunning";
    /** Not asked yet since the channel connected (the first answer follows within seconds). */
    public static final String GUEST_AGENT_QUERYING = "Querying";

    /** {@link #state}'s values: libvirt's states ({@link DomainState}), and two of virtfleet's. */
    public static final String STATE_RUNNING = "Running";
    public static final String STATE_BLOCKED = "Blocked";
    public static final String STATE_PAUSED = "Paused";
    public static final String STATE_SHUTTING_DOWN = "ShuttingDown";
    public static final String STATE_SHUTOFF = "Shutoff";
    public static final String STATE_CRASHED = "Crashed";
    public static final String STATE_PM_SUSPENDED = "PMSuspended";
    /** libvirt has no domain with the Domain's UUID. */
    public static final String STATE_NOT_DEFINED = "NotDefined";
    /** libvirt's VIR_DOMAIN_NOSTATE; also what the operator reads when there is no status yet. */
    public static final String STATE_UNKNOWN = "Unknown";

    /** {@link #reason}'s values the operator looks at (all of them: {@link DomainState#reasonName}). */
    public static final String REASON_SHUTDOWN = "Shutdown";
    public static final String REASON_DESTROYED = "Destroyed";
    public static final String REASON_CRASHED = "Crashed";
    public static final String REASON_FAILED = "Failed";
    public static final String REASON_SAVED = "Saved";
    public static final String REASON_MIGRATED = "Migrated";
    public static final String REASON_FROM_SNAPSHOT = "FromSnapshot";
    public static final String REASON_PANICKED = "Panicked";

    @JsonPropertyDescription("libvirt state: " + STATE_RUNNING + ", " + STATE_PAUSED + ", " + STATE_SHUTOFF + ", "
            + STATE_CRASHED + ", " + STATE_BLOCKED + ", " + STATE_SHUTTING_DOWN + ", " + STATE_PM_SUSPENDED + ", "
            + STATE_NOT_DEFINED + ", " + STATE_UNKNOWN + ".")
    public String state;

    @JsonPropertyDescription("libvirt's reason for the state, e.g. Shutdown (guest powered off), Crashed, Destroyed.")
    public String reason;

    @JsonPropertyDescription("libvirt domain id: -1 when inactive.")
    public Integer id;

    public String uuid;

    @JsonPropertyDescription("Generation ID as libvirt reports it in the live (or persistent) XML.")
    public String genid;

    @JsonPropertyDescription("The genidGeneration libvirt's domain is stamped with for that generation ID (see "
            + "spec.genidGeneration).")
    public Long genidGeneration;

    @JsonPropertyDescription("PID of the QEMU process, when there is one.")
    public Long pid;

    public List<DeviceStatus> devices = new ArrayList<>();

    @JsonPropertyDescription("Images this host is downloading for the domain's disks (absent when none).")
    public List<ImageDownload> imageDownloads;

    @JsonPropertyDescription("Disk files this host created for the domain (from an image or blank): removed when the "
            + "Domain is deleted. A file the host did not create is never removed.")
    public List<String> createdDisks;

    @JsonPropertyDescription("Network interfaces and addresses as the guest agent reports them (absent without one).")
    public List<GuestInterface> interfaces;

    @JsonPropertyDescription("The guest's OS and host name as the guest agent reports them (absent without one).")
    public GuestOSInfo guestOSInfo;

    @JsonPropertyDescription("The restartGeneration last carried out.")
    public Long observedRestartGeneration;

    @JsonPropertyDescription("How many times the agent has started this domain.")
    public Long startCount;

    @JsonPropertyDescription("The last error, with the libvirt message.")
    public String lastError;

    public List<Condition> conditions = new ArrayList<>();

    public Long observedGeneration;

    @JsonPropertyDescription("Time of the agent's last observation (RFC 3339).")
    public String observedTime;
}
