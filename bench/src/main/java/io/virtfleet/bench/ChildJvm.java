package io.virtfleet.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A virtfleet process in its own JVM ({@code java -cp <jar> io.virtfleet.cli.Virtfleet operator|agent ...}), so its
 * memory is its own: RSS from {@code /proc/PID/status}, heap from {@code jcmd PID GC.heap_info}. Output goes to a log
 * file; {@link #awaitLog} waits for a line.
 */
public final class ChildJvm implements AutoCloseable {
    /**
     * How the JVM sizes itself in deploy/base's operator container (limits: cpu 1, memory 512Mi;
     * JAVA_TOOL_OPTIONS -XX:MaxRAMPercentage=75): the JVM's ergonomics take the container's memory limit as the
     * machine's memory ({@code -XX:MaxRAM} says the same outside a container), so the heap may grow to 384 MiB and
     * starts at 8 MiB (InitialRAMPercentage, 1/64 of 512 MiB); one CPU, with which JDK 17's ergonomics pick the
     * Serial collector. {@code -Xmx384m} alone is not the same: on this 23 GiB machine the heap then starts at its
     * maximum (1/64 of 23 GiB) with a 126 MiB young generation, all of which the first minutes touch (RSS). Without
     * the CPU count this 2-core machine would get G1, whose committed heap grows much larger for the same live set.
     */
    public static final List<String> OPERATOR_JVM_OPTS = List.of("-XX:MaxRAM=512m", "-XX:MaxRAMPercentage=75",
            "-XX:ActiveProcessorCount=1", "-XX:+ExitOnOutOfMemoryError",
            // deploy/base's JAVA_TOOL_OPTIONS for memory given back after a burst (see its deployment.yaml)
            "-XX:MinHeapFreeRatio=20", "-XX:MaxHeapFreeRatio=40", "-XX:TrimNativeHeapInterval=5000");
    /** deploy/base's operator container environment that shapes its memory (glibc: at most two malloc arenas). */
    public static final Map<String, String> OPERATOR_ENV = Map.of("MALLOC_ARENA_MAX", "2");
    /** The same for deploy/base's agent container (limits: cpu 1, memory 384Mi; MaxRAMPercentage=75). */
    public static final List<String> AGENT_JVM_OPTS = List.of("-Xmx288m", "-XX:ActiveProcessorCount=1",
            "-XX:+ExitOnOutOfMemoryError");
    public static final String MAIN = "io.virtfleet.cli.Virtfleet";

    private final String name;
    private final Process process;
    private final Path log;
    private final long startNanos;

    private ChildJvm(String name, Process process, Path log, long startNanos) {
        this.name = name;
        this.process = process;
        this.log = log;
        this.startNanos = startNanos;
    }

    /** Starts {@code java <jvmOpts> -cp <classpath> io.virtfleet.cli.Virtfleet <args>}, output to {@code log}. */
    public static ChildJvm start(String name, List<String> jvmOpts, List<String> args, Path log) throws IOException {
        return start(name, jvmOpts, Map.of(), args, log);
    }

    /** {@link #start(String, List, List, Path)} with {@code env} added to the child's environment. */
    public static ChildJvm start(String name, List<String> jvmOpts, Map<String, String> env, List<String> args,
                                 Path log) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmOpts);
        // Same logging as the deployed images (slf4j-simple at INFO to stderr, here the log file), with times.
        cmd.add("-Dorg.slf4j.simpleLogger.showDateTime=true");
        cmd.add("-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS");
        cmd.add("-cp");
        cmd.add(classpath());
        cmd.add(MAIN);
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().remove("JAVA_TOOL_OPTIONS");
        pb.environment().putAll(env);
        long t0 = System.nanoTime();
        Process p = pb.start();
        return new ChildJvm(name, p, log, t0);
    }

    /** The classpath children run with: the bench jar when we run from it, else this JVM's classpath (tests). */
    public static String classpath() {
        try {
            Path self = Path.of(ChildJvm.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            if (Files.isRegularFile(self) && self.toString().endsWith(".jar")
                    && self.getFileName().toString().startsWith("virtfleet-bench")) {
                return self.toString();
            }
        } catch (Exception e) {
            // fall through
        }
        return System.getProperty("java.class.path");
    }

    public String name() {
        return name;
    }

    public long pid() {
        return process.pid();
    }

    public long startNanos() {
        return startNanos;
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public Path log() {
        return log;
    }

    /** Waits until a log line matches; returns System.nanoTime() when it was seen (polled every 20 ms). */
    public long awaitLog(Pattern pattern, Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (Files.exists(log)) {
                for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
                    if (pattern.matcher(line).find()) {
                        return System.nanoTime();
                    }
                }
            }
            if (!process.isAlive()) {
                throw new IllegalStateException(name + " exited with " + process.exitValue() + " before logging '"
                        + pattern + "'; last lines of " + log + ":\n" + tail(20));
            }
            Thread.sleep(20);
        }
        throw new IllegalStateException(name + " did not log '" + pattern + "' within " + timeout.toSeconds()
                + " s; last lines of " + log + ":\n" + tail(20));
    }

    public String tail(int lines) {
        try {
            List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(cannot read " + log + ")";
        }
    }

    /** Resident set size in KiB (VmRSS), or -1 when the process is gone. */
    public long rssKiB() {
        return Procs.rssKiB(pid());
    }

    /** Median of {@code samples} RSS readings {@code gap} apart, in MiB. */
    public double rssMiB(int samples, Duration gap) throws InterruptedException {
        List<Long> v = new ArrayList<>();
        for (int i = 0; i < samples; i++) {
            if (i > 0) {
                Thread.sleep(gap.toMillis());
            }
            v.add(rssKiB());
        }
        return Stats.median(v) / 1024.0;
    }

    /** Heap as {@code jcmd GC.heap_info} reports it. */
    public record Heap(double usedMiB, double committedMiB) {
    }

    /** No reading (NaN): the smoke test skips the jcmd attaches, a second each on a busy machine. */
    public static final Heap NO_HEAP = new Heap(Double.NaN, Double.NaN);

    /** {@link #heap()}, after a full GC when {@code gcFirst}; {@link #NO_HEAP} when not {@code measure}. */
    public Heap heap(boolean measure, boolean gcFirst) throws IOException, InterruptedException {
        if (!measure) {
            return NO_HEAP;
        }
        if (gcFirst) {
            gc();
        }
        return heap();
    }

    public Heap heap() throws IOException, InterruptedException {
        String out = jcmd("GC.heap_info");
        // G1: " garbage-first heap   total 262144K, used 45678K [...]"; Serial/Parallel print several lines.
        Matcher m = Pattern.compile("heap\\s+total (\\d+)K, used (\\d+)K").matcher(out);
        if (m.find()) {
            return new Heap(Long.parseLong(m.group(2)) / 1024.0, Long.parseLong(m.group(1)) / 1024.0);
        }
        long total = 0;
        long used = 0;
        Matcher g = Pattern.compile("total (\\d+)K, used (\\d+)K").matcher(out);
        while (g.find()) {
            total += Long.parseLong(g.group(1));
            used += Long.parseLong(g.group(2));
        }
        return new Heap(used / 1024.0, total / 1024.0);
    }

    /** A full GC in the child ({@code jcmd GC.run}): what is left is the live set. */
    public void gc() throws IOException, InterruptedException {
        jcmd("GC.run");
    }

    public String jcmd(String command) throws IOException, InterruptedException {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        Process p = new ProcessBuilder(jcmd.toString(), Long.toString(pid()), command).redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
        }
        return out;
    }

    /** SIGTERM (the JVM's shutdown hooks run), SIGKILL after 15 s. Returns the time it took to exit, ms. */
    @Override
    public void close() {
        stop();
    }

    public double stop() {
        long t0 = System.nanoTime();
        if (process.isAlive()) {
            process.destroy();
            try {
                if (!process.waitFor(15, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    process.waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
        return (System.nanoTime() - t0) / 1e6;
    }
}
