package io.virtfleet.api.v1alpha1;

/**
 * The one vocabulary of domain states in {@code Domain.status.state}/{@code reason}: libvirt's {@code virDomainState}
 * (by its number) with the name virtfleet reports, and the names of each state's reasons ({@code virDomain*Reason}:
 * {@code virDomainShutoffReason} etc., in libvirt's order). The node agent reports them; the operator reads them
 * (reconcilers' {@code DomainStates}). The names are {@link DomainStatus}'s constants.
 */
public enum DomainState {
    NOSTATE(0, DomainStatus.STATE_UNKNOWN),
    RUNNING(1, DomainStatus.STATE_RUNNING),
    BLOCKED(2, DomainStatus.STATE_BLOCKED),
    PAUSED(3, DomainStatus.STATE_PAUSED),
    SHUTTING_DOWN(4, DomainStatus.STATE_SHUTTING_DOWN),
    SHUTOFF(5, DomainStatus.STATE_SHUTOFF),
    CRASHED(6, DomainStatus.STATE_CRASHED),
    PMSUSPENDED(7, DomainStatus.STATE_PM_SUSPENDED);

    /** Status name of a Domain whose libvirt domain does not exist. */
    public static final String NOT_DEFINED = DomainStatus.STATE_NOT_DEFINED;

    private static final String[] RUNNING_REASONS = {"Unknown", "Booted", "Migrated", "Restored", "FromSnapshot",
        "Unpaused", "MigrationCanceled", "SaveCanceled", "Wakeup", "Crashed", "Postcopy", "PostcopyFailed"};
    private static final String[] PAUSED_REASONS = {"Unknown", "User", "Migration", "Save", "Dump", "IOError",
        "Watchdog", "FromSnapshot", "ShuttingDown", "Snapshot", "Crashed", "StartingUp", "Postcopy",
        "PostcopyFailed", "APIError"};
    private static final String[] SHUTDOWN_REASONS = {"Unknown", "User"};
    private static final String[] SHUTOFF_REASONS = {"Unknown", DomainStatus.REASON_SHUTDOWN, DomainStatus.REASON_DESTROYED, DomainStatus.REASON_CRASHED,
        DomainStatus.REASON_MIGRATED, DomainStatus.REASON_SAVED, DomainStatus.REASON_FAILED, DomainStatus.REASON_FROM_SNAPSHOT, "Daemon"};
    private static final String[] CRASHED_REASONS = {"Unknown", DomainStatus.REASON_PANICKED};
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
