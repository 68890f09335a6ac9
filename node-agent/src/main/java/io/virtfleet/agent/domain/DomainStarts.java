package io.virtfleet.agent.domain;

import io.virtfleet.agent.libvirt.LibvirtCallException;
import io.virtfleet.agent.libvirt.LibvirtConnection;
import io.virtfleet.api.v1alpha1.Domain;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Domain starts ({@code virDomainCreateWithFlags}) off the Domain workers. The call returns once QEMU runs the guest's
 * CPUs, which under TCG takes most of a second and more while other domains start beside it; a worker held through it
 * is a worker the next Domain's pass waits for. A pass hands the start over ({@link #submit}) and ends; the start runs
 * here under the domain's lock ({@link DomainLocks}, as the pass's own steps do), and its end adds the UUID to the
 * work queue again, as libvirt's lifecycle event would. Until then the start is {@link #inFlight}: an input of
 * {@link DomainSyncPlanner}, which plans nothing else for the domain meanwhile. The outcome waits in
 * {@link #finished} for the next pass, which reports it (a started domain's restart generation, or the failure).
 *
 * <p>At most {@link #AT_ONCE} starts run at once: libvirtd serves at most {@code max_client_requests} (default 5) calls
 * of one client connection at a time and stops reading that client's further calls until one returns, so the agent's
 * one connection keeps room for the passes' reads and the other calls while starts run.
 */
final class DomainStarts implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DomainStarts.class);
    /** Starts at once: one below libvirtd's default max_client_requests of 5 per client connection. */
    static final int AT_ONCE = 4;

    /** Carries out a start (the {@link DomainActuator} row; a slow or failing one in tests). */
    @FunctionalInterface
    interface Runner {
        boolean run(LifecycleAction action, Domain d, DomainActuator.Context c)
                throws LibvirtConnection.UnavailableException, LibvirtCallException;
    }

    /**
     * What the starts that ended since the last report did: {@code started} of them started the domain, the last of
     * those serving spec.restartGeneration {@code served} (null: none did); {@code error} the libvirt error of the
     * last one when it failed ({@code VIR_ERR_*}, reported like any failed step), {@code thrown} anything else it
     * threw (libvirt unavailable, a bug), which the next pass rethrows so that the loop retries with backoff.
     */
    record Finished(Long served, int started, LibvirtCallException error, Exception thrown) {
        boolean failed() {
            return error != null || thrown != null;
        }

        /** {@code this}, then {@code later}: the starts add up, the last failure (if the last one failed) stays. */
        Finished then(Finished later) {
            return new Finished(later.served != null ? later.served : served, started + later.started, later.error,
                    later.thrown);
        }
    }

    private final Runner runner;
    private final DomainLocks locks;
    private final Consumer<String> requeue;
    private final ExecutorService pool;
    private final Set<String> inFlight = ConcurrentHashMap.newKeySet();
    private final Map<String, Finished> finished = new ConcurrentHashMap<>();

    /**
     * @param runner  the start itself
     * @param locks   the per-domain locks the Domain passes and the snapshot work hold
     * @param requeue adds a UUID to the Domain work queue
     * @param name    thread names ({@code domain-start-HOST-n})
     */
    DomainStarts(Runner runner, DomainLocks locks, Consumer<String> requeue, String name) {
        this.runner = runner;
        this.locks = locks;
        this.requeue = requeue;
        AtomicInteger n = new AtomicInteger();
        this.pool = new ThreadPoolExecutor(AT_ONCE, AT_ONCE, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, name + "-" + n.getAndIncrement());
            t.setDaemon(true);
            return t;
        });
        ((ThreadPoolExecutor) pool).allowCoreThreadTimeOut(true);
    }

    private static String key(String uuid) {
        return uuid.toLowerCase(Locale.ROOT);
    }

    /** A start of {@code uuid} was handed over and has not ended. */
    boolean inFlight(String uuid) {
        return inFlight.contains(key(uuid));
    }

    /** The ended start of {@code uuid} not reported yet, else null. */
    Finished finished(String uuid) {
        return finished.get(key(uuid));
    }

    /** {@code f} was reported (a later start's outcome, if one ended meanwhile, stays). */
    void reported(String uuid, Finished f) {
        finished.remove(key(uuid), f);
    }

    /** The Domain is gone: nothing to report any more. */
    void forget(String uuid) {
        finished.remove(key(uuid));
    }

    /**
     * Starts {@code d}'s domain ({@code START} or {@code START_PAUSED}) on this executor, serving spec.restartGeneration
     * {@code restartGeneration}; the caller's pass ends and releases the domain's lock, which the start then takes.
     */
    void submit(String uuid, LifecycleAction action, Domain d, DomainActuator.Context c, long restartGeneration) {
        String k = key(uuid);
        if (!inFlight.add(k)) {
            throw new IllegalStateException("a start of libvirt domain " + uuid + " is already in flight");
        }
        try {
            pool.execute(() -> run(k, action, d, c, restartGeneration));
        } catch (RuntimeException e) { // rejected: closing
            inFlight.remove(k);
            throw e;
        }
    }

    private void run(String k, LifecycleAction action, Domain d, DomainActuator.Context c, long restartGeneration) {
        LibvirtCallException error = null;
        Exception thrown = null;
        try (DomainLocks.Held held = locks.hold(k)) {
            runner.run(action, d, c);
        } catch (LibvirtCallException e) {
            error = e;
        } catch (LibvirtConnection.UnavailableException e) {
            thrown = e;
        } catch (RuntimeException e) {
            LOG.error("{}: {} of libvirt domain {} failed: {}", c.ref(), action, k, e, e);
            thrown = e;
        }
        boolean ok = error == null && thrown == null;
        finished.merge(k, new Finished(ok ? restartGeneration : null, ok ? 1 : 0, error, thrown), Finished::then);
        inFlight.remove(k);
        requeue.accept(k);
    }

    /** Waits up to 30 s for the starts under way (a libvirt call cannot be interrupted). */
    @Override
    public void close() {
        pool.shutdown();
        try {
            if (!pool.awaitTermination(30, TimeUnit.SECONDS)) {
                LOG.warn("domain starts still running after 30 s: {}", inFlight);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
