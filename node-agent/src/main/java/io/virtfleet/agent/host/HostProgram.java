package io.virtfleet.agent.host;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs one of the host programs the agent calls ({@code qemu-img}, {@code genisoimage}) and waits for it, at most a
 * timeout. Their output (an error line, a one-image {@code qemu-img info} JSON) is far below a pipe buffer, so
 * waiting before reading cannot block the program.
 */
public final class HostProgram {
    /** What the program printed (stdout and stderr merged, stripped) and its exit code. */
    public record Outcome(int exitCode, String output) {
    }

    private HostProgram() {
    }

    /**
     * {@code /usr/bin/<name>} when it is there (the agent image ships its programs there and may run without a
     * PATH), else the bare name for the PATH to resolve.
     */
    public static String path(String name) {
        Path p = Path.of("/usr/bin", name);
        return Files.isExecutable(p) ? p.toString() : name;
    }

    /**
     * Runs {@code command}; {@code what} names it in the errors.
     *
     * @throws IOException when it cannot be started, or does not finish within {@code timeout} (it is killed)
     * @throws InterruptedIOException when the calling thread is interrupted (the program is killed)
     */
    public static Outcome run(List<String> command, Duration timeout, String what) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new IOException(what + " did not finish within " + timeout.toSeconds() + " s");
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while running " + what);
        }
        return new Outcome(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8)
                .strip());
    }
}
