package io.virtfleet.agent.host;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.virtfleet.api.v1alpha1.ApiGroup;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The host's heartbeat: a {@code coordination.k8s.io/v1} Lease {@link ApiGroup#leaseName(String)} in
 * {@link ApiGroup#SYSTEM_NAMESPACE}, holder = the host, renewed every leaseDuration/3. After {@link #close()} nothing
 * renews it, so it expires leaseDuration after the last renewal.
 */
public final class LeaseHeartbeat implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LeaseHeartbeat.class);

    private final KubernetesClient client;
    private final String host;
    private final Duration leaseDuration;
    private final ScheduledExecutorService scheduler;
    private final Clock clock;
    private ScheduledFuture<?> task;
    private volatile boolean failing;

    public LeaseHeartbeat(KubernetesClient client, String host, Duration leaseDuration,
                          ScheduledExecutorService scheduler) {
        this.client = client;
        this.host = host;
        this.leaseDuration = leaseDuration;
        this.scheduler = scheduler;
        this.clock = Clock.systemUTC();
    }

    public String leaseName() {
        return ApiGroup.leaseName(host);
    }

    public synchronized void start() {
        ensureNamespace(client);
        renew();
        long period = Math.max(100, leaseDuration.toMillis() / 3);
        task = scheduler.scheduleAtFixedRate(this::renewQuietly, period, period, TimeUnit.MILLISECONDS);
    }

    /** Creates {@link ApiGroup#SYSTEM_NAMESPACE} when it does not exist. */
    public static void ensureNamespace(KubernetesClient client) {
        if (client.namespaces().withName(ApiGroup.SYSTEM_NAMESPACE).get() != null) {
            return;
        }
        try {
            client.namespaces().resource(new NamespaceBuilder().withNewMetadata()
                    .withName(ApiGroup.SYSTEM_NAMESPACE).endMetadata().build()).create();
            LOG.info("created namespace {}", ApiGroup.SYSTEM_NAMESPACE);
        } catch (KubernetesClientException e) {
            if (e.getCode() != 409) {
                throw e;
            }
        }
    }

    private void renewQuietly() {
        try {
            renew();
            if (failing) {
                LOG.info("lease {}/{} renewed again", ApiGroup.SYSTEM_NAMESPACE, leaseName());
                failing = false;
            }
        } catch (RuntimeException e) {
            if (!failing) {
                LOG.error("cannot renew lease {}/{}: {}", ApiGroup.SYSTEM_NAMESPACE, leaseName(), e.getMessage(), e);
            }
            failing = true;
        }
    }

    /** Creates or renews the Lease now. */
    public void renew() {
        ZonedDateTime now = ZonedDateTime.now(clock).withZoneSameInstant(ZoneOffset.UTC).truncatedTo(ChronoUnit.MICROS);
        int seconds = (int) Math.max(1, leaseDuration.toSeconds());
        var leases = client.resources(Lease.class).inNamespace(ApiGroup.SYSTEM_NAMESPACE);
        Lease cur = leases.withName(leaseName()).get();
        if (cur == null) {
            try {
                leases.resource(new LeaseBuilder().withNewMetadata().withName(leaseName())
                        .withNamespace(ApiGroup.SYSTEM_NAMESPACE).addToLabels(ApiGroup.HOST_LABEL, host).endMetadata()
                        .withNewSpec().withHolderIdentity(host).withLeaseDurationSeconds(seconds)
                        .withAcquireTime(now).withRenewTime(now).withLeaseTransitions(0).endSpec().build()).create();
                LOG.info("created lease {}/{} (duration {} s)", ApiGroup.SYSTEM_NAMESPACE, leaseName(), seconds);
                return;
            } catch (KubernetesClientException e) {
                if (e.getCode() != 409) {
                    throw e;
                }
                cur = leases.withName(leaseName()).get();
            }
        }
        boolean takeOver = !host.equals(cur.getSpec().getHolderIdentity());
        cur.getSpec().setHolderIdentity(host);
        cur.getSpec().setLeaseDurationSeconds(seconds);
        cur.getSpec().setRenewTime(now);
        if (takeOver) {
            cur.getSpec().setAcquireTime(now);
            Integer t = cur.getSpec().getLeaseTransitions();
            cur.getSpec().setLeaseTransitions(t == null ? 1 : t + 1);
        }
        leases.resource(cur).update(); // optimistic on resourceVersion: a conflicting writer fails this renewal
    }

    @Override
    public synchronized void close() {
        if (task != null) {
            task.cancel(false);
            task = null;
            LOG.info("stopped renewing lease {}/{}; it expires {} s after the last renewal",
                    ApiGroup.SYSTEM_NAMESPACE, leaseName(), leaseDuration.toSeconds());
        }
    }
}
