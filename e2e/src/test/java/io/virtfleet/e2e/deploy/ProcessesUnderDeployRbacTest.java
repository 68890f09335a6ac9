package io.virtfleet.e2e.deploy;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.virtfleet.agent.AgentConfig;
import io.virtfleet.agent.NodeAgent;
import io.virtfleet.api.v1alpha1.ApiGroup;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.Host;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.e2e.support.TestGuestVms;
import io.virtfleet.operator.OperatorConfig;
import io.virtfleet.operator.VirtfleetOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The real operator and the real node agent, each with exactly the permissions deploy/base gives its ServiceAccount
 * (impersonated; the agent with its node-name claim), run a VirtualMachine from apply to Running on the machine's
 * libvirtd and back to deleted. Any call the RBAC rules or admission policies forbid shows up as a VM that never
 * gets there.
 */
class ProcessesUnderDeployRbacTest extends OnDeployedControlPlane {
    static final String NS = "deploy-e2e";
    static final String HOST = "vfdeploy-node";
    static final String PREFIX = "vfdeploy-";
    static final Path GUEST = TestGuestVms.GUEST;

    KubernetesClient agentClient;
    KubernetesClient operatorClient;
    NodeAgent agent;
    VirtfleetOperator operator;

    ProcessesUnderDeployRbacTest() {
        super(NS);
    }

    @BeforeAll
    void deployAndStart() {
        agentClient = impersonate(DeployFiles.AGENT_SA, HOST);
        operatorClient = impersonate(DeployFiles.OPERATOR_SA, null);
        // The policies must be in force before the processes start, or this would test nothing.
        await("admission policies in force").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250))
                .until(() -> {
                    try {
                        agentClient.leases().inNamespace(ApiGroup.SYSTEM_NAMESPACE).resource(
                                DeployOnApiserverTest.lease(ApiGroup.leaseName("someone-else"))).create();
                        agentClient.leases().inNamespace(ApiGroup.SYSTEM_NAMESPACE)
                                .withName(ApiGroup.leaseName("someone-else")).delete();
                        return false;
                    } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
                        return e.getCode() == 403 && e.getMessage().contains("virtfleet-agent-own-lease");
                    }
                });

        agent = new NodeAgent(new AgentConfig(HOST, "qemu:///system", List.of("/var/lib/virtfleet"), PREFIX,
                Duration.ofSeconds(15), Duration.ofSeconds(5), 2, List.of("qemu:///system")), agentClient);
        agent.start();
        operator = new VirtfleetOperator(OperatorConfig.builder().namespaces(Set.of(NS)).leaderElection(true)
                .identity("operator-0").exitOnLostLeadership(false).build()).start(operatorClient);
    }

    @AfterAll
    void stop() {
        if (operator != null) {
            operator.close();
        }
        if (agent != null) {
            agent.close();
        }
        cleanUpLibvirt();
    }

    @Test
    void aVirtualMachineRunsAndGoesAwayWithOnlyTheDeployedPermissions() {
        assertThat(Files.isRegularFile(GUEST.resolve("vmlinuz"))).as("test guest (scripts/build-test-guest)").isTrue();

        // The agent registered its Host and keeps its heartbeat.
        await("Host registered").atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            Host h = admin.resources(Host.class).withName(HOST).get();
            assertThat(h).isNotNull();
            assertThat(h.getStatus()).isNotNull();
        });
        Lease lease = admin.leases().inNamespace(ApiGroup.SYSTEM_NAMESPACE).withName(ApiGroup.leaseName(HOST)).get();
        assertThat(lease.getSpec().getHolderIdentity()).isEqualTo(HOST);

        // The operator leads on its Lease.
        await("operator leading").atMost(Duration.ofSeconds(60)).until(operator::isLeading);
        assertThat(admin.leases().inNamespace(ApiGroup.SYSTEM_NAMESPACE).withName("virtfleet-operator").get()
                .getSpec().getHolderIdentity()).isEqualTo("operator-0");

        VirtualMachine vm = vm();
        admin.resource(vm).create();
        await("VirtualMachine Running").atMost(Duration.ofSeconds(240)).pollInterval(Duration.ofSeconds(1))
                .untilAsserted(() -> {
                    VirtualMachine live = admin.resources(VirtualMachine.class).inNamespace(NS).withName("rbac-vm").get();
                    assertThat(live.getStatus()).isNotNull();
                    assertThat(live.getStatus().printableStatus).as(describe()).isEqualTo("Running");
                });
        VirtualMachine live = admin.resources(VirtualMachine.class).inNamespace(NS).withName("rbac-vm").get();
        // the operator puts no finalizer on a VM; the Domain carries the agent's from the operator's first apply
        assertThat(live.getMetadata().getFinalizers()).isNullOrEmpty();
        assertThat(live.getSpec()).usingRecursiveComparison().isEqualTo(vm.getSpec());
        Domain d = admin.resources(Domain.class).inNamespace(NS).withName("rbac-vm").get();
        assertThat(d.getSpec().host).isEqualTo(HOST);
        assertThat(d.getMetadata().getFinalizers()).contains(ApiGroup.AGENT_FINALIZER);
        assertThat(d.getStatus().state).isEqualTo("Running");
        List<Event> events = admin.v1().events().inNamespace(NS).list().getItems();
        assertThat(events).as("events recorded by the operator").isNotEmpty();

        admin.resources(VirtualMachine.class).inNamespace(NS).withName("rbac-vm").delete();
        await("VirtualMachine and Domain gone").atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofSeconds(1))
                .untilAsserted(() -> {
                    assertThat(admin.resources(Domain.class).inNamespace(NS).withName("rbac-vm").get())
                            .as(describe()).isNull();
                    assertThat(admin.resources(VirtualMachine.class).inNamespace(NS).withName("rbac-vm").get())
                            .as(describe()).isNull();
                });
        assertThat(virsh("list", "--all", "--name")).doesNotContain(PREFIX);
    }

    private VirtualMachine vm() {
        String yaml = TestGuestVms.runningYaml(NS, "rbac-vm");
        return admin.getKubernetesSerialization().unmarshal(yaml, VirtualMachine.class);
    }

    private String describe() {
        return cp.kubectl("get", "vfvm,vfdom,events", "-n", NS, "-o", "wide").output()
                + cp.kubectl("get", "vfvm", "-n", NS, "-o", "yaml").output();
    }

    /** Leaves no domain of this test in the machine's libvirtd, whatever happened. */
    private static void cleanUpLibvirt() {
        for (String name : virsh("list", "--all", "--name").split("\\R")) {
            if (name.strip().startsWith(PREFIX)) {
                virsh("destroy", name.strip());
                virsh("undefine", name.strip(), "--nvram");
            }
        }
    }

    private static String virsh(String... args) {
        List<String> cmd = new java.util.ArrayList<>(List.of("virsh", "-c", "qemu:///system"));
        cmd.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            p.waitFor(60, TimeUnit.SECONDS);
            return out;
        } catch (IOException e) {
            return "";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "";
        }
    }
}
