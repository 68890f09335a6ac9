package io.virtfleet.bench;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code scripts/bench [--quick]}: every scenario in turn, each printing a table and one {@code BENCH {...}} line;
 * plots and logs in the output directory. See bench/README.md for what each figure measures.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"virtfleet benchmarks against floors measured in the same run: start latency (vs raw "
                + "libvirt-java), hot-plug (apply → disk in live XML vs raw attach), controller scale (simulated hosts), per-VM overhead (vs QEMU's own "
                + "RSS), render throughput (JMH).", "Prints a table and a BENCH {json} line per scenario."})
public final class Bench implements Callable<Integer> {
    /** In the order they run: the CPU-bound JMH first, the heaviest (scale) last. */
    public static final List<String> ORDER = List.of("render", "start", "overhead", "hotplug", "migrate", "scale");

    @Option(names = "--quick", description = "Smaller runs; the whole bench in under 5 minutes.")
    boolean quick;

    @Option(names = "--tiny", hidden = true, description = "Each scenario once at the smallest size (smoke test).")
    boolean tiny;

    @Option(names = "--only", split = ",", paramLabel = "SCENARIO",
            description = "Run only these scenarios (of: render, start, overhead, hotplug, migrate, scale).")
    List<String> only;

    @Option(names = "--out", paramLabel = "DIR",
            description = "Output directory (default: bench/target/results/<date-time>).")
    Path out;

    @Option(names = "--profile", description = "Record the operator child JVM of the scale scenario with JFR and "
            + "print its top sampled frames.")
    boolean profile;

    @Option(names = "--scale-vms", paramLabel = "N", description = "scale: this many VMs instead of the size's.")
    Integer scaleVms;

    @Option(names = "--scale-hosts", paramLabel = "N", description = "scale: this many hosts instead of the size's.")
    Integer scaleHosts;

    private final PrintStream console;
    private final List<Report> reports = new ArrayList<>();

    public Bench(PrintStream console) {
        this.console = console;
    }

    public static Scenario scenario(String name) {
        return switch (name) {
            case "render" -> new RenderThroughput();
            case "start" -> new StartLatency();
            case "overhead" -> new PerVmOverhead();
            case "hotplug" -> new HotplugLatency();
            case "migrate" -> new MigrateLatency();
            case "scale" -> new ControllerScale();
            default -> throw new CommandLine.ParameterException(new CommandLine(new Bench(System.out)),
                    "unknown scenario " + name + " (known: " + ORDER + ")");
        };
    }

    public List<Report> reports() {
        return reports;
    }

    @Override
    public Integer call() throws Exception {
        Size size = tiny ? Size.TINY : quick ? Size.QUICK : Size.FULL;
        List<String> names = only == null || only.isEmpty() ? ORDER : only;
        List<Scenario> scenarios = new ArrayList<>();
        for (String n : names) {
            scenarios.add(scenario(n.trim()));
        }
        Path dir = out != null ? out : Path.of("bench", "target", "results",
                LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        long t0 = System.nanoTime();
        int failed = 0;
        try (BenchContext ctx = new BenchContext(size, dir, console, profile)) {
            ctx.scaleOverride(scaleVms, scaleHosts);
            console.printf("virtfleet bench (%s) %s%n", size.name().toLowerCase(), ZonedDateTime.now()
                    .format(DateTimeFormatter.ISO_OFFSET_DATE_TIME));
            console.printf("machine: %d CPUs (%s), %.1f GiB, load average %.2f; java %s%n",
                    Runtime.getRuntime().availableProcessors(), Procs.cpuModel(), Procs.memTotalKiB() / 1048576.0,
                    Procs.loadAverage(), System.getProperty("java.version"));
            console.printf("run %s: output %s, domain prefix %s%n", ctx.runId(), ctx.out(), ctx.domainPrefix());
            if (RawLibvirt.unavailable() == null) {
                try (RawLibvirt lv = RawLibvirt.open()) {
                    List<String> orphans = lv.purgeOrphans();
                    if (!orphans.isEmpty()) {
                        console.println("removed domains of earlier bench runs that died: " + orphans);
                    }
                }
            }
            for (Scenario s : scenarios) {
                long s0 = System.nanoTime();
                console.printf("%n-- %s (%s) --%n", s.name(), size.name().toLowerCase());
                console.flush();
                Report r;
                try {
                    r = s.run(ctx);
                } catch (Exception | Error e) {
                    r = new Report(s.name(), "failed").status(Report.FAILED)
                            .put("error", e.getClass().getSimpleName() + ": " + e.getMessage());
                    console.println("  !! " + s.name() + " failed:");
                    e.printStackTrace(console);
                }
                r.put("size", size.name().toLowerCase());
                r.put("duration_s", Stats.round((System.nanoTime() - s0) / 1e9, 1));
                r.emit(console, ctx.jsonl());
                reports.add(r);
                if (Report.FAILED.equals(r.status())) {
                    failed++;
                }
            }
            Map<String, Object> summary = new LinkedHashMap<>();
            summary.put("scenario", "summary");
            summary.put("size", size.name().toLowerCase());
            summary.put("duration_s", Stats.round((System.nanoTime() - t0) / 1e9, 1));
            Map<String, String> statuses = new LinkedHashMap<>();
            reports.forEach(r -> statuses.put(r.scenario(), r.status()));
            summary.put("statuses", statuses);
            summary.put("out", ctx.out().toString());
            Report s = new Report("summary", "every target: measured, floor (same run), ratio, met or missed");
            summary.forEach((k, v) -> {
                if (!k.equals("scenario")) {
                    s.put(k, v);
                }
            });
            s.status(failed == 0 ? Report.OK : Report.FAILED);
            Targets.addTo(s, reports);
            console.printf("%nbench done in %.0f s; results in %s%n", (System.nanoTime() - t0) / 1e9, ctx.out());
            s.emit(console, ctx.jsonl());
        }
        return failed == 0 ? 0 : 1;
    }

    /** Runs the bench in this JVM with these arguments; returns the exit code (tests). */
    public static int run(PrintStream console, String... args) {
        return new CommandLine(new Bench(console)).execute(args);
    }

    public static void main(String[] args) {
        // The in-process operator and agent log every step; keep that out of the tables (unless asked for).
        if (System.getProperty("org.slf4j.simpleLogger.logFile") == null) {
            System.setProperty("org.slf4j.simpleLogger.logFile", Path.of(System.getProperty("java.io.tmpdir"),
                    "virtfleet-bench-" + ProcessHandle.current().pid() + ".log").toString());
            System.setProperty("org.slf4j.simpleLogger.showDateTime", "true");
        }
        System.exit(run(System.out, args));
    }
}
