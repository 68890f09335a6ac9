package io.virtfleet.operator;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.virtfleet.reconcilers.lifecycle.Note;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Records core/v1 Events on the objects virtfleet manages, the way client-go's recorder does: a repeat of the same
 * (object, type, reason, message) within {@link #AGGREGATION_WINDOW} bumps the existing Event's count and
 * lastTimestamp instead of creating a new one. Failures are logged, never thrown: an Event is never worth failing a
 * reconciliation.
 */
public final class EventRecorder {
    public static final String COMPONENT = "virtfleet-operator";
    public static final Duration AGGREGATION_WINDOW = Duration.ofMinutes(10);
    private static final int MAX_MESSAGE = 1024;
    private static final int MAX_REMEMBERED = 4096;
    private static final Logger LOG = LoggerFactory.getLogger(EventRecorder.class);
    private static final DateTimeFormatter RFC3339 = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss'Z'")
            .withZone(ZoneOffset.UTC);

    private final KubernetesClient client;
    private final String instance;
    private final Clock clock;
    private final Map<String, Recorded> recent = new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Recorded> eldest) {
            return size() > MAX_REMEMBERED;
        }
    };

    private record Recorded(String name, int count, Instant first) {
    }

    public EventRecorder(KubernetesClient client, String instance, Clock clock) {
        this.client = client;
        this.instance = instance;
        this.clock = clock;
    }

    public void record(HasMetadata object, Note note) {
        record(object, note.type().name(), note.reason(), note.message());
    }

    public void record(HasMetadata object, String type, String reason, String message) {
        String ns = object.getMetadata().getNamespace() != null ? object.getMetadata().getNamespace() : "default";
        String msg = message == null ? "" : message.length() > MAX_MESSAGE ? message.substring(0, MAX_MESSAGE - 3)
                + "..." : message;
        String key = object.getMetadata().getUid() + "\u0000" + type + "\u0000" + reason + "\u0000" + msg;
        Instant now = clock.instant();
        LOG.info("{} {}/{}: {} {}: {}", object.getKind(), ns, object.getMetadata().getName(), type, reason, msg);
        Recorded previous;
        synchronized (recent) {
            previous = recent.get(key);
        }
        try {
            if (previous != null && previous.first().plus(AGGREGATION_WINDOW).isAfter(now)) {
                int count = previous.count() + 1;
                Event updated = client.v1().events().inNamespace(ns).withName(previous.name())
                        .edit(e -> new EventBuilder(e).withCount(count).withLastTimestamp(format(now)).build());
                if (updated != null) {
                    synchronized (recent) {
                        recent.put(key, new Recorded(previous.name(), count, previous.first()));
                    }
                    return;
                }
            }
        } catch (KubernetesClientException e) {
            LOG.debug("could not update event {}: {}", previous.name(), e.getMessage());
        }
        String name = object.getMetadata().getName() + "." + Long.toHexString(now.toEpochMilli() * 1000
                + ThreadLocalRandom.current().nextInt(1000));
        Event event = new EventBuilder()
                .withNewMetadata().withName(name).withNamespace(ns).endMetadata()
                .withInvolvedObject(new ObjectReferenceBuilder()
                        .withApiVersion(object.getApiVersion()).withKind(object.getKind())
                        .withName(object.getMetadata().getName()).withNamespace(object.getMetadata().getNamespace())
                        .withUid(object.getMetadata().getUid())
                        .withResourceVersion(object.getMetadata().getResourceVersion()).build())
                .withType(type).withReason(reason).withMessage(msg)
                .withNewSource().withComponent(COMPONENT).endSource()
                .withReportingComponent("virtfleet.io/operator").withReportingInstance(instance)
                .withFirstTimestamp(format(now)).withLastTimestamp(format(now)).withCount(1)
                .build();
        try {
            client.v1().events().inNamespace(ns).resource(event).create();
            synchronized (recent) {
                recent.put(key, new Recorded(name, 1, now));
            }
        } catch (KubernetesClientException e) {
            LOG.warn("could not record event {} {} on {}/{}: {}", reason, msg, ns, object.getMetadata().getName(),
                    e.getMessage());
        }
    }

    private static String format(Instant t) {
        return RFC3339.format(t.truncatedTo(ChronoUnit.SECONDS));
    }
}
