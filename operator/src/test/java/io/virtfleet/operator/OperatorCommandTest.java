package io.virtfleet.operator;

import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBuilder;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.virtfleet.observability.HttpsProbe;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code virtfleet operator} as the cli module runs it. */
class OperatorCommandTest extends OperatorTestSupport {

    static int freePort() throws java.io.IOException {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** Over HTTPS, as the kubelet and Prometheus reach the operator's default ports. */
    static String get(int port, String path, String token) throws Exception {
        java.net.http.HttpResponse<String> r = HttpsProbe.get(port, path, token);
        return r.statusCode() + " " + r.body();
    }

    /** A token of a ServiceAccount bound to a role like deploy/base's virtfleet-metrics-reader. */
    static String metricsReaderToken(String ns) {
        client.serviceAccounts().inNamespace(ns).resource(new ServiceAccountBuilder().withNewMetadata()
                .withName("scraper").endMetadata().build()).create();
        client.rbac().clusterRoles().resource(new ClusterRoleBuilder().withNewMetadata().withName(ns + "-metrics")
                .endMetadata().withRules(new PolicyRuleBuilder().withNonResourceURLs("/metrics").withVerbs("get")
                        .build()).build()).create();
        client.rbac().clusterRoleBindings().resource(new ClusterRoleBindingBuilder().withNewMetadata()
                .withName(ns + "-metrics").endMetadata()
                .withNewRoleRef("rbac.authorization.k8s.io", "ClusterRole", ns + "-metrics")
                .addNewSubject().withKind("ServiceAccount").withName("scraper").withNamespace(ns).endSubject()
                .build()).create();
        return client.serviceAccounts().inNamespace(ns).withName("scraper").tokenRequest(new TokenRequestBuilder()
                .withNewSpec().withExpirationSeconds(3600L).endSpec().build()).getStatus().getToken();
    }

    @Test
    void helpListsTheOptions() {
        StringWriter out = new StringWriter();
        CommandLine cl = new CommandLine(new OperatorCommand());
        cl.setOut(new PrintWriter(out));
        assertThat(cl.execute("--help")).isZero();
        assertThat(out.toString()).contains("--kubeconfig", "--leader-election", "--namespace", "--lease-namespace",
                "--health-port", "--metrics-port", "--health-address", "--metrics-address", "--tls-cert-file",
                "--tls-private-key-file", "--plain-http");
    }

    @Test
    void plainHttpOnEveryAddressIsRefusedInOneLine() {
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(new OperatorCommand());
        cl.setErr(new PrintWriter(err));
        assertThat(cl.execute("--kubeconfig", cp.kubeconfig().toString(), "--plain-http")).isEqualTo(2);
        assertThat(err.toString()).isEqualTo("virtfleet operator: error: --plain-http serves health and metrics "
                + "without TLS or authentication, which is only allowed on a loopback address: --health-address is "
                + "0.0.0.0 (use 127.0.0.1, or drop --plain-http for HTTPS with bearer-token authentication)"
                + System.lineSeparator());
    }

    @Test
    void runsAgainstAKubeconfigUntilInterrupted() throws Exception {
        String ns = newNamespace("cmd");
        String host = uniqueName("cmd");
        AtomicInteger exit = new AtomicInteger(-1);
        int health = freePort();
        int metrics = freePort();
        String token = metricsReaderToken(ns);
        Thread t = new Thread(() -> exit.set(new CommandLine(new OperatorCommand()).execute("--kubeconfig",
                cp.kubeconfig().toString(), "--namespace", ns, "--shutdown-timeout", "30",
                "--health-port", Integer.toString(health), "--metrics-port", Integer.toString(metrics))),
                "operator-command");
        try (FakeAgent agent = FakeAgent.start(client, host, Map.of("test", host), 4, "8Gi", true, "qemu")) {
            t.start();
            running(new TestVm(ns, "cli-vm").on(host));
            assertThat(domain(ns, "cli-vm").getSpec().shutdownTimeoutSeconds).isEqualTo(30);
            assertNoDrift(ns, "cli-vm");
            // The command's defaults: HTTPS on every address, probes open, /metrics for an authorized token only.
            assertThat(get(health, "/healthz", null)).isEqualTo("200 ok\n");
            assertThat(get(health, "/readyz", null)).isEqualTo("200 ok\n");
            assertThat(get(metrics, "/metrics", null)).startsWith("401 ");
            assertThat(HttpsProbe.plainHttpAnswer("127.0.0.1", metrics)).doesNotStartWith("HTTP");
            String scrape = get(metrics, "/metrics", token);
            assertThat(scrape).startsWith("200 ");
            var text = io.virtfleet.observability.PrometheusText.parse(scrape.substring(scrape.indexOf(' ') + 1));
            assertThat(text.value("virtfleet_operator_leader")).hasValue(1);
            assertThat(text.value("virtfleet_operator_virtualmachines", "status", "Running")).hasValue(1);
            assertThat(text.value("virtfleet_operator_domain_applies_total").orElse(0)).isPositive();
            // JOSDK's own metrics share the registry and so the authenticated endpoint.
            assertThat(text.samples("operator_sdk_reconciliations_started_total")).isNotEmpty();
        } finally {
            t.interrupt();
            t.join(30_000);
        }
        assertThat(t.isAlive()).isFalse();
        assertThat(exit.get()).isZero();
    }
}
