package io.virtfleet.agent.domain;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.virtfleet.agent.libvirt.QemuWatcher;
import io.virtfleet.api.v1alpha1.ApiGroup;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.DomainStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * The record step of a Domain pass: the one writer of a Domain's status (status subresource, optimistic on
 * resourceVersion, an unchanged status rewritten only when older than {@code statusRefresh}) and of the agent's
 * finalizer. It remembers what it last wrote per UUID: the informer cache can lag behind the agent's own writes, and
 * planning from a stale observedRestartGeneration would restart a domain twice.
 */
final class DomainStatusWriter {
    private static final Logger LOG = LoggerFactory.getLogger(DomainStatusWriter.class);

    private final KubernetesClient client;
    private final Clock clock;
    private final Duration statusRefresh;
    private final QemuWatcher watcher;
    private final Map<String, Recorded> recorded = new ConcurrentHashMap<>();

    private record Recorded(String uid, Long observedRestartGeneration, Long startCount) {
    }

    DomainStatusWriter(KubernetesClient client, Clock clock, Duration statusRefresh, QemuWatcher watcher) {
        this.client = client;
        this.clock = clock;
        this.statusRefresh = statusRefresh;
        this.watcher = watcher;
    }

    /** Forgets what was written for {@code uuid} (its Domain is gone or elsewhere). */
    void forget(String uuid) {
        recorded.remove(uuid);
    }

    /** {@code d} with the status fields this agent wrote last, when the cached copy is older than that write. */
    Domain withRecorded(String uuid, Domain d) {
        Recorded r = recorded.get(uuid);
        if (r == null || !Objects.equals(r.uid(), d.getMetadata().getUid())) {
            return d;
        }
        DomainStatus s = d.getStatus();
        if (s != null && Objects.equals(s.observedRestartGeneration, r.observedRestartGeneration())
                && Objects.equals(s.startCount, r.startCount())) {
            return d;
        }
        Domain copy = client.getKubernetesSerialization().clone(d);
        if (copy.getStatus() == null) {
            copy.setStatus(new DomainStatus());
        }
        copy.getStatus().observedRestartGeneration = r.observedRestartGeneration();
        copy.getStatus().startCount = r.startCount();
        return copy;
    }

    /** Writes the status {@code build} makes from the current Domain, optimistic on resourceVersion. */
    void write(Domain d, Function<Domain, DomainStatus> build) {
        Domain cur = d;
        String uuid = d.getSpec() != null && d.getSpec().uuid != null ? d.getSpec().uuid.toLowerCase(Locale.ROOT)
                : null;
        for (int attempt = 0; attempt < 5; attempt++) {
            DomainStatus next = build.apply(cur);
            DomainStatus prev = cur.getStatus();
            if (!DomainStatusBuilder.differs(prev, next) && !stale(prev)) {
                return;
            }
            Domain copy = client.getKubernetesSerialization().clone(cur);
            copy.setStatus(next);
            try {
                client.resource(copy).updateStatus();
                if (uuid != null && DomainValidator.isUuid(uuid)) {
                    recorded.put(uuid, new Recorded(cur.getMetadata().getUid(), next.observedRestartGeneration,
                            next.startCount));
                    if (next.pid == null) {
                        watcher.untrack(uuid);
                    }
                }
                if (prev == null || !Objects.equals(prev.state, next.state) || !Objects.equals(prev.id, next.id)) {
                    LOG.info("{}: status {} {} id={} pid={}", DomainSyncer.ref(cur), next.state,
                            next.reason == null ? "" : "(" + next.reason + ")", next.id, next.pid);
                }
                return;
            } catch (KubernetesClientException e) {
                if (e.getCode() == 404) {
                    return;
                }
                if (e.getCode() != 409) {
                    throw e;
                }
                cur = client.resources(Domain.class).inNamespace(cur.getMetadata().getNamespace())
                        .withName(cur.getMetadata().getName()).get();
                if (cur == null) {
                    return;
                }
                if (uuid != null) {
                    cur = withRecorded(uuid, cur);
                }
            }
        }
        throw new KubernetesClientException("could not write the status of " + DomainSyncer.ref(d)
                + ": conflicting updates");
    }

    private boolean stale(DomainStatus prev) {
        if (prev == null || prev.observedTime == null) {
            return true;
        }
        try {
            return Instant.parse(prev.observedTime).plus(statusRefresh).isBefore(clock.instant());
        } catch (RuntimeException e) {
            return true;
        }
    }

    /** Adds or removes the agent finalizer, optimistic on resourceVersion; returns the updated Domain or null. */
    Domain patchFinalizer(Domain d, boolean add) {
        Domain cur = d;
        for (int attempt = 0; attempt < 5; attempt++) {
            List<String> fins = cur.getMetadata().getFinalizers() == null ? new ArrayList<>()
                    : new ArrayList<>(cur.getMetadata().getFinalizers());
            boolean has = fins.contains(ApiGroup.AGENT_FINALIZER);
            if (has == add) {
                return cur;
            }
            if (add) {
                fins.add(ApiGroup.AGENT_FINALIZER);
            } else {
                fins.removeIf(ApiGroup.AGENT_FINALIZER::equals);
            }
            Map<String, Object> meta = new LinkedHashMap<>();
            meta.put("resourceVersion", cur.getMetadata().getResourceVersion());
            meta.put("finalizers", fins);
            String patch = client.getKubernetesSerialization().asJson(Map.of("metadata", meta));
            try {
                return client.resources(Domain.class).inNamespace(cur.getMetadata().getNamespace())
                        .withName(cur.getMetadata().getName())
                        .patch(PatchContext.of(PatchType.JSON_MERGE), patch);
            } catch (KubernetesClientException e) {
                if (e.getCode() == 404) {
                    return null;
                }
                if (e.getCode() != 409) {
                    throw e;
                }
                cur = client.resources(Domain.class).inNamespace(cur.getMetadata().getNamespace())
                        .withName(cur.getMetadata().getName()).get();
                if (cur == null) {
                    return null;
                }
            }
        }
        throw new KubernetesClientException("could not " + (add ? "add" : "remove") + " finalizer on "
                + DomainSyncer.ref(d) + ": conflicting updates");
    }
}
