package io.virtfleet.agent.image;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/** The few qemu-img calls the image code needs. The format is always passed ({@code -f}): never probed. */
final class QemuImg {
    private final Duration timeout;

    QemuImg(Duration timeout) {
        this.timeout = timeout;
    }

    /** The backing file {@code qemu-img info} names, if any. {@code -U}: a running overlay is locked by QEMU. */
    Optional<String> backingFile(String path, String format) throws IOException {
        return BackingFiles.inInfoJson(run(List.of("info", "-U", "--output=json", "-f", format, path)));
    }

    String run(List<String> args) throws IOException {
        // The agent image ships /usr/bin/qemu-img (deploy/images/stage-rootfs) and may have no PATH set.
        String qemuImg = Files.isExecutable(Path.of("/usr/bin/qemu-img")) ? "/usr/bin/qemu-img" : "qemu-img";
        List<String> cmd = new ArrayList<>();
        cmd.add(qemuImg);
        cmd.addAll(args);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try {
            // Outputs here (errors, a one-image info JSON) are far below a pipe buffer: waiting first cannot block.
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new IOException("qemu-img " + args.get(0) + " did not finish within " + timeout.toSeconds()
                        + " s");
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        if (p.exitValue() != 0) {
            throw new IOException("qemu-img " + args.get(0) + " failed: " + out);
        }
        return out;
    }
}
