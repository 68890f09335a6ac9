package io.virtfleet.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/**
 * Written by two parties with server-side apply, each owning its fields: the operator ({@code phase}, hosts, times,
 * {@code downtimeMs}, {@code error}) and the source host's agent ({@code transfer}, {@code progress}).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class VirtualMachineMigrationStatus {
    public static final String PENDING = "Pending";
    public static final String SCHEDULING = "Scheduling";
    public static final String MIGRATING = "Migrating";
    public static final String SUCCEEDED = "Succeeded";
    public static final String FAILED = "Failed";

    @JsonPropertyDescription("Pending, Scheduling (validating and choosing the target), Migrating (the source agent "
            + "runs libvirt's live migration), Succeeded (the VM runs on targetHost, its Domain names it) or Failed "
            + "(see error; the VM keeps running on sourceHost).")
    public String phase;

    @JsonPropertyDescription("The host the VM ran on when the migration started.")
    public String sourceHost;

    @JsonPropertyDescription("The host the VM is moved to.")
    public String targetHost;

    @JsonPropertyDescription("When the migration was handed to the source agent (RFC 3339).")
    public String startTime;

    @JsonPropertyDescription("When it succeeded or failed (RFC 3339).")
    public String endTime;

    @JsonPropertyDescription("How long the guest was paused for the switch-over, as libvirt reports it (ms).")
    public Long downtimeMs;

    @JsonPropertyDescription("Why it failed, naming the field or the step and its cause.")
    public String error;

    @JsonPropertyDescription("The source agent's account of the libvirt job (agent-owned).")
    public Transfer transfer;

    @JsonPropertyDescription("libvirt's job statistics while it runs, then the completed job's (agent-owned).")
    public Progress progress;

    /** The agent's side of the hand-over, recorded before each step it takes. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class Transfer {
        public static final String STARTING = "Starting";
        public static final String RUNNING = "Running";
        public static final String COMPLETED = "Completed";
        public static final String FAILED = "Failed";
        public static final String ABORTED = "Aborted";

        @JsonPropertyDescription("Starting (recorded before libvirt is asked), Running, Completed (libvirt finished: "
                + "the domain runs on the target and is undefined on the source), Failed or Aborted (the domain "
                + "still runs on the source).")
        public String state;

        @JsonPropertyDescription("The migration (metadata.uid) this account is about.")
        public String id;

        @JsonPropertyDescription("libvirt's error, or what the agent found after a restart.")
        public String message;

        @JsonPropertyDescription("Total downtime libvirt reported for the completed job (ms).")
        public Long downtimeMs;

        @JsonPropertyDescription("The libvirt domain name on the target host.")
        public String targetDomainName;

        @JsonPropertyDescription("When the agent recorded this state (RFC 3339).")
        public String time;
    }

    /** From virDomainGetJobStats. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class Progress {
        @JsonPropertyDescription("Guest memory to transfer (bytes).")
        public Long memoryTotalBytes;

        @JsonPropertyDescription("Guest memory still to transfer in this iteration (bytes).")
        public Long memoryRemainingBytes;

        @JsonPropertyDescription("Guest memory transferred so far (bytes).")
        public Long memoryProcessedBytes;

        @JsonPropertyDescription("Passes over guest memory so far (libvirt's memory_iteration).")
        public Long iterations;

        @JsonPropertyDescription("Time the job has run (ms).")
        public Long elapsedMs;
    }
}
