package io.virtfleet.cli.vm;

import io.fabric8.kubernetes.api.model.APIResource;
import io.fabric8.kubernetes.api.model.APIResourceList;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.virtfleet.api.v1alpha1.ApiGroup;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.cli.kube.ApiErrors;
import io.virtfleet.cli.kube.Durations;
import io.virtfleet.cli.kube.Refusal;

import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;

/** The reads every {@code vm} command needs, each failure turned into a one-line {@link Refusal}. */
final class Vms {
    static final Duration POLL = Duration.ofMillis(500);

    private Vms() {
    }

    /** The VM, or a Refusal naming it ("not found", "forbidden: ..."). */
    static VirtualMachine require(KubernetesClient client, String namespace, String name) {
        VirtualMachine vm;
        try {
            vm = client.resources(VirtualMachine.class).inNamespace(namespace).withName(name).get();
        } catch (KubernetesClientException e) {
            throw ApiErrors.refusal("cannot read VirtualMachine " + namespace + "/" + name, e);
        }
        if (vm == null) {
            throw new Refusal("VirtualMachine " + namespace + "/" + name + " not found");
        }
        return vm;
    }

    /** The VM's Domain, or null when there is none or the user may not read Domains. */
    static Domain domain(KubernetesClient client, String namespace, String name) {
        try {
            return client.resources(Domain.class).inNamespace(namespace).withName(name).get();
        } catch (KubernetesClientException e) {
            if (e.getCode() == 403 || e.getCode() == 404) {
                return null;
            }
            throw ApiErrors.refusal("cannot read Domain " + namespace + "/" + name, e);
        }
    }

    /** The newest Warning Event on the VM with this reason whose message starts with {@code prefix}, else null. */
    static String warning(KubernetesClient client, String namespace, String name, String reason, String prefix) {
        try {
            List<Event> events = client.v1().events().inNamespace(namespace)
                    .withField("involvedObject.name", name).list().getItems();
            return events.stream()
                    .filter(e -> "VirtualMachine".equals(e.getInvolvedObject().getKind()))
                    .filter(e -> reason.equals(e.getReason()) && e.getMessage() != null
                            && e.getMessage().startsWith(prefix))
                    .max(Comparator.comparing(e -> Objects.toString(e.getLastTimestamp(), "")))
                    .map(Event::getMessage).orElse(null);
        } catch (KubernetesClientException e) {
            return null; // no right to read events: the wait's timeout still says what is missing
        }
    }

    /** Polls {@code check} until it returns non-null; a Refusal naming {@code what} and {@code now} at the deadline. */
    static <T> T await(Duration timeout, String what, Supplier<T> check, Supplier<String> now) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            T result = check.get();
            if (result != null) {
                return result;
            }
            if (System.nanoTime() > deadline) {
                throw new Refusal("timed out after " + Durations.format(timeout) + " waiting for " + what
                        + "; now " + now.get());
            }
            try {
                Thread.sleep(POLL.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new Refusal("interrupted while waiting for " + what);
            }
        }
    }

    /**
     * Whether the apiserver serves {@code plural} in virtfleet.io/v1alpha1 (API discovery, which every authenticated
     * user may read), so a command can say "not supported on this cluster" instead of "404".
     */
    static boolean served(KubernetesClient client, String plural) {
        try {
            APIResourceList list = client.getApiResources(ApiGroup.API_VERSION);
            return list != null && list.getResources().stream().map(APIResource::getName).anyMatch(plural::equals);
        } catch (KubernetesClientException e) {
            if (e.getCode() == 404) {
                return false;
            }
            throw ApiErrors.refusal("cannot discover the virtfleet.io API", e);
        }
    }
}
