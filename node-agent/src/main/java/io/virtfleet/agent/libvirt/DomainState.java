package io.virtfleet.agent.libvirt;

/**
 * libvirt's {@code virDomainState} with the status names virtfleet reports, and the names of each state's reasons
 * ({@code virDomain*Reason}).
 */
public enum DomainState {
    NOSTATE(0, "Unknown"),
    RUNNING(1, "Running"),
    BLOCKED(2, "Blocked"),
    PAUSED(3, "Paused"),
    SHUTTING_DOWN(4, "ShuttingDown"),
    SHUTOFF(5, "Shutoff"),
    CRASHED(6, "Crashed"),
    PMSUSPENDED(7, "PMSuspended");

    /** Status name of a Domain whose libvirt domain does not exist. */
    public static final String NOT_DEFINED = "NotDefined";

    private static final String[] RUNNING_REASONS = {"Unknown", "Booted", "Migrated", "Restored", "FromSnapshot",
        "Unpaused", "MigrationCanceled", "SaveCanceled", "Wakeup", "Crashed", "Postcopy", "PostcopyFailed"};
    private static final String[] PAUSED_REASONS = {"Unknown", "User", "Migration", "Save", "Dump", "IOError",
        "Watchdog", "FromSnapshot", "ShuttingDown", "Snapshot", "Crashed", "StartingUp", "Postcopy",
        "PostcopyFailed", "APIError"};
    private static final String[] SHUTDOWN_REASONS = {"Unknown", "User"};
    private static final String[] SHUTOFF_REASONS = {"Unknown", "Shutdown", "Destroyed", "Crashed", "Migrated",
        "Saved", "Failed", "FromSnapshot", "Daemon"};
    private static final String[] CRASHED_REASONS = {"Unknown", "Panicked"};
    private static final String[] PMSUSPENDED_REASONS = {"Unknown"};

    private final int code;
    private final String statusName;

    DomainState(int code, String statusName) {
        this.code = code;
        this.statusName = statusName;
    }

    public int code() {
        return code;
    }

    public String statusName() {
        return statusName;
    }

    /** True when a QEMU process exists (anything but shut off). */
    public boolean active() {
        return this != SHUTOFF;
    }

    public static DomainState of(int code) {
        for (DomainState s : values()) {
            if (s.code == code) {
                return s;
            }
        }
        return NOSTATE;
    }

    /** libvirt's reason for {@code state} as a CamelCase name, e.g. Shutoff/3 is "Crashed". */
    public static String reasonName(DomainState state, int reason) {
        String[] names = switch (state) {
            case RUNNING -> RUNNING_REASONS;
            case PAUSED -> PAUSED_REASONS;
            case SHUTTING_DOWN -> SHUTDOWN_REASONS;
            case SHUTOFF -> SHUTOFF_REASONS;
            case CRASHED -> CRASHED_REASONS;
            case PMSUSPENDED -> PMSUSPENDED_REASONS;
            default -> new String[] {"Unknown"};
        };
        return reason >= 0 && reason < names.length ? names[reason] : "Reason" + reason;
    }
}
