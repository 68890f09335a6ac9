package io.virtfleet.e2e.reliability;

import io.virtfleet.controlplane.EmbeddedControlPlane;
import io.virtfleet.controlplane.RepoRoot;
import io.virtfleet.e2e.support.Fleet;
import io.virtfleet.e2e.support.LibvirtHost;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

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
 * Fault injection, CI-sized by default (20 operations, 3 VMs, two hosts: live migrations and failovers included);
 * {@code scripts/reliability} runs the full size, {@code scripts/soak} the soak. The operator and the node agents run as OS processes against a control plane of
 * this test's own (so no in-process operator of another test class acts on its namespace), each agent on a libvirtd of
 * the run's own ({@code scripts/libvirt-host}: the faults kill and hang it, and the machine's libvirtd serves the other
 * tests); see {@link FaultInjectionDriver.Fault} for what is injected and e2e/RELIABILITY.md for the results.
 *
 * <p>System properties: {@code reliability.ops} (20), {@code reliability.vms} (3, at most), {@code reliability.hosts}
 * (2: live migrations and failovers between them; 1 for neither; the soak: 1), {@code reliability.failoverWeight} (1), {@code reliability.seed} (random; printed), {@code reliability.faults} (all eight),
 * {@code reliability.faultProbability} (0.5 per operation), {@code reliability.bound} (60 s: not converged by then is a
 * violation), {@code reliability.record} (true: write the summary into e2e/RELIABILITY.md),
 * {@code reliability.soakMinutes} (runs the soak instead).
 */
class FaultInjectionTest {

    @Test
    void randomOperationsUnderKill9ConvergeWithoutLosingOrDuplicatingAnything() throws Exception {
        int ops = Integer.getInteger("reliability.ops", 20);
        String faults = System.getProperty("reliability.faults", DEFAULT_FAULTS);
        double faultProbability = Double.parseDouble(System.getProperty("reliability.faultProbability", "0.5"));
        Run run = run(ops, 0, faults, faultProbability, null, Integer.getInteger("reliability.hosts", 2));
        assertThat(run.report().operations()).isGreaterThanOrEqualTo(ops);
        assertThat(run.report().violations()).as("invariant violations (seed " + run.seed() + ")").isEmpty();
    }

    /**
     * The soak (scripts/soak): {@code reliability.soakMinutes} of steady churn without faults on a few VMs, the
     * operator's and the agent's RSS, open file descriptors and threads and the agent's libvirt connections sampled
     * every minute; the slopes after a warm-up go to soak.md and, with reliability.record, e2e/RELIABILITY.md. A leak
     * is a count that grows: descriptors, threads or libvirt clients higher at the end than anywhere in the first
     * half. Only on request: an hour is no CI test.
     */
    @Test
    @EnabledIfSystemProperty(named = "reliability.soakMinutes", matches = "[0-9.]+")
    void soakOfSteadyChurnLeaksNoMemoryDescriptorsThreadsOrLibvirtConnections() throws Exception {
        double minutes = Double.parseDouble(System.getProperty("reliability.soakMinutes"));
        ResourceSampler sampler = new ResourceSampler();
        Run run = run(0, minutes, "", 0, sampler, Integer.getInteger("reliability.hosts", 1));
        double warmUp = Math.min(10, minutes / 4);
        List<ResourceSampler.Slopes> slopes = sampler.slopes(warmUp);
        String table = "Soak of " + run.started().truncatedTo(ChronoUnit.SECONDS) + ": " + String.format(Locale.ROOT,
                "%.0f", minutes) + " min, " + run.report().operations() + " operations without faults, at most "
                + Integer.getInteger("reliability.vms", 3) + " VMs, seed " + run.seed() + "; slopes fitted over the "
                + "samples after the first " + String.format(Locale.ROOT, "%.0f", warmUp) + " min.\n\n"
                + ResourceSampler.table(slopes);
        System.out.println(table);
        Path logDir = RepoRoot.require().resolve("e2e/target/reliability");
        Files.writeString(logDir.resolve("soak.md"), table, StandardCharsets.UTF_8);
        StringBuilder samples = new StringBuilder("process,minute,pid,rss_kib,fds,threads,libvirt_clients\n");
        sampler.series().forEach((p, list) -> list.forEach(x -> samples.append(String.format(Locale.ROOT,
                "%s,%.2f,%d,%d,%d,%d,%d%n", p, x.minute(), x.pid(), x.rssKib(), x.fds(), x.threads(),
                x.libvirtClients()))));
        Files.writeString(logDir.resolve("soak-samples.csv"), samples, StandardCharsets.UTF_8);
        if (Boolean.getBoolean("reliability.record")) {
            Path doc = RepoRoot.require().resolve("e2e/RELIABILITY.md");
            Files.writeString(doc, FaultReport.splice(Files.readString(doc, StandardCharsets.UTF_8), table,
                    SOAK_BEGIN, SOAK_END), StandardCharsets.UTF_8);
        }
        assertThat(run.report().violations()).as("invariant violations during the soak").isEmpty();
        sampler.series().forEach((process, list) -> {
            List<ResourceSampler.Sample> s = list.stream().filter(x -> x.minute() >= warmUp).toList();
            assertThat(ResourceSampler.grows(s, ResourceSampler.Sample::fds)).as(process + " file descriptors grow: "
                    + s).isFalse();
            assertThat(ResourceSampler.grows(s, ResourceSampler.Sample::threads)).as(process + " threads grow: " + s)
                    .isFalse();
            assertThat(ResourceSampler.grows(s, ResourceSampler.Sample::libvirtClients)).as(process
                    + " libvirt connections grow: " + s).isFalse();
        });
    }

    static final String DEFAULT_FAULTS = "operator,agent,qemu,libvirtd,hang,partition,apiserver,diskfull";
    static final String SOAK_BEGIN = "<!-- soak:begin -->";
    static final String SOAK_END = "<!-- soak:end -->";

    record Run(long seed, Instant started, FaultReport report) {
    }

    /**
     * One run: a control plane of its own (on a data dir it keeps, for APISERVER), a libvirtd of its own
     * (scripts/libvirt-host: the faults kill and hang it, and the machine's serves other tests), a small tmpfs under
     * the allowed root for DISKFULL, the operator and the agent as OS processes, the agent behind the PARTITION proxy;
     * {@code minutes > 0} runs by time instead of by count, with {@code sampler} sampling both processes every minute.
     */
    private Run run(int ops, double minutes, String faults, double faultProbability, ResourceSampler sampler,
                    int hosts) throws Exception {
        int maxVms = Integer.getInteger("reliability.vms", 3);
        long seed = Long.getLong("reliability.seed", System.nanoTime() % 1_000_000_000L);
        double bound = Double.parseDouble(System.getProperty("reliability.bound", "60"));
        Path repo = RepoRoot.require();
        Path logDir = repo.resolve("e2e/target/reliability");
        Files.createDirectories(logDir);
        try (var old = Files.list(logDir)) {
            for (Path f : old.filter(f -> f.toString().endsWith(".log") || f.toString().endsWith(".txt")).toList()) {
                Files.delete(f); // logs of the previous run's process incarnations
            }
        }
        progress(logDir, "RELIABILITY seed " + seed + (minutes > 0 ? " (soak of " + minutes + " min)"
                : " (replay: scripts/reliability " + ops + " " + seed + ")"));

        Instant started = Instant.now();
        String loadBefore = load();
        Path cpDir = Files.createTempDirectory("vf-reliability-cp-");
        EmbeddedControlPlane[] cp = {EmbeddedControlPlane.builder().dataDir(cpDir).keepDataDir(true).start()};
        Fleet fleet = null;
        VirtfleetProcess operator = null;
        List<VirtfleetProcess> agents = new ArrayList<>();
        List<PartitionProxy> proxies = new ArrayList<>();
        List<FaultInjectionDriver.Node> nodes = new ArrayList<>();
        Path smallRoot = null;
        Path backups = null;
        ImageServer images = null;
        java.util.concurrent.ScheduledExecutorService sampling = null;
        FaultReport report;
        try {
            fleet = Fleet.withoutProcesses(cp[0]);
            // The small root is mounted before the libvirtd starts: its mount namespace is a private copy of this
            // one made at its start (and again at each restart), so QEMU sees the tmpfs too.
            smallRoot = Fleet.IMAGES.resolve(fleet.namespace() + "-small");
            Files.createDirectories(smallRoot);
            Processes.Result mount = Processes.run(30, "mount", "-t", "tmpfs", "-o", "size=64m,mode=0755",
                    "vf-small-root", smallRoot.toString());
            if (mount.exitCode() != 0) {
                throw new IllegalStateException("cannot mount the small root " + smallRoot + ": " + mount.output());
            }
            backups = Fleet.IMAGES.resolve(fleet.namespace() + "-backups");
            Files.createDirectories(backups);
            // A libvirtd of its own per host, and each agent behind a proxy the PARTITION fault can cut. With two
            // hosts /var/lib/virtfleet is storage both declare shared, and each publishes its libvirtd's socket URI
            // for the other's peer-to-peer live migrations.
            java.net.URI api = java.net.URI.create(cp[0].serverUrl());
            for (int h = 0; h < hosts; h++) {
                String suffix = String.valueOf((char) ('a' + h));
                String host = fleet.host(suffix);
                LibvirtHost libvirt = fleet.startLibvirtHost(suffix);
                PartitionProxy partition = new PartitionProxy(api.getHost(), api.getPort());
                proxies.add(partition);
                Path agentKubeconfig = logDir.resolve("agent-" + suffix + "-kubeconfig");
                Files.writeString(agentKubeconfig, Files.readString(cp[0].kubeconfig()).replace(cp[0].serverUrl(),
                        "https://" + api.getHost() + ":" + partition.port()));
                // The small root first: the image cache lives under the first allowed root, so DISKFULL's image
                // downloads meet a full cache; every other file of the run is under /var/lib/virtfleet as before.
                List<String> args = new ArrayList<>(List.of("--kubeconfig", agentKubeconfig.toString(),
                        "--allowed-root", smallRoot.toString(), "--allowed-root", "/var/lib/virtfleet",
                        "--host", host, "--libvirt-uri", libvirt.uri(),
                        "--domain-prefix", fleet.domainPrefix(host), "--console-log-dir", Fleet.RUN_DIR.toString(),
                        "--guest-channel-dir", Fleet.RUN_DIR.toString(), "--lease-duration", "15s", "--resync", "10s",
                        "--workers", "2"));
                if (hosts > 1) {
                    args.addAll(List.of("--shared-root", "/var/lib/virtfleet", "--migration-uri", libvirt.uri()));
                }
                VirtfleetProcess agent = new VirtfleetProcess("agent", hosts > 1 ? "agent-" + suffix : "agent", args,
                        logDir);
                agents.add(agent);
                nodes.add(new FaultInjectionDriver.Node(host, libvirt, agent, partition));
                agent.start();
            }
            operator = new VirtfleetProcess("operator", List.of("--kubeconfig", cp[0].kubeconfig().toString(), "-n",
                    fleet.namespace(), "--threads", "2", "--shutdown-timeout", "30"), logDir);
            operator.start();
            for (VirtfleetProcess agent : agents) {
                agent.awaitReady(Duration.ofSeconds(120));
            }
            operator.awaitReady(Duration.ofSeconds(120));
            if (sampler != null) {
                VirtfleetProcess a = agents.get(0);
                LibvirtHost libvirt = nodes.get(0).libvirt();
                VirtfleetProcess o = operator;
                long t0 = System.nanoTime();
                sampling = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
                sampling.scheduleAtFixedRate(() -> {
                    double minute = (System.nanoTime() - t0) / 60e9;
                    // the smaller of two looks: a virsh of the driver's own may be connected at one of them
                    ResourceSampler.Sample sa = sampler.sample("agent", a.pid(), minute,
                            () -> Math.min(libvirt.clientCount(), libvirt.clientCount()));
                    ResourceSampler.Sample so = sampler.sample("operator", o.pid(), minute, () -> -1);
                    progress(logDir, "SOAK minute " + String.format(Locale.ROOT, "%.1f", minute) + ": agent " + sa
                            + ", operator " + so);
                }, 0, 1, java.util.concurrent.TimeUnit.MINUTES);
            }

            images = new ImageServer(Fleet.TEST_GUEST.resolve("data.qcow2"), fleet.namespace());
            FaultInjectionDriver driver = new FaultInjectionDriver(fleet, nodes, operator,
                    new FaultInjectionDriver.Config(ops, maxVms, seed, FaultInjectionDriver.parseFaults(faults),
                            faultProbability, bound, logDir, line -> progress(logDir, line), minutes))
                    .withBackups(backups, smallRoot)
                    .withImageServer(images)
                    .withControlPlaneRestart(() -> {
                        // Same data dir, so the same address, certificates and etcd data: clients reconnect.
                        cp[0].close();
                        cp[0] = EmbeddedControlPlane.builder().dataDir(cpDir).keepDataDir(true).start();
                    });
            driver.run();
            report = driver.report();
        } finally {
            if (sampling != null) {
                sampling.shutdownNow();
            }
            if (fleet != null) {
                fleet.close(); // deletes what is left through virtfleet: the processes must still run
            }
            List<VirtfleetProcess> processes = new ArrayList<>(agents);
            processes.add(operator);
            for (VirtfleetProcess p : processes) {
                if (p != null) {
                    p.stop();
                }
            }
            for (PartitionProxy partition : proxies) {
                partition.close();
            }
            if (images != null) {
                images.close();
            }
            cp[0].close();
            if (smallRoot != null) {
                Processes.run(30, "umount", smallRoot.toString());
                Files.deleteIfExists(smallRoot);
            }
            for (Path dir : new Path[] {backups, cpDir}) {
                if (dir != null && Files.exists(dir)) {
                    try (var files = Files.walk(dir)) {
                        files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
                    }
                }
            }
        }
        if (minutes > 0) {
            return new Run(seed, started, report);
        }

        long seconds = Duration.between(started, Instant.now()).toSeconds();
        List<String> header = new ArrayList<>();
        header.add("Run of " + started.truncatedTo(ChronoUnit.SECONDS) + ": " + report.operations()
                + " operations (the final deletes included), "
                + report.faults() + " faults (" + faults + ", probability " + faultProbability + " per operation), "
                + "at most " + maxVms + " VMs on " + hosts + " host" + (hosts > 1 ? "s" : "") + ", seed **" + seed
                + "**, " + String.format(Locale.ROOT, "%d min %02d s", seconds / 60, seconds % 60) + ".");
        header.add("");
        header.add("Machine: " + machine() + "; load average before " + loadBefore + ", after " + load() + ".");
        header.add("");
        header.add("Replay: `" + (hosts > 1 ? "RELIABILITY_HOSTS=" + hosts + " " : "") + "scripts/reliability " + ops
                + " " + seed
                + "` (same operations and faults; timing differs).");
        String table = report.table(header);
        System.out.println(table);
        Files.writeString(logDir.resolve("last-run.md"), table, StandardCharsets.UTF_8);
        if (Boolean.getBoolean("reliability.record")) {
            Path doc = repo.resolve("e2e/RELIABILITY.md");
            Files.writeString(doc, FaultReport.splice(Files.readString(doc, StandardCharsets.UTF_8), table),
                    StandardCharsets.UTF_8);
        }
        return new Run(seed, started, report);
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
