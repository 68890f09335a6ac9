package io.virtfleet.agent;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AgentCommandTest {
    @Test
    void parsesAllOptions() {
        AgentCommand cmd = new AgentCommand();
        new CommandLine(cmd).parseArgs("--host", "node-a", "--libvirt-uri", "qemu:///session", "--kubeconfig",
                "/tmp/kc", "--allowed-root", "/a", "--allowed-root", "/b", "--domain-prefix", "vf-",
                "--lease-duration", "6s", "--resync", "500ms");
        AgentConfig c = cmd.config();
        assertThat(c.host()).isEqualTo("node-a");
        assertThat(c.libvirtUri()).isEqualTo("qemu:///session");
        assertThat(c.allowedRoots()).containsExactly("/a", "/b");
        assertThat(c.domainPrefix()).isEqualTo("vf-");
        assertThat(c.leaseDuration()).isEqualTo(Duration.ofSeconds(6));
        assertThat(c.resync()).isEqualTo(Duration.ofMillis(500));
        assertThat(cmd.kubeconfig).hasToString("/tmp/kc");
    }

    @Test
    void defaults() {
        AgentCommand cmd = new AgentCommand();
        new CommandLine(cmd).parseArgs("--host", "node-a");
        AgentConfig c = cmd.config();
        assertThat(c.libvirtUri()).isEqualTo("qemu:///system");
        assertThat(c.allowedRoots()).containsExactly("/var/lib/virtfleet");
        assertThat(c.domainPrefix()).isEmpty();
        assertThat(c.leaseDuration()).isEqualTo(Duration.ofSeconds(15));
        assertThat(c.resync()).isEqualTo(Duration.ofSeconds(30));
        assertThat(c.probeUris()).containsExactly("qemu:///system", "xen:///system", "openvz:///system");
        assertThat(c.healthPort()).isEqualTo(-1);
        assertThat(c.metricsPort()).isEqualTo(-1);
    }

    @Test
    void imageCacheOptionsAndTheirDefaults() {
        AgentCommand dflt = new AgentCommand();
        new CommandLine(dflt).parseArgs("--host", "node-a");
        assertThat(dflt.config().images()).isEqualTo(AgentConfig.Images.DEFAULT);
        assertThat(dflt.config().images().maxImageBytes()).isEqualTo(32L << 30);
        assertThat(dflt.config().images().cacheInterval()).isEqualTo(Duration.ofMinutes(5));
        assertThat(dflt.config().images().cacheGrace()).isEqualTo(Duration.ofMinutes(2));
        assertThat(AgentConfig.forHost("node-a").images()).as("embedded").isEqualTo(AgentConfig.Images.DEFAULT);

        AgentCommand cmd = new AgentCommand();
        new CommandLine(cmd).parseArgs("--host", "node-a", "--max-image-size", "1.5Gi", "--image-cache-interval",
                "30s", "--image-cache-grace", "0s");
        AgentConfig c = cmd.config();
        assertThat(c.images()).isEqualTo(new AgentConfig.Images(3L << 29, Duration.ofSeconds(30), Duration.ZERO));
        assertThat(c.withDomainPrefix("x").images()).as("kept by the with-methods").isEqualTo(c.images());
        assertThat(c.withMigration("qemu+tls://b/system", List.of()).images()).isEqualTo(c.images());

        for (String bad : List.of("0", "-1Gi", "lots", "")) {
            java.io.StringWriter err = new java.io.StringWriter();
            CommandLine cl = new CommandLine(new AgentCommand());
            cl.setErr(new java.io.PrintWriter(err));
            assertThat(cl.execute("--host", "node-a", "--max-image-size", bad)).as(bad).isEqualTo(2);
            assertThat(err.toString()).as(bad).contains("--max-image-size")
                    .containsPattern("is not a quantity|must be a positive size");
        }
        assertThatThrownBy(() -> AgentConfig.forHost("node-a").withImages(new AgentConfig.Images(32L << 30,
                Duration.ofMillis(10), null))).hasMessageContaining("image cache interval must be at least 100ms");
    }

    @Test
    void ports() {
        AgentCommand cmd = new AgentCommand();
        new CommandLine(cmd).parseArgs("--host", "node-a", "--health-port", "8080", "--metrics-port", "9090");
        assertThat(cmd.config().healthPort()).isEqualTo(8080);
        assertThat(cmd.config().metricsPort()).isEqualTo(9090);
        assertThat(cmd.config().withDomainPrefix("x").metricsPort()).isEqualTo(9090);
    }

    @Test
    void servingDefaultsToHttpsAndRefusesPlainHttpOffLoopbackInOneLine() {
        AgentCommand cmd = new AgentCommand();
        new CommandLine(cmd).parseArgs("--host", "node-a", "--health-port", "8080");
        assertThat(cmd.config().serving().plainHttp()).isFalse();
        assertThat(cmd.config().serving().healthAddress()).isEqualTo("0.0.0.0");
        assertThat(AgentConfig.forHost("node-a").serving().plainHttp()).as("embedded: loopback only").isTrue();
        for (List<String> args : List.of(
                List.of("--health-port", "8080", "--plain-http"),
                List.of("--metrics-port", "9090", "--plain-http", "--health-address", "127.0.0.1"),
                List.of("--metrics-port", "9090", "--tls-cert-file", "/etc/tls.crt"))) {
            java.io.StringWriter err = new java.io.StringWriter();
            CommandLine cl = new CommandLine(new AgentCommand());
            cl.setErr(new java.io.PrintWriter(err));
            List<String> all = new java.util.ArrayList<>(List.of("--host", "node-a"));
            all.addAll(args);
            assertThat(cl.execute(all.toArray(String[]::new))).as(args.toString()).isEqualTo(2);
            assertThat(err.toString()).as(args.toString()).startsWith("virtfleet agent: error: --")
                    .containsPattern(args.contains("--plain-http")
                            ? "only allowed on a loopback address: --(health|metrics)-address is 0\\.0\\.0\\.0"
                            : "--tls-cert-file and --tls-private-key-file go together")
                    .hasLineCount(1);
        }
    }

    @Test
    void hostIsRequiredAndValidated() {
        assertThat(new CommandLine(new AgentCommand()).execute()).isNotZero();
        assertThatThrownBy(() -> AgentConfig.forHost("Node_A")).hasMessageContaining("not a valid");
    }

    @Test
    void durations() {
        assertThat(AgentConfig.parseDuration("2m")).isEqualTo(Duration.ofMinutes(2));
        assertThat(AgentConfig.parseDuration("PT3S")).isEqualTo(Duration.ofSeconds(3));
        assertThatThrownBy(() -> AgentConfig.parseDuration("soon")).hasMessageContaining("invalid duration");
        assertThat(AgentConfig.forHost("a").withAllowedRoots(List.of("/x")).allowedRoots()).containsExactly("/x");
    }
}
