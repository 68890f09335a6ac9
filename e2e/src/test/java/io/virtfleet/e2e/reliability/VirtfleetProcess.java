package io.virtfleet.e2e.reliability;

import io.virtfleet.controlplane.Waits;

import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The operator or a node agent as a real OS process ({@code java -cp <test classpath> io.virtfleet.cli.Virtfleet
 * operator|agent ...}), so a fault can be a {@code kill -9} and not a polite close(). Each start picks a free port for
 * /readyz, which is how "the component is back" is measured. Output goes to one log file per incarnation.
 */
final class VirtfleetProcess {
    private final String component;
    /** Names its log files: the component, or e.g. agent-b for a second host's agent. */
    private final String label;
    private final List<String> args;
    private final Path logDir;
    private Process process;
    private int healthPort;
    private int incarnation;

    VirtfleetProcess(String component, List<String> args, Path logDir) {
        this(component, component, args, logDir);
    }

    VirtfleetProcess(String component, String label, List<String> args, Path logDir) {
        this.component = component;
        this.label = label;
        this.args = List.copyOf(args);
        this.logDir = logDir;
    }

    String component() {
        return component;
    }

    synchronized long pid() {
        return process == null ? -1 : process.pid();
    }

    synchronized boolean isAlive() {
        return process != null && process.isAlive();
    }

    /** Starts a new incarnation (the previous one must be dead). */
    synchronized void start() {
        if (isAlive()) {
            throw new IllegalStateException(component + " is still running (pid " + process.pid() + ")");
        }
        healthPort = freePort();
        incarnation++;
        List<String> cmd = new ArrayList<>(List.of(javaBinary(), "-Xmx256m", "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1", "-Xshare:auto", "-cp", System.getProperty("java.class.path"),
                "io.virtfleet.cli.Virtfleet", component));
        // e.g. -XX:NativeMemoryTracking=summary, to tell heap from native memory with jcmd (e2e/RELIABILITY.md)
        String extra = System.getProperty("reliability.jvmArgs", "").strip();
        if (!extra.isEmpty()) {
            cmd.addAll(cmd.indexOf("-cp"), List.of(extra.split("\\s+")));
        }
        cmd.addAll(args);
        // A local run: plain HTTP, which the daemons allow on loopback only.
        cmd.addAll(List.of("--health-port", String.valueOf(healthPort), "--metrics-port", "-1", "--plain-http",
                "--health-address", "127.0.0.1"));
        try {
            Files.createDirectories(logDir);
            Path log = logDir.resolve(label + "-" + incarnation + ".log");
            process = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        } catch (IOException e) {
            throw new IllegalStateException("cannot start " + component + ": " + e.getMessage(), e);
        }
    }

    /** Waits until /readyz answers 200; fails early when the process died. */
    void awaitReady(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!isAlive()) {
                throw new IllegalStateException(component + " exited with " + process.exitValue() + " (see "
                        + logDir.resolve(label + "-" + incarnation + ".log") + ")");
            }
            if (ready()) {
                return;
            }
            sleep(100);
        }
        throw new IllegalStateException(component + " not ready within " + timeout);
    }

    boolean ready() {
        try {
            HttpURLConnection c = (HttpURLConnection) URI.create("http://127.0.0.1:" + healthPort + "/readyz").toURL()
                    .openConnection();
            c.setConnectTimeout(500);
            c.setReadTimeout(1000);
            try {
                return c.getResponseCode() == 200;
            } finally {
                c.disconnect();
            }
        } catch (IOException e) {
            return false;
        }
    }

    /** SIGKILL, exactly as {@code kill -9 <pid>}: no shutdown hook runs, nothing is cleaned up. */
    synchronized void kill9() {
        if (process == null || !process.isAlive()) {
            return;
        }
        Processes.kill9(process.pid());
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Graceful stop (SIGTERM), for the end of a run. */
    synchronized void stop() {
        if (process != null && process.isAlive()) {
            process.destroy();
            try {
                if (!process.waitFor(30, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
            }
        }
    }

    private static String javaBinary() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static void sleep(long ms) {
        Waits.sleep(ms);
    }
}
