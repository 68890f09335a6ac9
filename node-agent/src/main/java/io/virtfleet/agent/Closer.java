package io.virtfleet.agent;

import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Tearing down what a component built, in order, where some parts may never have been made (a start that failed half
 * way, a close before start). Shared by the agent, its tests and the bench, which all stop such a set of parts.
 */
public final class Closer {
    private Closer() {
    }

    /**
     * Closes each non-null resource in the order given. The first failure propagates at once and leaves the later ones
     * open, as a run of {@code if (x != null) x.close();} does; a checked exception comes wrapped in an
     * {@link IllegalStateException}.
     */
    public static void closeInOrder(AutoCloseable... resources) {
        for (AutoCloseable r : resources) {
            if (r == null) {
                continue;
            }
            try {
                r.close();
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException("cannot close " + r + ": " + e.getMessage(), e);
            }
        }
    }

    /**
     * {@link ExecutorService#shutdownNow()} (interrupting running tasks, dropping queued ones), then waits up to
     * {@code wait} for the running ones to end; an interrupt while waiting is kept for the caller. Null: nothing.
     */
    public static void shutdownNow(ExecutorService executor, Duration wait) {
        if (executor == null) {
            return;
        }
        executor.shutdownNow();
        try {
            executor.awaitTermination(wait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
