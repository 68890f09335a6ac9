package io.virtfleet.operator;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code virtfleet operator} as the cli module runs it. */
class OperatorCommandTest extends OperatorTestSupport {

    static int freePort() throws java.io.IOException {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    static String get(int port, String path) throws Exception {
        java.net.http.HttpResponse<String> r = io.virtfleet.observability.LocalHttp.get(port, path);
        return r.statusCode() + " " + r.body();
    }

    @Test
    void helpListsTheOptions() {
        StringWriter out = new StringWriter();
        CommandLine cl = new CommandLine(new OperatorCommand());
        cl.setOut(new PrintWriter(out));
        assertThat(cl.execute("--help")).isZero();
        assertThat(out.toString()).contains("--kubeconfig", "--leader-election", "--namespace", "--lease-namespace",
                "--health-port", "--metrics-port");
    }

    @Test
    void runsAgainstAKubeconfigUntilInterrupted() throws Exception {
        String ns = newNamespace("cmd");
        String host = "cmd-" + UUID.randomUUID().toString().substring(0, 6);
        AtomicInteger exit = new AtomicInteger(-1);
        int health = freePort();
        int metrics = freePort();
        Thread t = new Thread(() -> exit.set(new CommandLine(new OperatorCommand()).execute("--kubeconfig",
                cp.kubeconfig().toString(), "--namespace", ns, "--shutdown-timeout", "30",
                "--health-port", Integer.toString(health), "--metrics-port", Integer.toString(metrics))),
                "operator-command");
        try (FakeAgent agent = FakeAgent.start(client, host, Map.of("test", host), 4, "8Gi", true, "qemu")) {
            t.start();
            apply(new TestVm(ns, "cli-vm").on(host));
            eventually().until(() -> "Running".equals(printable(ns, "cli-vm")));
            assertThat(domain(ns, "cli-vm").getSpec().shutdownTimeoutSeconds).isEqualTo(30);
            assertNoDrift(ns, "cli-vm");
            assertThat(get(health, "/healthz")).isEqualTo("200 ok\n");
            assertThat(get(health, "/readyz")).isEqualTo("200 ok\n");
            String scrape = get(metrics, "/metrics");
            assertThat(scrape).startsWith("200 ");
            var text = io.virtfleet.observability.PrometheusText.parse(scrape.substring(scrape.indexOf(' ') + 1));
            assertThat(text.value("virtfleet_operator_leader")).hasValue(1);
            assertThat(text.value("virtfleet_operator_virtualmachines", "status", "Running")).hasValue(1);
            assertThat(text.value("virtfleet_operator_domain_applies_total").orElse(0)).isPositive();
        } finally {
            t.interrupt();
            t.join(30_000);
        }
        assertThat(t.isAlive()).isFalse();
        assertThat(exit.get()).isZero();
    }
}
