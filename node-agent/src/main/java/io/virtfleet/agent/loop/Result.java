package io.virtfleet.agent.loop;

import java.time.Duration;

/**
 * What one pass over a key wants next: nothing ({@link #DONE}), another pass after {@code requeueAfter}, or a retry
 * with the key's backoff ({@code failed}).
 */
public record Result(Duration requeueAfter, boolean failed) {
    public static final Result DONE = new Result(null, false);
    public static final Result RETRY = new Result(null, true);

    /** Another pass after {@code delay} (not a failure: the backoff is reset). */
    public static Result after(Duration delay) {
        return new Result(delay, false);
    }
}
