package io.virtfleet.bench;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.virtfleet.api.v1alpha1.Host;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * SIMULATED capacity for a real agent's Host: the scheduler allows no CPU overcommit and the agent reports the
 * machine's real CPUs (2 here), so a 2-core host takes only two 1-vCPU VMs. The bench raises Host.status.cpus after
 * the agent registered (and again whenever the agent rewrites it, checked every second). Reported in the output.
 */
public final class CapacityOverride implements AutoCloseable {
    private final KubernetesClient client;
    private final String host;
    private final int cpus;
    private final ScheduledExecutorService timer;
    private volatile Integer reported;

    private CapacityOverride(KubernetesClient client, String host, int cpus) {
        this.client = client;
        this.host = host;
        this.cpus = cpus;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "bench-capacity-" + host);
            t.setDaemon(true);
            return t;
        });
    }

    /** Waits until the agent has reported its capacity, overrides the CPU count, and keeps it overridden. */
    public static CapacityOverride start(KubernetesClient client, String host, int cpus, Duration timeout)
            throws InterruptedException {
        CapacityOverride c = new CapacityOverride(client, host, cpus);
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Host h = client.resources(Host.class).withName(host).get();
            if (h != null && h.getStatus() != null && h.getStatus().cpus != null) {
                c.reported = h.getStatus().cpus;
                break;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the agent of host " + host + " did not report its capacity within "
                        + timeout.toSeconds() + " s");
            }
            Thread.sleep(100);
        }
        c.check();
        c.timer.scheduleWithFixedDelay(c::check, 1, 1, TimeUnit.SECONDS);
        return c;
    }

    /** The CPU count the agent reported (before the override). */
    public Integer reportedCpus() {
        return reported;
    }

    public int cpus() {
        return cpus;
    }

    private void check() {
        try {
            Host h = client.resources(Host.class).withName(host).get();
            if (h != null && h.getStatus() != null && (h.getStatus().cpus == null || h.getStatus().cpus < cpus)) {
                client.resources(Host.class).withName(host).subresource("status")
                        .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"status\":{\"cpus\":" + cpus + "}}");
            }
        } catch (RuntimeException e) {
            // the control plane may be going away at the end of the run
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
