package io.virtfleet.e2e.deploy;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.virtfleet.controlplane.ControlPlaneBinaries;
import io.virtfleet.controlplane.EmbeddedControlPlane;
import io.virtfleet.controlplane.Kubectl;
import io.virtfleet.controlplane.KubectlResult;
import io.virtfleet.controlplane.RepoRoot;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** Where deploy/ lives and what its kustomization renders to. */
final class DeployFiles {
    static final String SYSTEM_NAMESPACE = "virtfleet-system";
    static final String OPERATOR_SA = "virtfleet-operator";
    static final String AGENT_SA = "virtfleet-agent";

    private DeployFiles() {
    }

    static Path repoRoot() {
        return RepoRoot.require();
    }

    static Path base() {
        return repoRoot().resolve("deploy").resolve("base");
    }

    static String serviceAccountUser(String name) {
        return "system:serviceaccount:" + SYSTEM_NAMESPACE + ":" + name;
    }

    /** {@code kubectl kustomize deploy/base} with the control plane's kubectl (its built-in kustomize), parsed. */
    static List<HasMetadata> render() {
        KubectlResult r = Kubectl.run(ControlPlaneBinaries.locate(), Path.of("/dev/null"), null,
                Duration.ofSeconds(60), "kustomize", base().toString());
        if (!r.ok()) {
            throw new AssertionError("kubectl kustomize failed: " + r);
        }
        try (KubernetesClient offline = new KubernetesClientBuilder().withConfig(Config.empty()).build()) {
            return offline.load(new ByteArrayInputStream(r.stdout().getBytes(StandardCharsets.UTF_8))).items();
        }
    }

    /**
     * A control plane of the test's own with deploy/base applied (server-side, as kubectl users do) and its CRDs
     * served; the caller closes it.
     */
    static EmbeddedControlPlane controlPlaneWithBase() {
        EmbeddedControlPlane cp = EmbeddedControlPlane.builder().withoutCrds().start();
        try {
            applyBase(cp);
        } catch (RuntimeException | AssertionError e) {
            cp.close();
            throw e;
        }
        return cp;
    }

    private static void applyBase(EmbeddedControlPlane cp) {
        KubectlResult apply = cp.kubectl(Duration.ofSeconds(120), "apply", "--server-side", "-k", base().toString());
        if (!apply.ok()) {
            throw new AssertionError("kubectl apply -k deploy/base failed: " + apply);
        }
        for (CustomResourceDefinition crd : cp.client().apiextensions().v1().customResourceDefinitions().list()
                .getItems()) {
            cp.awaitServed(crd, Duration.ofSeconds(60));
        }
    }

    @SuppressWarnings("unchecked")
    static <T extends HasMetadata> T find(List<HasMetadata> objects, Class<T> kind, String name) {
        return (T) objects.stream().filter(kind::isInstance).filter(o -> o.getMetadata().getName().equals(name))
                .findFirst().orElseThrow(() -> new AssertionError("no " + kind.getSimpleName() + " " + name
                        + " in the rendered deploy/base"));
    }

    /** The user extra a pod-bound ServiceAccount token carries its node in (Kubernetes 1.30+). */
    static final String NODE_NAME_EXTRA = "authentication.kubernetes.io/node-name";

    /** A client acting as a ServiceAccount of virtfleet-system; {@code nodeName} sets the pod-bound token's claim. */
    static KubernetesClient impersonating(EmbeddedControlPlane cp, String serviceAccount, String nodeName) {
        Config config = cp.config();
        config.setImpersonateUsername(serviceAccountUser(serviceAccount));
        config.setImpersonateGroups("system:serviceaccounts", "system:serviceaccounts:virtfleet-system",
                "system:authenticated");
        if (nodeName != null) {
            // Impersonate-Extra-<key>: a header name cannot hold '/', the apiserver percent-decodes the key.
            config.setImpersonateExtras(java.util.Map.of(NODE_NAME_EXTRA.replace("/", "%2F"), List.of(nodeName)));
        }
        return new KubernetesClientBuilder().withConfig(config).build();
    }
}
