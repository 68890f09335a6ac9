package io.virtfleet.agent.loop;

import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A controller work queue of keys: a key is queued at most once, is never processed by two workers at once (a key
 * added while it is being processed is processed again afterwards), can be added after a delay, and failed keys are
 * retried with exponential backoff.
 */
public final class WorkQueue {
    private static final Duration BASE_BACKOFF = Duration.ofMillis(500);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(60);

    private final ScheduledExecutorService scheduler;
    private final LinkedHashSet<String> queue = new LinkedHashSet<>();
    private final Set<String> processing = new HashSet<>();
    private final Set<String> dirty = new HashSet<>();
    private final Map<String, Integer> failures = new HashMap<>();
    private boolean shutdown;

    public WorkQueue(ScheduledExecutorService scheduler) {
        this.scheduler = scheduler;
    }

    public synchronized void add(String key) {
        if (shutdown || key == null) {
            return;
        }
        if (processing.contains(key)) {
            dirty.add(key);
            return;
        }
        if (queue.add(key)) {
            notifyAll();
        }
    }

    public void addAfter(String key, Duration delay) {
        if (delay.isZero() || delay.isNegative()) {
            add(key);
            return;
        }
        synchronized (this) {
            if (shutdown) {
                return;
            }
        }
        scheduler.schedule(() -> add(key), delay.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Retries {@code key} after a backoff that doubles with each consecutive failure; returns the delay. */
    public Duration addRateLimited(String key) {
        int n;
        synchronized (this) {
            n = failures.merge(key, 1, Integer::sum);
        }
        long millis = BASE_BACKOFF.toMillis() << Math.min(n - 1, 20);
        Duration d = Duration.ofMillis(Math.min(millis, MAX_BACKOFF.toMillis()));
        addAfter(key, d);
        return d;
    }

    /** Forgets the failure count of {@code key} (after a successful pass). */
    public synchronized void forget(String key) {
        failures.remove(key);
    }

    /** The next key, blocking; null once shut down. The caller must call {@link #done(String)} afterwards. */
    public synchronized String take() throws InterruptedException {
        while (queue.isEmpty() && !shutdown) {
            wait();
        }
        if (shutdown) {
            return null;
        }
        var it = queue.iterator();
        String key = it.next();
        it.remove();
        processing.add(key);
        return key;
    }

    public synchronized void done(String key) {
        processing.remove(key);
        if (dirty.remove(key) && !shutdown) {
            queue.add(key);
            notifyAll();
        }
    }

    public synchronized int size() {
        return queue.size();
    }

    public synchronized void shutdown() {
        shutdown = true;
        queue.clear();
        notifyAll();
    }
}
