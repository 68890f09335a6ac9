package io.virtfleet.agent.domain;

import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.api.model.HasMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Kubernetes Events (core/v1) about a Domain, in its namespace: what the agent did to the libvirt domain and why it
 * refused; and about its Host (cluster-scoped: its Events go to namespace {@code default}, where {@code kubectl
 * describe} looks for a cluster-scoped object's Events). Best effort: a failed event is logged, never fatal. Posted in
 * order by one background thread, so the worker syncing a domain never waits for the apiserver between two libvirt
 * calls (a define, an attach).
 */
public final class EventRecorder {
    private static final Logger LOG = LoggerFactory.getLogger(EventRecorder.class);
    public static final String NORMAL = "Normal";
    public static final String WARNING = "Warning";
    static final String COMPONENT = "virtfleet-agent";

    private final KubernetesClient client;
    private final String host;

    private final ExecutorService poster = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "virtfleet-agent-events");
        t.setDaemon(true);
        return t;
    });

    public EventRecorder(KubernetesClient client, String host) {
        this.client = client;
        this.host = host;
    }

    public void record(HasMetadata d, String type, String reason, String message) {
        try {
            poster.execute(() -> post(d, type, reason, message));
        } catch (RejectedExecutionException e) {
            post(d, type, reason, message);
        }
    }

    /** Posts what is queued (up to {@code timeout}) and stops the background thread. */
    public void close(Duration timeout) {
        poster.shutdown();
        try {
            poster.awaitTermination(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void post(HasMetadata d, String type, String reason, String message) {
        String own = d.getMetadata().getNamespace();
        String ns = own == null ? "default" : own;
        String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
        String msg = message.length() > 1000 ? message.substring(0, 997) + "..." : message;
        try {
            client.v1().events().inNamespace(ns).resource(new EventBuilder()
                    .withNewMetadata().withGenerateName(d.getMetadata().getName() + "." + reason.toLowerCase(Locale.ROOT)
                            + ".").withNamespace(ns).endMetadata()
                    .withInvolvedObject(new ObjectReferenceBuilder().withApiVersion(d.getApiVersion())
                            .withKind(d.getKind()).withNamespace(own).withName(d.getMetadata().getName())
                            .withUid(d.getMetadata().getUid()).withResourceVersion(d.getMetadata().getResourceVersion())
                            .build())
                    .withType(type).withReason(reason).withMessage(msg)
                    .withNewSource().withComponent(COMPONENT).withHost(host).endSource()
                    .withReportingComponent(COMPONENT).withReportingInstance(host)
                    .withFirstTimestamp(now).withLastTimestamp(now).withCount(1)
                    .build()).create();
        } catch (KubernetesClientException e) {
            LOG.warn("{}/{}: cannot record event {} ({}): {}", ns, d.getMetadata().getName(), reason, msg,
                    e.getMessage());
        }
    }
}
