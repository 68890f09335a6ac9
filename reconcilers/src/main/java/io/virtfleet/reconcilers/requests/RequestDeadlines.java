package io.virtfleet.reconcilers.requests;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * Deadlines of the request kinds (snapshot, restore, clone, backup): a request that is still not finished a while after
 * it was created — its agent is gone, its host lost, its VM never came up — ends {@code Failed} with a reason that says
 * what timed out and what was left as it was, instead of staying Pending or CopyingDisks for ever. Pure: time passed
 * in.
 *
 * <p>Two limits, both measured from the request's {@code metadata.creationTimestamp} (which survives operator
 * restarts): {@link Limits#handOver} for a request not yet taken up (no phase, or {@code Pending}), {@link Limits#work}
 * for one an agent (or the operator) works on ({@code CopyingDisks}, {@code InProgress}, {@code DisksReady}).
 */
public final class RequestDeadlines {
    public static final String PHASE_PENDING = "Pending";

    /** The two limits. */
    public record Limits(Duration handOver, Duration work) {
        public static final Limits DEFAULT = new Limits(Duration.ofMinutes(10), Duration.ofMinutes(60));

        public Limits {
            if (handOver == null || work == null || handOver.isNegative() || handOver.isZero() || work.isNegative()
                    || work.isZero()) {
                throw new IllegalArgumentException("request deadlines must be positive durations");
            }
        }
    }

    /** What the deadline check says: nothing yet (look again after {@code recheckAfter}), or expired with a reason. */
    public record Verdict(String expired, Duration recheckAfter) {
        public boolean isExpired() {
            return expired != null;
        }
    }

    private RequestDeadlines() {
    }

    /**
     * @param kind     e.g. {@code VirtualMachineClone}
     * @param phase    the request's status.phase (null: not handled yet)
     * @param host     the host it was handed to (null: none)
     * @param leftover what stays as it is when it is given up in this phase, for the message (e.g. "the planned
     *                 copies in status.disks")
     * @return null for a finished request (Succeeded, Failed) or one without a creation time
     */
    public static Verdict check(String kind, String phase, String host, String leftover, Instant created, Instant now,
                                Limits limits) {
        if ("Succeeded".equals(phase) || "Failed".equals(phase) || created == null) {
            return null;
        }
        boolean waiting = phase == null || PHASE_PENDING.equals(phase);
        Duration limit = waiting ? limits.handOver() : limits.work();
        Instant deadline = created.plus(limit);
        if (now.isBefore(deadline)) {
            return new Verdict(null, Duration.between(now, deadline).plusSeconds(1));
        }
        String who = host == null ? "no host took it" : "the agent of host " + host + " did not finish it";
        return new Verdict("deadline exceeded: still " + (phase == null ? "not handled" : phase) + " " + human(limit)
                + " after it was created (" + who + "); the " + kind + " was given up"
                + (leftover == null ? "" : ", " + leftover + " left as it was"), null);
    }

    private static String human(Duration d) {
        long s = d.toSeconds();
        return s % 3600 == 0 ? s / 3600 + "h" : s % 60 == 0 ? s / 60 + "m" : s + "s";
    }
}
