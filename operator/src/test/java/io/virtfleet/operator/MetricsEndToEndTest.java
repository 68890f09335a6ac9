package io.virtfleet.operator;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.virtfleet.agent.AgentConfig;
import io.virtfleet.agent.NodeAgent;
import io.virtfleet.observability.LocalHttp;
import io.virtfleet.observability.PrometheusText;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.time.Duration;

import static io.virtfleet.operator.RealAgentEndToEndTest.PREFIX;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The operator (metrics and health on port 0) and the REAL node agent (likewise) on the REAL libvirtd: one VM
 * (runStrategy Halted: defined, never started) goes through a reconcile and an agent sync, then both /metrics are
 * scraped over HTTP and parsed: virtfleet's series, JOSDK's reconciliation meters and the agent's libvirt timers.
 */
class MetricsEndToEndTest extends OperatorTestSupport {
    static PrometheusText scrape(int port) throws Exception {
        HttpResponse<String> r = LocalHttp.get(port, "/metrics");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("text/plain; version=0.0.4; charset=utf-8");
        return PrometheusText.parse(r.body());
    }

    @Test
    void operatorAndAgentExposeTheirSeries() throws Exception {
        RealAgentEndToEndTest.requireLibvirtAndGuest();
        RealAgentEndToEndTest.removeLeftovers();
        String ns = newNamespace("metrics");
        String host = uniqueName("op-metrics");
        String vmName = "metered";
        VirtfleetOperator operator = null;
        try (KubernetesClient agentClient = new KubernetesClientBuilder().withConfig(cp.config()).build();
             NodeAgent agent = new NodeAgent(AgentConfig.forHost(host).withDomainPrefix(PREFIX).withPorts(0, 0),
                     agentClient)) {
            agent.start();
            operator = startOperator(testConfig().healthPort(0).metricsPort(0), ns);
            int opHealth = operator.healthPort();
            int opMetrics = operator.metricsPort();
            assertThat(opHealth).isPositive();
            assertThat(opMetrics).isPositive();
            assertThat(LocalHttp.get(opHealth, "/healthz").statusCode()).isEqualTo(200);
            assertThat(LocalHttp.get(opHealth, "/readyz").statusCode()).isEqualTo(200);
            eventually().atMost(Duration.ofSeconds(30)).until(() -> LocalHttp.get(agent.healthPort(), "/readyz")
                    .statusCode() == 200);
            assertThat(LocalHttp.get(agent.healthPort(), "/healthz").statusCode()).isEqualTo(200);

            apply(new RealAgentEndToEndTest.YamlVm(ns, vmName,
                    () -> RealAgentEndToEndTest.guestYaml(ns, host, vmName, "128Mi", "Halted")));
            eventually().atMost(Duration.ofSeconds(60)).until(() -> "Stopped".equals(printable(ns, vmName)));

            PrometheusText op = scrape(opMetrics);
            assertThat(op.value("virtfleet_operator_leader")).hasValue(1);
            // VirtualMachine reconciliations are JOSDK's to count (one series per retry label)
            assertThat(op.sum("operator_sdk_reconciliations_started_total", "kind", "VirtualMachine")).isPositive();
            assertThat(op.type("operator_sdk_reconciliations_started_total")).hasValue("counter");
            assertThat(op.value("virtfleet_operator_domain_applies_total").orElse(0)).isPositive();
            assertThat(op.value("virtfleet_operator_status_patches_total").orElse(0)).isPositive();
            assertThat(op.sum("operator_sdk_reconciliations_failed_total", "kind", "VirtualMachine")).isZero();
            assertThat(op.value("virtfleet_operator_domain_apply_errors_total")).hasValue(0);
            assertThat(op.value("virtfleet_operator_events_total")).isPresent();
            assertThat(op.value("virtfleet_operator_scheduling_decisions_total", "result", "scheduled")
                    .orElse(0)).isPositive();
            assertThat(op.value("virtfleet_operator_scheduling_decisions_total", "result", "unschedulable"))
                    .isPresent();
            assertThat(op.value("virtfleet_operator_virtualmachines", "status", "Stopped")).hasValue(1);
            assertThat(op.value("virtfleet_operator_virtualmachines", "status", "Running")).hasValue(0);
            assertThat(op.value("virtfleet_operator_hosts", "ready", "true").orElse(0)).isPositive();
            assertThat(op.value("virtfleet_operator_hosts", "ready", "false")).isPresent();
            // every genid change reason is exported from the start (FailoverTest checks one counting)
            for (String reason : new String[] {"SnapshotRestored", "BackupRestored", "Cloned", "Imported", "Failover",
                    "ChangedOutsideVirtfleet"}) {
                assertThat(op.value("virtfleet_operator_genid_changes_total", "reason", reason)).hasValue(0);
            }
            // the accessors tests and bench use agree with what is exposed
            assertThat(operator.metrics().reconciliations()).isPositive();
            assertThat(operator.metrics().domainApplies()).isPositive();
            assertThat(operator.metrics().statusPatches()).isPositive();
            // JOSDK's own reconciliation meters (MicrometerMetrics) in the same registry
            assertThat(op.sum("operator_sdk_reconciliations_started_total")).isPositive();
            assertThat(op.sum("operator_sdk_reconciliations_success_total")).isPositive();
            assertThat(op.sum("operator_sdk_controllers_execution_reconcile_seconds_count")).isPositive();
            assertThat(op.samples("jvm_memory_used_bytes")).isNotEmpty();

            PrometheusText ag = scrape(agent.metricsPort());
            assertThat(ag.value("virtfleet_agent_libvirt_call_seconds_count", "op", "define", "result", "ok")
                    .orElse(0)).isGreaterThanOrEqualTo(1);
            assertThat(ag.sum("virtfleet_agent_libvirt_call_seconds_count")).isGreaterThan(2);
            assertThat(ag.value("virtfleet_agent_lifecycle_actions_total", "action", "define", "result", "ok")
                    .orElse(0)).isGreaterThanOrEqualTo(1);
            assertThat(ag.value("virtfleet_agent_libvirt_connected")).hasValue(1);
            assertThat(ag.value("virtfleet_agent_hotplug_operations_total", "op", "attach", "result", "ok"))
                    .isPresent();
            assertThat(ag.value("virtfleet_agent_genid_changes_total")).isPresent();
            eventually().untilAsserted(() -> assertThat(scrape(agent.metricsPort())
                    .value("virtfleet_agent_domains", "state", "Shutoff")).hasValue(1));
        } finally {
            client.genericKubernetesResources(io.virtfleet.api.v1alpha1.ApiGroup.API_VERSION, "VirtualMachine")
                    .inNamespace(ns).withName(vmName).delete();
            if (operator != null) {
                VirtfleetOperator o = operator;
                try {
                    eventually().atMost(Duration.ofSeconds(30)).until(() -> vm(ns, vmName) == null);
                } catch (RuntimeException e) {
                    // left for removeLeftovers
                }
                stopOperator(o);
            }
            for (String name : RealAgentEndToEndTest.virsh("list", "--all", "--name").split("\\R")) {
                if (name.strip().startsWith(PREFIX + ns)) {
                    RealAgentEndToEndTest.virsh("destroy", name.strip());
                    RealAgentEndToEndTest.virsh("undefine", "--nvram", name.strip());
                }
            }
        }
    }
}
