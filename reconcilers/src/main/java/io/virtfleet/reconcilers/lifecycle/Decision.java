package io.virtfleet.reconcilers.lifecycle;

/**
 * The scheduler's answer: a host, or why there is none.
 *
 * @param host    the chosen host, null when nothing fits
 * @param reason  CamelCase reason when nothing fits (e.g. {@code NoHostWithDriver}); null when scheduled
 * @param detail  what the reason is about (e.g. {@code xen}), may be null
 * @param message a sentence for humans: why this host, or what each host lacks
 */
public record Decision(String host, String reason, String detail, String message) {
    public static final String NO_READY_HOST = "NoReadyHost";
    public static final String HOST_NOT_FOUND = "HostNotFound";
    public static final String NO_HOST_MATCHES_SELECTOR = "NoHostMatchesSelector";
    public static final String NO_SCHEDULABLE_HOST = "NoSchedulableHost";
    public static final String NO_HOST_WITH_DRIVER = "NoHostWithDriver";
    public static final String NO_HOST_ALLOWS_PATH = "NoHostAllowsPath";
    public static final String NO_HOST_WITH_NETWORK = "NoHostWithNetwork";
    public static final String INSUFFICIENT_CPU = "InsufficientCpu";
    public static final String INSUFFICIENT_MEMORY = "InsufficientMemory";

    public static Decision scheduled(String host, String message) {
        return new Decision(host, null, null, message);
    }

    public static Decision unschedulable(String reason, String detail, String message) {
        return new Decision(null, reason, detail, message);
    }

    public boolean isScheduled() {
        return host != null;
    }

    /** The reason with its detail, e.g. {@code NoHostWithDriver xen}; null when scheduled. */
    public String reasonString() {
        if (reason == null) {
            return null;
        }
        return detail == null || detail.isEmpty() ? reason : reason + " " + detail;
    }

    @Override
    public String toString() {
        return isScheduled() ? "host " + host : reasonString() + " (" + message + ")";
    }
}
