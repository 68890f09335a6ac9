package io.virtfleet.agent.image;

import io.virtfleet.agent.host.HostProgram;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

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
        List<String> cmd = new ArrayList<>();
        cmd.add(HostProgram.path("qemu-img"));
        cmd.addAll(args);
        HostProgram.Outcome r = HostProgram.run(cmd, timeout, "qemu-img " + args.get(0));
        if (r.exitCode() != 0) {
            throw new IOException("qemu-img " + args.get(0) + " failed: " + r.output());
        }
        return r.output();
    }
}
