package io.virtfleet.operator;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectReference;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
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
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Records core/v1 Events on the objects virtfleet manages, the way client-go's recorder does: a repeat of the same
 * (object, type, reason, message) within {@link #AGGREGATION_WINDOW} bumps the existing Event's count and
 * lastTimestamp instead of creating a new one. Failures are logged, never thrown: an Event is never worth failing a
 * reconciliation.
 *
 * <p>Like client-go's broadcaster, Events are posted by one background thread, in order, so a reconcile never waits
 * for the apiserver to take its Events (a new VM's pass records two, its status fold a third; on the four reconcile
 * threads those writes were three of the eight API calls per VM that a burst of new VMs queued behind). When more
 * than {@link #MAX_QUEUED} are waiting, the recording thread posts its own (back-pressure, nothing is dropped).
 * {@link #close} posts what is queued.
 */
public final class OperatorEventRecorder {
    public static final String COMPONENT = "virtfleet-operator";
    public static final Duration AGGREGATION_WINDOW = Duration.ofMinutes(10);
    private static final int MAX_MESSAGE = 1024;
    private static final int MAX_REMEMBERED = 4096;
    private static final Logger LOG = LoggerFactory.getLogger(OperatorEventRecorder.class);
    private static final DateTimeFormatter RFC3339 = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss'Z'")
            .withZone(ZoneOffset.UTC);

    static final int MAX_QUEUED = 10_000;

    private final KubernetesClient client;
    private final String instance;
    private final Clock clock;
    private final ThreadPoolExecutor poster = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS,
            new LinkedBlockingQueue<>(MAX_QUEUED), r -> {
                Thread t = new Thread(r, "virtfleet-operator-events");
                t.setDaemon(true);
                return t;
            }, new ThreadPoolExecutor.CallerRunsPolicy());
    private final Map<String, Recorded> recent = new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Recorded> eldest) {
            return size() > MAX_REMEMBERED;
        }
    };

    private record Recorded(String name, int count, Instant first) {
    }

    public OperatorEventRecorder(KubernetesClient client, String instance, Clock clock) {
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
        Instant now = clock.instant();
        LOG.info("{} {}/{}: {} {}: {}", object.getKind(), ns, object.getMetadata().getName(), type, reason, msg);
        // What the Event names is taken now: the object may change before the poster gets to it.
        ObjectReference ref = new ObjectReferenceBuilder()
                .withApiVersion(object.getApiVersion()).withKind(object.getKind())
                .withName(object.getMetadata().getName()).withNamespace(object.getMetadata().getNamespace())
                .withUid(object.getMetadata().getUid())
                .withResourceVersion(object.getMetadata().getResourceVersion()).build();
        try {
            poster.execute(() -> post(ns, ref, type, reason, msg, now));
        } catch (RejectedExecutionException e) { // closed
            post(ns, ref, type, reason, msg, now);
        }
    }

    /** Posts what is queued (up to {@code timeout}) and stops the background thread. */
    public void close(Duration timeout) {
        poster.shutdown();
        try {
            if (!poster.awaitTermination(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                LOG.warn("{} Events not posted within {} s of stopping", poster.getQueue().size(),
                        timeout.toSeconds());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void post(String ns, ObjectReference ref, String type, String reason, String msg, Instant now) {
        String key = ref.getUid() + "\u0000" + type + "\u0000" + reason + "\u0000" + msg;
        Recorded previous;
        synchronized (recent) {
            previous = recent.get(key);
        }
        try {
            if (previous != null && previous.first().plus(AGGREGATION_WINDOW).isAfter(now)) {
                int count = previous.count() + 1;
                // One merge patch (not a read and a replace): only the count and the last time change.
                Event updated = client.v1().events().inNamespace(ns).withName(previous.name())
                        .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"count\":" + count
                                + ",\"lastTimestamp\":\"" + format(now) + "\"}");
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
        String name = ref.getName() + "." + Long.toHexString(now.toEpochMilli() * 1000
                + ThreadLocalRandom.current().nextInt(1000));
        Event event = new EventBuilder()
                .withNewMetadata().withName(name).withNamespace(ns).endMetadata()
                .withInvolvedObject(ref)
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
            LOG.warn("could not record event {} {} on {}/{}: {}", reason, msg, ns, ref.getName(), e.getMessage());
        }
    }

    private static String format(Instant t) {
        return RFC3339.format(t.truncatedTo(ChronoUnit.SECONDS));
    }
}
