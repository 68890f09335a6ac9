package io.virtfleet.agent.loop;

import io.fabric8.kubernetes.client.KubernetesClientException;
import io.virtfleet.agent.libvirt.LibvirtConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

/**
 * The agent's one controller mechanism: a {@link WorkQueue} of keys (each queued at most once, never processed by two
 * workers at once, retried with a per-key exponential backoff) drained by a bounded number of worker threads, each
 * pass a call of the {@link Reconciler}. Every controller of the agent (Domains; snapshots, restores, clones, backups)
 * is one of these: informers and libvirt events only add keys.
 *
 * <p>A pass that throws is retried with backoff like a {@link Result#RETRY}: libvirt unavailable (it reconnects
 * meanwhile), a failed Kubernetes call, or any runtime error (logged with its stack trace; a {@link LinkageError}, e.g.
 * a class missing from a jar replaced under the running process, must not end a worker silently).
 */
public final class WorkLoop implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(WorkLoop.class);

    /** One pass for one key: observe, plan, act, record; says what it wants next. */
    @FunctionalInterface
    public interface Reconciler {
        Result reconcile(String key) throws LibvirtConnection.UnavailableException;
    }

    private final String name;
    private final int workers;
    private final WorkQueue queue;
    private final Reconciler reconciler;
    private final UnaryOperator<String> describe;
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean running;

    /**
     * @param name      thread names and logs ({@code domain-worker-HOST})
     * @param workers   how many keys are processed at once
     * @param describe  a key as logs should name it (e.g. {@code ns/name (uuid)})
     */
    public WorkLoop(String name, int workers, ScheduledExecutorService scheduler, Reconciler reconciler,
                    UnaryOperator<String> describe) {
        if (workers < 1) {
            throw new IllegalArgumentException("workers: must be at least 1, got " + workers);
        }
        this.name = name;
        this.workers = workers;
        this.queue = new WorkQueue(scheduler);
        this.reconciler = reconciler;
        this.describe = describe;
    }

    public void add(String key) {
        queue.add(key);
    }

    public void addAfter(String key, Duration delay) {
        queue.addAfter(key, delay);
    }

    /** Keys waiting (not those being processed). */
    public int size() {
        return queue.size();
    }

    public synchronized void start() {
        running = true;
        for (int i = 0; i < workers; i++) {
            Thread t = new Thread(this::work, name + "-" + i);
            t.setDaemon(true);
            t.start();
            threads.add(t);
        }
    }

    private void work() {
        while (running) {
            String key;
            try {
                key = queue.take();
            } catch (InterruptedException e) {
                return;
            }
            if (key == null) {
                return;
            }
            try {
                process(key);
            } finally {
                queue.done(key);
            }
        }
    }

    /** One pass for {@code key}, and what it asks for next (package-private for tests). */
    void process(String key) {
        try {
            Result r = reconciler.reconcile(key);
            if (r.handedOff()) {
                return; // whoever took the work over adds the key again; its backoff stays
            }
            if (r.failed()) {
                Duration d = queue.addRateLimited(key);
                LOG.info("{}: retrying in {} ms", describe.apply(key), d.toMillis());
            } else {
                queue.forget(key);
                if (r.requeueAfter() != null) {
                    queue.addAfter(key, r.requeueAfter());
                }
            }
        } catch (LibvirtConnection.UnavailableException e) {
            Duration d = queue.addRateLimited(key);
            LOG.warn("{}: libvirt unavailable ({}); retrying in {} ms", describe.apply(key), e.getMessage(),
                    d.toMillis());
        } catch (KubernetesClientException e) {
            Duration d = queue.addRateLimited(key);
            LOG.error("{}: Kubernetes API call failed: {}; retrying in {} ms", describe.apply(key), e.getMessage(),
                    d.toMillis());
        } catch (RuntimeException | LinkageError e) {
            Duration d = queue.addRateLimited(key);
            LOG.error("{}: pass failed: {}; retrying in {} ms", describe.apply(key), e, d.toMillis(), e);
        }
    }

    /** Stops taking keys and waits up to 30 s for each worker's current pass. */
    @Override
    public synchronized void close() {
        running = false;
        queue.shutdown();
        for (Thread t : threads) {
            try {
                t.join(TimeUnit.SECONDS.toMillis(30));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (t.isAlive()) {
                LOG.warn("worker {} still busy after 30 s; leaving it", t.getName());
            }
        }
        threads.clear();
    }
}
