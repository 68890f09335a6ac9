package io.virtfleet.agent.loop;

import java.time.Duration;

/**
 * What one pass over a key wants next: nothing ({@link #DONE}), another pass after {@code requeueAfter}, a retry
 * with the key's backoff ({@code failed}), or nothing from the loop because the pass handed its work to another
 * thread that adds the key again when that work ends ({@code handedOff}, {@link #HANDED_OFF}).
 */
public record Result(Duration requeueAfter, boolean failed, boolean handedOff) {
    public static final Result DONE = new Result(null, false);
    public static final Result RETRY = new Result(null, true);
    /**
     * The pass's work goes on elsewhere (e.g. a blocking libvirt call on a thread of its own), which adds the key
     * again when it ends: neither a success nor a failure, so the key's backoff is kept as it is — a call that fails
     * there is reported by the next pass, whose retry then backs off further.
     */
    public static final Result HANDED_OFF = new Result(null, false, true);

    public Result(Duration requeueAfter, boolean failed) {
        this(requeueAfter, failed, false);
    }

    /** Another pass after {@code delay} (not a failure: the backoff is reset). */
    public static Result after(Duration delay) {
        return new Result(delay, false);
    }
}
