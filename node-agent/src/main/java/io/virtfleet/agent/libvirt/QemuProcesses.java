package io.virtfleet.agent.libvirt;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.OptionalLong;
import java.util.stream.Stream;

/**
 * Finds the QEMU process of a running domain: libvirt's pid file {@code <runDir>/<name>.pid} (checked against the
 * process's command line, which carries {@code -uuid <uuid>}), else a scan of {@code /proc} for that UUID.
 */
public final class QemuProcesses {
    private static final Logger LOG = LoggerFactory.getLogger(QemuProcesses.class);

    private final Path runDir;
    private final Path proc;

    public QemuProcesses() {
        this(Path.of("/run/libvirt/qemu"), Path.of("/proc"));
    }

    public QemuProcesses(Path runDir, Path proc) {
        this.runDir = runDir;
        this.proc = proc;
    }

    /** PID of the QEMU process running the domain {@code name}/{@code uuid}, if one is found. */
    public OptionalLong pid(String name, String uuid) {
        String u = uuid.toLowerCase(Locale.ROOT);
        Path pidFile = runDir.resolve(name + ".pid");
        try {
            String text = Files.readString(pidFile, StandardCharsets.US_ASCII).strip();
            if (!text.isEmpty()) {
                long pid = Long.parseLong(text);
                if (cmdlineHasUuid(pid, u)) {
                    return OptionalLong.of(pid);
                }
            }
        } catch (NoSuchFileException e) {
            LOG.debug("no pid file {}", pidFile);
        } catch (IOException | NumberFormatException e) {
            LOG.debug("cannot read pid file {}: {}", pidFile, e.toString());
        }
        return scan(u);
    }

    private OptionalLong scan(String uuid) {
        try (Stream<Path> s = Files.list(proc)) {
            return s.map(p -> p.getFileName().toString())
                    .filter(n -> !n.isEmpty() && n.chars().allMatch(Character::isDigit))
                    .mapToLong(Long::parseLong)
                    .filter(pid -> cmdlineHasUuid(pid, uuid))
                    .findFirst();
        } catch (IOException e) {
            LOG.warn("cannot scan {} for the QEMU process of {}: {}", proc, uuid, e.toString());
            return OptionalLong.empty();
        }
    }

    private boolean cmdlineHasUuid(long pid, String uuid) {
        try {
            byte[] raw = Files.readAllBytes(proc.resolve(Long.toString(pid)).resolve("cmdline"));
            String[] args = new String(raw, StandardCharsets.UTF_8).split("\0");
            if (args.length == 0 || !args[0].contains("qemu")) {
                return false;
            }
            for (int i = 0; i + 1 < args.length; i++) {
                if ("-uuid".equals(args[i]) && uuid.equalsIgnoreCase(args[i + 1])) {
                    return true;
                }
            }
            return false;
        } catch (IOException e) {
            return false; // gone, or not ours to read
        }
    }
}
