package io.virtfleet.agent;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.observability.LocalHttp;
import io.virtfleet.observability.PrometheusText;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The agent's /healthz, /readyz and /metrics over HTTP, against the real apiserver and the real libvirtd: one Domain
 * is defined (kept stopped), then the scraped Prometheus text must show the libvirt calls, the lifecycle action and
 * the Domain's state.
 */
class AgentEndpointsTest {
    @Test
    void healthReadinessAndMetricsOfARealSync() throws Exception {
        TestEnv.requireLibvirt();
        TestEnv.requireTestGuest();
        KubernetesClient client = TestEnv.client();
        String host = TestEnv.newHost("metrics");
        String ns = TestEnv.newNamespace(client, "metrics");
        TestEnv.Guest g = TestEnv.guest(host, ns);
        NodeAgent agent = new NodeAgent(AgentConfig.forHost(host).withDomainPrefix(TestEnv.DOMAIN_PREFIX)
                .withPorts(0, 0), client);
        try {
            agent.start();
            int health = agent.healthPort();
            int metrics = agent.metricsPort();
            assertThat(health).isPositive();
            assertThat(metrics).isPositive().isNotEqualTo(health);
            assertThat(LocalHttp.get(health, "/healthz").statusCode()).isEqualTo(200);
            await().atMost(Duration.ofSeconds(30)).until(() -> LocalHttp.get(health, "/readyz").statusCode() == 200);

            client.resource(TestEnv.domainObject(ns, "metrics", host, g, "Stopped")).create();
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                Domain d = client.resources(Domain.class).inNamespace(ns).withName("metrics").get();
                return d.getStatus() != null && "Shutoff".equals(d.getStatus().state);
            });
            await().atMost(Duration.ofSeconds(10)).until(() -> LocalHttp.scrape(metrics).value("virtfleet_agent_domains",
                    "state", "Shutoff").orElse(0) == 1);

            PrometheusText t = LocalHttp.scrape(metrics);
            assertThat(t.value("virtfleet_agent_libvirt_call_seconds_count", "op", "define", "result", "ok")
                    .orElse(0)).isGreaterThanOrEqualTo(1);
            assertThat(t.value("virtfleet_agent_libvirt_call_seconds_sum", "op", "define", "result", "ok")
                    .orElse(0)).isPositive();
            assertThat(t.value("virtfleet_agent_libvirt_call_seconds_count", "op", "inspect", "result", "ok")
                    .orElse(0)).isGreaterThanOrEqualTo(1);
            assertThat(t.value("virtfleet_agent_libvirt_call_seconds_count", "op", "capabilities", "result", "ok")
                    .orElse(0)).isGreaterThanOrEqualTo(1);
            assertThat(t.type("virtfleet_agent_libvirt_call_seconds")).hasValue("summary");
            assertThat(t.value("virtfleet_agent_lifecycle_actions_total", "action", "define", "result", "ok")
                    .orElse(0)).isGreaterThanOrEqualTo(1);
            assertThat(t.samples("virtfleet_agent_lifecycle_actions_total", "action", "start")).isEmpty();
            assertThat(t.value("virtfleet_agent_domains", "state", "Running")).hasValue(0);
            assertThat(t.value("virtfleet_agent_libvirt_connected")).hasValue(1);
            assertThat(t.value("virtfleet_agent_libvirt_connections_total")).hasValue(1);
            for (String op : AgentMetrics.HOTPLUG_OPS) {
                assertThat(t.value("virtfleet_agent_hotplug_operations_total", "op", op, "result", "ok")).hasValue(0);
                assertThat(t.value("virtfleet_agent_hotplug_operations_total", "op", op, "result", "error"))
                        .hasValue(0);
            }
            assertThat(t.value("virtfleet_agent_genid_changes_total")).hasValue(0);
            assertThat(t.samples("jvm_memory_used_bytes")).isNotEmpty();

            agent.metrics().hotplug("attach", AgentMetrics.OK);
            agent.metrics().genidChanged();
            PrometheusText after = LocalHttp.scrape(metrics);
            assertThat(after.value("virtfleet_agent_hotplug_operations_total", "op", "attach", "result", "ok"))
                    .hasValue(1);
            assertThat(after.value("virtfleet_agent_genid_changes_total")).hasValue(1);
        } finally {
            client.resources(Domain.class).inNamespace(ns).withName("metrics").delete();
            try {
                await().atMost(Duration.ofSeconds(30)).until(
                        () -> client.resources(Domain.class).inNamespace(ns).withName("metrics").get() == null);
            } catch (RuntimeException e) {
                Domain d = client.resources(Domain.class).inNamespace(ns).withName("metrics").get();
                if (d != null) {
                    client.resources(Domain.class).inNamespace(ns).withName("metrics")
                            .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"metadata\":{\"finalizers\":null}}");
                }
            }
            agent.close();
            TestEnv.removeDomain(g);
        }
    }

    @Test
    void notReadyWithoutLibvirtAndOffByDefault() throws Exception {
        KubernetesClient client = TestEnv.client();
        try (NodeAgent agent = new NodeAgent(AgentConfig.forHost(TestEnv.newHost("notready"))
                .withLibvirtUri("qemu+tcp://127.0.0.1:1/system").withProbeUris(List.of()).withPorts(0, 0), client)) {
            agent.start();
            assertThat(LocalHttp.get(agent.healthPort(), "/healthz").statusCode()).isEqualTo(200);
            HttpResponse<String> r = LocalHttp.get(agent.healthPort(), "/readyz");
            assertThat(r.statusCode()).isEqualTo(503);
            assertThat(r.body()).startsWith("not connected to libvirtd at qemu+tcp://127.0.0.1:1/system");
            assertThat(LocalHttp.scrape(agent.metricsPort()).value("virtfleet_agent_libvirt_connected")).hasValue(0);
        }
        try (NodeAgent agent = new NodeAgent(AgentConfig.forHost(TestEnv.newHost("noports"))
                .withLibvirtUri("qemu+tcp://127.0.0.1:1/system").withProbeUris(List.of()), client)) {
            agent.start();
            assertThat(agent.healthPort()).isEqualTo(-1);
            assertThat(agent.metricsPort()).isEqualTo(-1);
        }
    }
}
