package io.virtfleet.controlplane;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Starting, recording (pid files) and stopping the control plane's processes. */
final class Processes {
    private static final Logger LOG = LoggerFactory.getLogger(Processes.class);
    private static final Path DEV_NULL = Path.of("/dev/null");

    private Processes() {
    }

    /**
     * Starts {@code command} with stdin from /dev/null and stdout+stderr appended to {@code log}. When
     * {@code detached}, runs it in a new session (via setsid, if present) so that it outlives the JVM and does not
     * get the terminal's signals.
     */
    static Process start(List<String> command, Path log, boolean detached) throws IOException {
        List<String> cmd = new ArrayList<>();
        if (detached) {
            // setsid execs (same pid) when its caller is not a process group leader, which a JVM child never is.
            for (String candidate : new String[] {"/usr/bin/setsid", "/bin/setsid"}) {
                if (Files.isExecutable(Path.of(candidate))) {
                    cmd.add(candidate);
                    break;
                }
            }
        }
        cmd.addAll(command);
        Files.createDirectories(log.getParent());
        LOG.debug("starting {}", String.join(" ", cmd));
        return new ProcessBuilder(cmd)
                .redirectInput(ProcessBuilder.Redirect.from(DEV_NULL.toFile()))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
    }

    static void writePidFile(Path pidFile, ProcessHandle process, Path binary) throws IOException {
        Files.writeString(pidFile, process.pid() + "\n" + binary.toAbsolutePath() + "\n", StandardCharsets.UTF_8);
    }

    /**
     * The live process a pid file names, if it is still the binary we started (guards against pid reuse: the
     * process's executable must have the binary's file name).
     */
    static Optional<ProcessHandle> fromPidFile(Path pidFile) {
        if (!Files.isRegularFile(pidFile)) {
            return Optional.empty();
        }
        try {
            List<String> lines = Files.readAllLines(pidFile, StandardCharsets.UTF_8);
            if (lines.isEmpty()) {
                return Optional.empty();
            }
            long pid = Long.parseLong(lines.get(0).strip());
            String binaryName = lines.size() > 1 ? Path.of(lines.get(1).strip()).getFileName().toString() : null;
            return ProcessHandle.of(pid).filter(h -> alive(h.pid())).filter(h -> isBinary(h, binaryName));
        } catch (IOException | RuntimeException e) {
            LOG.debug("unreadable pid file {}: {}", pidFile, e.toString());
            return Optional.empty();
        }
    }

    private static boolean isBinary(ProcessHandle handle, String binaryName) {
        if (binaryName == null) {
            return true;
        }
        Optional<String> command = handle.info().command();
        if (command.isEmpty()) {
            // Not readable (another user's process): do not claim it is ours.
            return false;
        }
        String exe = command.get();
        // /proc/<pid>/exe of a binary replaced on disk reads "<path> (deleted)".
        if (exe.endsWith(" (deleted)")) {
            exe = exe.substring(0, exe.length() - " (deleted)".length());
        }
        return Path.of(exe).getFileName().toString().equals(binaryName);
    }

    /**
     * Whether {@code pid} is a running process. Unlike {@link ProcessHandle#isAlive()} a zombie (dead, not yet
     * reaped by its parent) counts as dead.
     */
    static boolean alive(long pid) {
        Optional<ProcessHandle> h = ProcessHandle.of(pid);
        if (h.isEmpty() || !h.get().isAlive()) {
            return false;
        }
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"), StandardCharsets.US_ASCII);
            int close = stat.lastIndexOf(')');
            if (close > 0 && close + 2 < stat.length()) {
                char state = stat.charAt(close + 2);
                return state != 'Z' && state != 'X';
            }
        } catch (IOException | RuntimeException e) {
            // no /proc (not Linux) or the process just ended: trust isAlive
            return h.get().isAlive();
        }
        return true;
    }

    /** SIGTERM, wait up to {@code graceMillis}, then SIGKILL and wait for the exit. Returns true if it is gone. */
    static boolean terminate(ProcessHandle process, long graceMillis) {
        if (!process.isAlive()) {
            return true;
        }
        process.destroy();
        if (awaitExit(process, graceMillis)) {
            return true;
        }
        LOG.warn("process {} did not exit after SIGTERM within {} ms; killing it", process.pid(), graceMillis);
        process.destroyForcibly();
        return awaitExit(process, 10_000);
    }

    static boolean awaitExit(ProcessHandle process, long millis) {
        try {
            process.onExit().get(millis, TimeUnit.MILLISECONDS);
            return true;
        } catch (TimeoutException e) {
            return !process.isAlive();
        } catch (ExecutionException e) {
            return !process.isAlive();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return !process.isAlive();
        }
    }

    /** The last {@code maxLines} lines of a log file (at most the last 64 KiB of it), or a note that it is missing. */
    static String tail(Path log, int maxLines) {
        if (!Files.isRegularFile(log)) {
            return "(no " + log + ")";
        }
        try (RandomAccessFile f = new RandomAccessFile(log.toFile(), "r")) {
            long len = f.length();
            long from = Math.max(0, len - 64 * 1024);
            byte[] buf = new byte[(int) (len - from)];
            f.seek(from);
            f.readFully(buf);
            String[] lines = new String(buf, StandardCharsets.UTF_8).split("\\R");
            int start = Math.max(0, lines.length - maxLines);
            StringBuilder sb = new StringBuilder();
            for (int i = start; i < lines.length; i++) {
                sb.append("    ").append(lines[i]).append('\n');
            }
            return sb.toString();
        } catch (IOException e) {
            return "(cannot read " + log + ": " + e + ")";
        }
    }

    static int freePort() throws IOException {
        try (java.net.ServerSocket s = new java.net.ServerSocket()) {
            s.setReuseAddress(false);
            s.bind(new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0));
            return s.getLocalPort();
        }
    }

    /** Whether a listener could bind the port now (SO_REUSEADDR like Go's listeners, so TIME_WAIT does not count). */
    static boolean portFree(int port) {
        try (java.net.ServerSocket s = new java.net.ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
