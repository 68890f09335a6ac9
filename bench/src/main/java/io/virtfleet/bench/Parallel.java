package io.virtfleet.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Runs one call per item on a pool of its own and waits for all of them: the scenarios' bursts (applies, Domain
 * writes, host registrations, raw libvirt starts). The pool is shut down however the burst ends, so a failed or timed
 * out item does not leave threads behind for the next scenario.
 */
final class Parallel {
    /** Gap before the first paced item: enough for every thread of the pool to be started and waiting. */
    private static final long PACED_LEAD_NS = 200_000_000L;

    interface Call<T, R> {
        R apply(T item) throws Exception;
    }

    private Parallel() {
    }

    /** {@code call} on every item, {@code threads} at a time; each result awaited within {@code timeout}, in order. */
    static <T, R> List<R> map(List<T> items, int threads, Duration timeout, Call<T, R> call) throws Exception {
        return run(items, threads, -1, timeout, call);
    }

    /**
     * Like {@link #map}, but item i starts {@code i × intervalMs} after the first (which starts shortly after the
     * call), the way a user applies one object after another.
     */
    static <T, R> List<R> paced(List<T> items, int threads, long intervalMs, Duration timeout, Call<T, R> call)
            throws Exception {
        return run(items, threads, intervalMs, timeout, call);
    }

    private static <T, R> List<R> run(List<T> items, int threads, long intervalMs, Duration timeout, Call<T, R> call)
            throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            long t0 = System.nanoTime() + PACED_LEAD_NS;
            List<Future<R>> futures = new ArrayList<>();
            for (int i = 0; i < items.size(); i++) {
                long at = t0 + i * intervalMs * 1_000_000L;
                T item = items.get(i);
                futures.add(pool.submit(() -> {
                    if (intervalMs >= 0) {
                        sleepUntil(at);
                    }
                    return call.apply(item);
                }));
            }
            List<R> out = new ArrayList<>();
            for (Future<R> f : futures) {
                out.add(f.get(timeout.toMillis(), TimeUnit.MILLISECONDS));
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    static void sleepUntil(long nanoTime) {
        long d;
        while ((d = nanoTime - System.nanoTime()) > 0) {
            LockSupport.parkNanos(d);
        }
    }
}
