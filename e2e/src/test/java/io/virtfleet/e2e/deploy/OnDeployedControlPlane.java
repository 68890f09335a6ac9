package io.virtfleet.e2e.deploy;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.virtfleet.controlplane.EmbeddedControlPlane;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;

import java.util.ArrayList;
import java.util.List;

/**
 * A test class on a control plane of its own with deploy/base applied ({@link DeployFiles#controlPlaneWithBase}) and
 * its tenant namespace created, before the class's own set-up. The clients it opens with {@link #impersonate} (or
 * hands to {@link #closing}) are closed, and the control plane stopped, after the class's own tear-down.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class OnDeployedControlPlane {
    EmbeddedControlPlane cp;
    KubernetesClient admin;
    private final List<KubernetesClient> clients = new ArrayList<>();

    /** The namespace the class's objects live in. */
    abstract String tenant();

    @BeforeAll
    void deployBase() {
        cp = DeployFiles.controlPlaneWithBase();
        admin = cp.client();
        admin.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(tenant()).endMetadata().build())
                .create();
    }

    @AfterAll
    void closeControlPlane() {
        synchronized (clients) {
            clients.forEach(KubernetesClient::close);
        }
        if (cp != null) {
            cp.close();
        }
    }

    /** {@code c}, closed with the control plane. */
    KubernetesClient closing(KubernetesClient c) {
        synchronized (clients) {
            clients.add(c);
        }
        return c;
    }

    /** A client acting as a ServiceAccount of virtfleet-system; {@code nodeName} sets the pod-bound token's claim. */
    KubernetesClient impersonate(String serviceAccount, String nodeName) {
        return closing(DeployFiles.impersonating(cp, serviceAccount, nodeName));
    }

    KubernetesClient operator() {
        return impersonate(DeployFiles.OPERATOR_SA, null);
    }

    KubernetesClient agent(String host) {
        return impersonate(DeployFiles.AGENT_SA, host);
    }
}
