package io.virtfleet.reconcilers.lifecycle;

/** Values of VirtualMachine status.printableStatus. */
public final class PrintableStatus {
    /** Not placed yet: no host fits (see the Scheduled condition). */
    public static final String PENDING = "Pending";
    /** Placed; the host's agent has not reported the domain yet. */
    public static final String SCHEDULING = "Scheduling";
    /** A (re)start is asked for and not carried out yet. */
    public static final String STARTING = "Starting";
    public static final String RUNNING = "Running";
    public static final String PAUSED = "Paused";
    /** powerState Stopped and the domain still runs (graceful shutdown under way). */
    public static final String STOPPING = "Stopping";
    public static final String STOPPED = "Stopped";
    /** The spec is invalid or cannot be rendered and there is no domain, or the domain crashed and stays down. */
    public static final String FAILED = "Failed";
    public static final String MIGRATING = "Migrating";
    /** The host's heartbeat Lease expired (or the agent reports an unknown state): nobody knows what runs. */
    public static final String UNKNOWN = "Unknown";

    private PrintableStatus() {
    }
}
