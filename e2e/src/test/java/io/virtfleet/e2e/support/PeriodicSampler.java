package io.virtfleet.e2e.support;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Something a test watches while it acts: {@link #sample()} runs every 100 ms on a daemon thread of its own from
 * {@link #start()} until {@link #stop()}, so a state that lasts only a moment (a status shown mid-migration, two
 * copies of a VM) is still seen.
 */
public abstract class PeriodicSampler {
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final Thread thread;

    protected PeriodicSampler(String threadName) {
        this.thread = new Thread(this::loop, threadName);
        thread.setDaemon(true);
    }

    /** One look; an exception it throws ends the sampling. */
    protected abstract void sample();

    public void start() {
        thread.start();
    }

    /** Stops sampling and waits up to 5 s for the last look to finish. */
    public void stop() throws InterruptedException {
        running.set(false);
        thread.join(5000);
    }

    private void loop() {
        while (running.get()) {
            sample();
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                return;
            }
        }
    }
}
