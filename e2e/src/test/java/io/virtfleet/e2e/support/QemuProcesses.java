package io.virtfleet.e2e.support;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * QEMU processes as the kernel shows them ({@code /proc/<pid>/cmdline}), for tests that check which host runs a
 * guest: libvirt starts one {@code qemu-system-*} per running domain, with the domain's {@code -uuid}.
 */
public final class QemuProcesses {
    private QemuProcesses() {
    }

    /** Pids of the QEMU processes whose command line (arguments joined by spaces) matches. */
    public static List<Long> pids(Predicate<String> cmdline) {
        List<Long> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(Path.of("/proc"))) {
            s.map(p -> p.getFileName().toString()).filter(n -> n.chars().allMatch(Character::isDigit))
                    .mapToLong(Long::parseLong).forEach(pid -> {
                        String c = cmdline(pid);
                        if (c != null && c.startsWith("/usr/bin/qemu-system") && cmdline.test(c)) {
                            out.add(pid);
                        }
                    });
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return out;
    }

    /** Pids of the QEMU processes of the domain with this UUID (more than one only while it migrates). */
    public static List<Long> pidsOf(String uuid) {
        return pids(c -> c.contains("-uuid " + uuid));
    }

    /** The command line of {@code pid}, arguments joined by spaces; null when gone, empty for a zombie. */
    public static String cmdline(long pid) {
        try {
            return new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline")),
                    StandardCharsets.UTF_8).replace('\0', ' ');
        } catch (IOException e) {
            return null;
        }
    }
}
