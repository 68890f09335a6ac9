package io.virtfleet.controlplane;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;

/** Namespaces for tests, benchmarks and the demo on a control plane. */
public final class Namespaces {
    private Namespaces() {
    }

    /**
     * Makes sure namespace {@code name} exists: server-side apply of a bare Namespace, which creates it or leaves an
     * existing one as it is (no 409 to handle when a pass before this one made it).
     */
    public static void ensure(KubernetesClient client, String name) {
        client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(name).endMetadata().build())
                .serverSideApply();
    }
}
