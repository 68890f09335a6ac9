package io.virtfleet.e2e.reliability;

import io.virtfleet.controlplane.EmbeddedControlPlane;
import io.virtfleet.controlplane.RepoRoot;
import io.virtfleet.e2e.support.Fleet;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Fault injection, CI-sized by default (20 operations, 3 VMs); {@code scripts/reliability} runs the full
 * size. The operator and the node agent run as OS processes against a control plane of this test's own (so no
 * in-process operator of another test class acts on its namespace), and are killed with SIGKILL along with libvirtd and
 * QEMU processes of this test's domains. See e2e/RELIABILITY.md.
 *
 * <p>System properties: {@code reliability.ops} (20), {@code reliability.vms} (3, at most), {@code reliability.seed}
 * (random; printed), {@code reliability.faults} (operator,agent,qemu,libvirtd; also hang and partition, see
 * {@link FaultInjectionDriver.Fault}), {@code reliability.faultProbability}
 * (0.5 per operation), {@code reliability.bound} (60 s: not converged by then is a violation),
 * {@code reliability.record} (true: write the summary into e2e/RELIABILITY.md).
 */
class FaultInjectionTest {

    @Test
    void randomOperationsUnderKill9ConvergeWithoutLosingOrDuplicatingAnything() throws Exception {
        int ops = Integer.getInteger("reliability.ops", 20);
        int maxVms = Integer.getInteger("reliability.vms", 3);
        long seed = Long.getLong("reliability.seed", System.nanoTime() % 1_000_000_000L);
        String faults = System.getProperty("reliability.faults", "operator,agent,qemu,libvirtd");
        double faultProbability = Double.parseDouble(System.getProperty("reliability.faultProbability", "0.5"));
        double bound = Double.parseDouble(System.getProperty("reliability.bound", "60"));
        Path repo = RepoRoot.require();
        Path logDir = repo.resolve("e2e/target/reliability");
        Files.createDirectories(logDir);
        try (var old = Files.list(logDir)) {
            for (Path f : old.filter(f -> f.toString().endsWith(".log") || f.toString().endsWith(".txt")).toList()) {
                Files.delete(f); // logs of the previous run's process incarnations
            }
        }
        progress(logDir, "RELIABILITY seed " + seed + " (replay: scripts/reliability " + ops + " " + seed + ")");

        Instant started = Instant.now();
        String loadBefore = load();
        EmbeddedControlPlane cp = EmbeddedControlPlane.builder().start();
        Fleet fleet = null;
        VirtfleetProcess operator = null;
        VirtfleetProcess agent = null;
        PartitionProxy partition = null;
        FaultReport report;
        try {
            fleet = Fleet.withoutProcesses(cp);
            String host = fleet.host("a");
            String kubeconfig = cp.kubeconfig().toString();
            // The agent reaches the apiserver through a proxy the PARTITION fault can cut.
            java.net.URI api = java.net.URI.create(cp.serverUrl());
            partition = new PartitionProxy(api.getHost(), api.getPort());
            Path agentKubeconfig = logDir.resolve("agent-kubeconfig");
            Files.writeString(agentKubeconfig, Files.readString(cp.kubeconfig()).replace(cp.serverUrl(),
                    "https://" + api.getHost() + ":" + partition.port()));
            agent = new VirtfleetProcess("agent", List.of("--kubeconfig", agentKubeconfig.toString(), "--host", host,
                    "--domain-prefix", fleet.domainPrefix(host), "--console-log-dir", Fleet.RUN_DIR.toString(),
                    "--guest-channel-dir", Fleet.RUN_DIR.toString(), "--lease-duration", "15s", "--resync", "10s",
                    "--workers", "2"), logDir);
            operator = new VirtfleetProcess("operator", List.of("--kubeconfig", kubeconfig, "-n", fleet.namespace(),
                    "--threads", "2", "--shutdown-timeout", "30"), logDir);
            agent.start();
            operator.start();
            agent.awaitReady(Duration.ofSeconds(120));
            operator.awaitReady(Duration.ofSeconds(120));

            FaultInjectionDriver driver = new FaultInjectionDriver(fleet, host, operator, agent, repo,
                    new FaultInjectionDriver.Config(ops, maxVms, seed, FaultInjectionDriver.parseFaults(faults),
                            faultProbability, bound, logDir, line -> progress(logDir, line))).withPartition(partition);
            driver.run();
            report = driver.report();
        } finally {
            if (fleet != null) {
                fleet.close(); // deletes what is left through virtfleet: the processes must still run
            }
            for (VirtfleetProcess p : new VirtfleetProcess[] {operator, agent}) {
                if (p != null) {
                    p.stop();
                }
            }
            if (partition != null) {
                partition.close();
            }
            cp.close();
        }

        long seconds = Duration.between(started, Instant.now()).toSeconds();
        List<String> header = new ArrayList<>();
        header.add("Run of " + started.truncatedTo(ChronoUnit.SECONDS) + ": " + report.operations()
                + " operations (the final deletes included), "
                + report.faults() + " faults (" + faults + ", probability " + faultProbability + " per operation), "
                + "at most " + maxVms + " VMs, seed **" + seed + "**, " + String.format(Locale.ROOT, "%d min %02d s",
                seconds / 60, seconds % 60) + ".");
        header.add("");
        header.add("Machine: " + machine() + "; load average before " + loadBefore + ", after " + load() + ".");
        header.add("");
        header.add("Replay: `scripts/reliability " + ops + " " + seed
                + "` (same operations and faults; timing differs).");
        String table = report.table(header);
        System.out.println(table);
        Files.createDirectories(logDir);
        Files.writeString(logDir.resolve("last-run.md"), table, StandardCharsets.UTF_8);
        if (Boolean.getBoolean("reliability.record")) {
            Path doc = repo.resolve("e2e/RELIABILITY.md");
            Files.writeString(doc, FaultReport.splice(Files.readString(doc, StandardCharsets.UTF_8), table),
                    StandardCharsets.UTF_8);
        }

        assertThat(report.operations()).isGreaterThanOrEqualTo(ops);
        assertThat(report.violations()).as("invariant violations (seed " + seed + ")").isEmpty();
    }

    /** Surefire holds a test's output until it ends: the steps also go to progress.log, to follow a long run. */
    private static void progress(Path logDir, String line) {
        System.out.println(line);
        try {
            Files.writeString(logDir.resolve("progress.log"), line + "\n", StandardCharsets.UTF_8,
                    java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        } catch (IOException e) {
            // the log line is in the test output anyway
        }
    }

    private static String load() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException e) {
            return "?";
        }
    }

    private static String machine() {
        String cpu = "?";
        try {
            cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElse("?");
        } catch (IOException e) {
            // keep "?"
        }
        return Runtime.getRuntime().availableProcessors() + " cores (" + cpu + "), QEMU TCG, shared with other "
                + "test runs";
    }
}
