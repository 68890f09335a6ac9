package io.virtfleet.controlplane;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Polling with a deadline, for the processes and API objects the control plane waits on. */
public final class Waits {
    private Waits() {
    }

    static void poll(String what, Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        long sleep = 50;
        RuntimeException lastError = null;
        while (true) {
            try {
                if (condition.getAsBoolean()) {
                    return;
                }
            } catch (IllegalStateException e) {
                throw e;
            } catch (RuntimeException e) {
                lastError = e;
            }
            if (System.nanoTime() > deadline) {
                IllegalStateException ex = new IllegalStateException("timed out after " + timeout.toSeconds()
                        + " s waiting for " + what);
                if (lastError != null) {
                    ex.addSuppressed(lastError);
                }
                throw ex;
            }
            sleep(sleep);
            sleep = Math.min(500, sleep * 2);
        }
    }

    /** Sleeps; an interrupt is kept (the thread's flag set again) and ends the wait as an IllegalStateException. */
    public static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
