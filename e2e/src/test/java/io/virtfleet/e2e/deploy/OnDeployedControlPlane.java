package io.virtfleet.e2e.deploy;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.virtfleet.api.v1alpha1.ApiGroup;
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
 *
 * <p>One instance per class: a subclass inherits this lifecycle (JUnit's {@code @TestInstance} is
 * {@code @Inherited}), which its non-static {@code @BeforeAll} methods need.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class OnDeployedControlPlane {
    /** virtfleet's kinds for the generic client: the classes speak to the apiserver as any client of the CRDs would. */
    static final ResourceDefinitionContext VMS = crd("VirtualMachine", "virtualmachines", true);
    static final ResourceDefinitionContext DOMAINS = crd("Domain", "domains", true);
    static final ResourceDefinitionContext HOSTS = crd("Host", "hosts", false);
    static final ResourceDefinitionContext SNAPSHOTS = crd("VirtualMachineSnapshot", "virtualmachinesnapshots", true);
    static final ResourceDefinitionContext BACKUPS = crd("VirtualMachineBackup", "virtualmachinebackups", true);
    static final ResourceDefinitionContext RESTORES = crd("VirtualMachineRestore", "virtualmachinerestores", true);
    static final ResourceDefinitionContext CLONES = crd("VirtualMachineClone", "virtualmachineclones", true);
    static final ResourceDefinitionContext FAILOVERS = crd("VirtualMachineFailover", "virtualmachinefailovers", true);

    EmbeddedControlPlane cp;
    KubernetesClient admin;
    private final List<KubernetesClient> clients = new ArrayList<>();
    private final String tenant;

    /** {@code tenant}: the namespace the class's objects live in. */
    OnDeployedControlPlane(String tenant) {
        this.tenant = tenant;
    }

    String tenant() {
        return tenant;
    }

    static ResourceDefinitionContext crd(String kind, String plural, boolean namespaced) {
        return new ResourceDefinitionContext.Builder().withGroup(ApiGroup.GROUP).withVersion(ApiGroup.VERSION)
                .withKind(kind).withPlural(plural).withNamespaced(namespaced).build();
    }

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
