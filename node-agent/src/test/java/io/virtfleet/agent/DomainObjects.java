package io.virtfleet.agent;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.DomainStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Predicate;

import static org.awaitility.Awaitility.await;

/**
 * The Domain objects of one integration test class in its namespace on the real kube-apiserver: created, read,
 * edited, awaited, and deleted after each test through the agent's finalizer.
 */
public final class DomainObjects {
    private static final Logger LOG = LoggerFactory.getLogger(DomainObjects.class);
    private final KubernetesClient client;
    private final String ns;
    private final List<String> created = new ArrayList<>();

    public DomainObjects(KubernetesClient client, String ns) {
        this.client = client;
        this.ns = ns;
    }

    public Domain create(Domain d) {
        created.add(d.getMetadata().getName());
        return client.resource(d).create();
    }

    public Domain get(String name) {
        return client.resources(Domain.class).inNamespace(ns).withName(name).get();
    }

    public DomainStatus status(String name) {
        Domain d = get(name);
        return d == null ? null : d.getStatus();
    }

    /** Polls the status until {@code p} holds; returns the status that satisfied it. */
    public DomainStatus awaitStatus(String name, Duration atMost, Predicate<DomainStatus> p) {
        AtomicReference<DomainStatus> last = new AtomicReference<>();
        await().atMost(atMost).pollInterval(Duration.ofMillis(50)).until(() -> {
            DomainStatus s = status(name);
            last.set(s);
            return s != null && p.test(s);
        });
        return last.get();
    }

    public void edit(String name, Consumer<Domain> change) {
        client.resources(Domain.class).inNamespace(ns).withName(name).edit(d -> {
            change.accept(d);
            return d;
        });
    }

    /** Deletes the object and waits until the agent's finalizer let it go. */
    public void deleteAndAwaitGone(String name, Duration atMost) {
        client.resources(Domain.class).inNamespace(ns).withName(name).delete();
        await().atMost(atMost).until(() -> get(name) == null);
    }

    /** The reasons of the Kubernetes Events about the object, oldest first. */
    public List<String> eventReasons(String name) {
        return client.v1().events().inNamespace(ns).list().getItems().stream()
                .filter(e -> name.equals(e.getInvolvedObject().getName()))
                .map(io.fabric8.kubernetes.api.model.Event::getReason).toList();
    }

    public static Optional<Condition> condition(DomainStatus s, String type) {
        return s.conditions.stream().filter(c -> type.equals(c.getType())).findFirst();
    }

    /** Lets the agent undefine through the finalizer; strips it when that does not happen in time. */
    public void deleteAll() {
        for (String name : created) {
            client.resources(Domain.class).inNamespace(ns).withName(name).delete();
        }
        for (String name : created) {
            try {
                await().atMost(Duration.ofSeconds(20)).until(() -> get(name) == null);
            } catch (RuntimeException e) {
                LOG.warn("Domain {}/{} not gone; removing its finalizers", ns, name);
                client.resources(Domain.class).inNamespace(ns).withName(name)
                        .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"metadata\":{\"finalizers\":null}}");
            }
        }
        created.clear();
    }
}
