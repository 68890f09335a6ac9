package io.virtfleet.e2e.reliability;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** OS-level facts and faults: QEMU processes from /proc, kill -9, commands run to a file. */
final class Processes {
    private Processes() {
    }

    /** A live QEMU process: its pid, the libvirt name ({@code -name guest=<n>}) and {@code -uuid}. */
    record Qemu(long pid, String name, String uuid, String cmdline) {
    }

    /** Every live (non-zombie) QEMU process on the machine, from /proc/<pid>/cmdline. */
    static List<Qemu> qemus() {
        List<Qemu> out = new ArrayList<>();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path p : (Iterable<Path>) procs::iterator) {
                String f = p.getFileName().toString();
                if (!f.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                Qemu q = qemu(Long.parseLong(f), p);
                if (q != null) {
                    out.add(q);
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return out;
    }

    private static Qemu qemu(long pid, Path proc) {
        byte[] raw;
        try {
            raw = Files.readAllBytes(proc.resolve("cmdline"));
        } catch (IOException e) {
            return null; // gone meanwhile
        }
        if (raw.length == 0) {
            return null; // a zombie: killed, not reaped yet
        }
        String[] argv = new String(raw, StandardCharsets.UTF_8).split("\0");
        if (!argv[0].contains("qemu-system")) {
            return null;
        }
        return parseQemu(pid, argv);
    }

    /** The name and uuid of a QEMU command line (package-visible for the unit test). */
    static Qemu parseQemu(long pid, String[] argv) {
        String name = null;
        String uuid = null;
        for (int i = 0; i + 1 < argv.length; i++) {
            if ("-name".equals(argv[i])) {
                String v = argv[i + 1];
                int g = v.indexOf("guest=");
                String rest = g >= 0 ? v.substring(g + 6) : v;
                int comma = rest.indexOf(',');
                name = comma >= 0 ? rest.substring(0, comma) : rest;
            } else if ("-uuid".equals(argv[i])) {
                uuid = argv[i + 1].toLowerCase();
            }
        }
        return new Qemu(pid, name, uuid, String.join(" ", argv));
    }

    static void kill9(long pid) {
        Result r = run(30, "kill", "-9", Long.toString(pid));
        if (r.exitCode() != 0) {
            throw new IllegalStateException("kill -9 " + pid + ": " + r.output());
        }
    }

    record Result(int exitCode, String output) {
    }

    /**
     * Runs a command with its output in a temporary file, not a pipe: a daemon it starts (libvirtd) inherits the
     * descriptors and would keep a pipe open forever.
     */
    static Result run(long timeoutSeconds, String... command) {
        Path out = null;
        try {
            out = Files.createTempFile("vf-reliability-", ".out");
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
            boolean done = p.waitFor(timeoutSeconds, TimeUnit.SECONDS);
            if (!done) {
                p.destroyForcibly();
            }
            String text = Files.readString(out, StandardCharsets.UTF_8);
            return new Result(done ? p.exitValue() : 124, text);
        } catch (IOException e) {
            return new Result(127, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(130, "interrupted");
        } finally {
            if (out != null) {
                try {
                    Files.deleteIfExists(out);
                } catch (IOException ignored) {
                    // a temp file
                }
            }
        }
    }
}
