package io.virtfleet.e2e.deploy;

import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenRequest;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.virtfleet.api.v1alpha1.ApiGroup;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static io.virtfleet.e2e.deploy.DeployOnApiserverTest.code;
import static io.virtfleet.e2e.deploy.DeployOnApiserverTest.denied;
import static io.virtfleet.e2e.deploy.DeployOnApiserverTest.rbacDenied;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * "Only the agent of the VM's host reads its cloud-init Secret", on a real kube-apiserver with deploy/base applied:
 * each host's agent mints a token for its own host ServiceAccount only (virtfleet-agent-host-identity), the operator
 * can grant nothing but {@code get} on named Secrets to a host ServiceAccount (virtfleet-operator-cloudinit-grants),
 * and with such a grant host A's identity reads the Secret while host B's gets 403 — with the token the apiserver
 * minted, not only by impersonation.
 */
class CloudInitSecretsOnApiserverTest extends OnDeployedControlPlane {
    static final String TENANT = "tenant-ci";
    static final String HOST_A = "node-a";
    static final String HOST_B = "node-b";
    static final String SYS = ApiGroup.SYSTEM_NAMESPACE;

    CloudInitSecretsOnApiserverTest() {
        super(TENANT);
    }

    @BeforeAll
    void deploy() {
        for (String name : List.of("web-1-user", "unrelated")) {
            admin.secrets().inNamespace(TENANT).resource(new SecretBuilder().withNewMetadata().withName(name)
                    .endMetadata().withStringData(Map.of("userdata", "#cloud-config\n")).build()).create();
        }
        KubernetesClient agentB = agent(HOST_B);
        await("agent identity policy in force").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250))
                .untilAsserted(() -> assertThat(code(() -> agentB.serviceAccounts().inNamespace(SYS)
                        .resource(sa("virtfleet-agent-host-" + HOST_A)).create())).isEqualTo(403));
        KubernetesClient op = operator();
        await("operator grant policy in force").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250))
                .untilAsserted(() -> assertThat(code(() -> op.rbac().roles().inNamespace(TENANT)
                        .resource(role("other-name", "get", "web-1-user")).create())).isEqualTo(403));
    }

    @Test
    void eachAgentCreatesAndMintsTokensOnlyForItsOwnHostsServiceAccount() {
        // (the other test may have made node-a's and node-b's already: node-c's is made here by its own agent)
        KubernetesClient agentC = agent("node-c");
        agentC.serviceAccounts().inNamespace(SYS).resource(sa("virtfleet-agent-host-node-c")).create();
        assertThat(token(agentC, "virtfleet-agent-host-node-c")).isNotBlank();
        KubernetesClient agentA = agent(HOST_A);
        ensureSa(HOST_A);
        ensureSa(HOST_B);
        assertThat(token(agentA, "virtfleet-agent-host-" + HOST_A)).isNotBlank();
        denied(() -> token(agentA, "virtfleet-agent-host-" + HOST_B), "virtfleet-agent-host-identity",
                "is not the identity of this agent's host " + HOST_A);
        denied(() -> token(agentA, "virtfleet-operator"), "virtfleet-agent-host-identity",
                "is not the identity of this agent's host");
        denied(() -> agentA.serviceAccounts().inNamespace(SYS).resource(sa("virtfleet-agent-host-node-d")).create(),
                "virtfleet-agent-host-identity", "virtfleet-agent-host-" + HOST_A);
        denied(() -> token(impersonate("virtfleet-agent", null), "virtfleet-agent-host-" + HOST_A),
                "virtfleet-agent-host-identity", "node-name claim");
        // Outside virtfleet-system the agent has no ServiceAccount rights at all.
        rbacDenied(() -> agentA.serviceAccounts().inNamespace(TENANT).resource(sa("virtfleet-agent-host-" + HOST_A))
                .create());
        rbacDenied(() -> agentA.secrets().inNamespace(TENANT).withName("web-1-user").get());
    }

    @Test
    void theOperatorGrantsOnlyGetOnNamedSecretsToAHostIdentityAndOnlyThatHostReadsThem() {
        KubernetesClient op = operator();
        rbacDenied(() -> op.secrets().inNamespace(TENANT).withName("web-1-user").get());
        // What the operator may not grant.
        denied(() -> op.rbac().roles().inNamespace(TENANT).resource(role("virtfleet-cloudinit-x", "list", null))
                .create(), "virtfleet-operator-cloudinit-grants", "exactly one rule");
        denied(() -> op.rbac().roles().inNamespace(TENANT).resource(role("virtfleet-cloudinit-x", "get", null))
                .create(), "virtfleet-operator-cloudinit-grants", "resourceNames");
        denied(() -> op.rbac().roleBindings().inNamespace(TENANT).resource(binding("virtfleet-cloudinit-x",
                "virtfleet-agent")).create(), "virtfleet-operator-cloudinit-grants", "virtfleet-agent-host-<host>");

        // The grant for VM web-1 on host A.
        op.rbac().roles().inNamespace(TENANT).resource(role("virtfleet-cloudinit-web-1", "get", "web-1-user"))
                .create();
        op.rbac().roleBindings().inNamespace(TENANT).resource(binding("virtfleet-cloudinit-web-1",
                "virtfleet-agent-host-" + HOST_A)).create();

        KubernetesClient hostA = impersonate("virtfleet-agent-host-" + HOST_A, null);
        KubernetesClient hostB = impersonate("virtfleet-agent-host-" + HOST_B, null);
        await("RoleBinding in force").atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(code(() -> hostA.secrets().inNamespace(TENANT).withName("web-1-user").get()))
                        .isEqualTo(200));
        rbacDenied(() -> hostB.secrets().inNamespace(TENANT).withName("web-1-user").get());
        rbacDenied(() -> hostA.secrets().inNamespace(TENANT).withName("unrelated").get());
        rbacDenied(() -> hostA.secrets().inNamespace(TENANT).list());
        rbacDenied(() -> impersonate("virtfleet-agent", HOST_A).secrets().inNamespace(TENANT).withName("web-1-user")
                .get());

        // The same with the tokens the apiserver minted for each host's agent (no impersonation).
        ensureSa(HOST_A);
        ensureSa(HOST_B);
        try (KubernetesClient realA = withToken(token(agent(HOST_A), "virtfleet-agent-host-" + HOST_A));
             KubernetesClient realB = withToken(token(agent(HOST_B), "virtfleet-agent-host-" + HOST_B))) {
            assertThat(realA.secrets().inNamespace(TENANT).withName("web-1-user").get().getData())
                    .containsKey("userdata");
            rbacDenied(() -> realB.secrets().inNamespace(TENANT).withName("web-1-user").get());
        }

        // The VM moves to host B: the operator re-points the binding; host A loses the Secret.
        RoleBinding moved = binding("virtfleet-cloudinit-web-1", "virtfleet-agent-host-" + HOST_B);
        op.rbac().roleBindings().inNamespace(TENANT).resource(moved).update();
        await("re-pointed").atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(code(() -> hostB.secrets().inNamespace(TENANT).withName("web-1-user").get()))
                        .isEqualTo(200));
        rbacDenied(() -> hostA.secrets().inNamespace(TENANT).withName("web-1-user").get());
        op.rbac().roleBindings().inNamespace(TENANT).withName("virtfleet-cloudinit-web-1").delete();
        op.rbac().roles().inNamespace(TENANT).withName("virtfleet-cloudinit-web-1").delete();
    }

    // ----------------------------------------------------------------------------------------------------- helpers

    void ensureSa(String host) {
        String name = "virtfleet-agent-host-" + host;
        if (admin.serviceAccounts().inNamespace(SYS).withName(name).get() == null) {
            admin.serviceAccounts().inNamespace(SYS).resource(sa(name)).create();
        }
    }

    static io.fabric8.kubernetes.api.model.ServiceAccount sa(String name) {
        return new ServiceAccountBuilder().withNewMetadata().withName(name).endMetadata().build();
    }

    static String token(KubernetesClient c, String serviceAccount) {
        TokenRequest req = new TokenRequestBuilder().withNewSpec().withExpirationSeconds(600L).endSpec().build();
        return c.serviceAccounts().inNamespace(SYS).withName(serviceAccount).tokenRequest(req).getStatus().getToken();
    }

    static Role role(String name, String verb, String secret) {
        PolicyRuleBuilder rule = new PolicyRuleBuilder().withApiGroups("").withResources("secrets").withVerbs(verb);
        if (secret != null) {
            rule.withResourceNames(secret);
        }
        return new RoleBuilder().withNewMetadata().withName(name).withNamespace(TENANT).endMetadata()
                .withRules(rule.build()).build();
    }

    static RoleBinding binding(String name, String serviceAccount) {
        return new RoleBindingBuilder().withNewMetadata().withName(name).withNamespace(TENANT).endMetadata()
                .withNewRoleRef().withApiGroup("rbac.authorization.k8s.io").withKind("Role").withName(name)
                .endRoleRef().addNewSubject().withKind("ServiceAccount").withName(serviceAccount).withNamespace(SYS)
                .endSubject().build();
    }

    KubernetesClient withToken(String token) {
        Config config = cp.config();
        config.setClientCertData(null);
        config.setClientKeyData(null);
        config.setClientCertFile(null);
        config.setClientKeyFile(null);
        config.setUsername(null);
        config.setPassword(null);
        config.setOauthToken(token);
        return new KubernetesClientBuilder().withConfig(config).build();
    }
}
