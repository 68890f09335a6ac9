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

    /**
     * Where the libvirt at {@code uri} keeps its QEMU pid files: {@code <root>/run/qemu} for the embedded driver
     * ({@code qemu:///embed?root=<root>}, a private libvirt inside the agent's process), else the system daemon's.
     * It matters when two libvirt instances run the same UUID on one machine (a failover test's two "hosts"): the
     * /proc scan by UUID alone could find the other instance's QEMU.
     */
    public static QemuProcesses forUri(String uri) {
        String root = embedRoot(uri);
        if (root != null) {
            return new QemuProcesses(Path.of(root, "run", "qemu"), Path.of("/proc"));
        }
        // A libvirtd with a private /run/libvirt (scripts/libvirt-host: a mount namespace of its own) reached by its
        // socket: its qemu/ pid directory sits next to the socket, seen from here through the directory it binds.
        String socket = socketOf(uri);
        if (socket != null && socket.endsWith("/libvirt-sock") && !socket.equals("/run/libvirt/libvirt-sock")) {
            return new QemuProcesses(Path.of(socket).getParent().resolve("qemu"), Path.of("/proc"));
        }
        return new QemuProcesses();
    }

    /** The socket= of a {@code qemu+unix://} URI, else null. */
    static String socketOf(String uri) {
        if (uri == null || !uri.startsWith("qemu+unix://") || !uri.contains("?")) {
            return null;
        }
        for (String kv : uri.substring(uri.indexOf('?') + 1).split("&")) {
            if (kv.startsWith("socket=") && kv.length() > 7) {
                return java.net.URLDecoder.decode(kv.substring(7), StandardCharsets.UTF_8);
            }
        }
        return null;
    }

    /** The root= of a {@code qemu:///embed} URI, else null. */
    static String embedRoot(String uri) {
        if (uri == null || !uri.startsWith("qemu:///embed?")) {
            return null;
        }
        for (String kv : uri.substring("qemu:///embed?".length()).split("&")) {
            if (kv.startsWith("root=") && kv.length() > 5) {
                return java.net.URLDecoder.decode(kv.substring(5), StandardCharsets.UTF_8);
            }
        }
        return null;
    }

    public QemuProcesses(Path runDir, Path proc) {
        this.runDir = runDir;
        this.proc = proc;
    }

    /**
     * True when this process sees the host's processes (same PID namespace as libvirt's daemon): only then can a pid
     * be verified, a dead QEMU be told from an invisible one, and exits be watched. An agent in a pod without
     * {@code hostPID} reads pids from libvirt's pid files but cannot check them.
     */
    public boolean seesHostProcesses() {
        for (String daemon : new String[] {"driver.pid", "../../libvirtd.pid", "../../virtqemud.pid"}) {
            OptionalLong pid = readPidFile(runDir.resolve(daemon).normalize());
            if (pid.isPresent()) {
                String cmd = cmdline(pid.getAsLong());
                if (cmd != null && (cmd.contains("libvirtd") || cmd.contains("virtqemud"))) {
                    return true;
                }
            }
        }
        return false;
    }

    /** PID of the QEMU process running the domain {@code name}/{@code uuid}, if one is found. */
    public OptionalLong pid(String name, String uuid) {
        String u = uuid.toLowerCase(Locale.ROOT);
        OptionalLong fromFile = readPidFile(runDir.resolve(name + ".pid"));
        if (fromFile.isPresent() && cmdlineHasUuid(fromFile.getAsLong(), u)) {
            return fromFile;
        }
        OptionalLong scanned = scan(u);
        if (scanned.isPresent()) {
            return scanned;
        }
        // Not verifiable from here (another PID namespace): libvirt's pid file is the best word there is.
        return fromFile.isPresent() && !seesHostProcesses() ? fromFile : OptionalLong.empty();
    }

    private static OptionalLong readPidFile(Path pidFile) {
        try {
            String text = Files.readString(pidFile, StandardCharsets.US_ASCII).strip();
            return text.isEmpty() ? OptionalLong.empty() : OptionalLong.of(Long.parseLong(text));
        } catch (NoSuchFileException e) {
            return OptionalLong.empty();
        } catch (IOException | NumberFormatException e) {
            LOG.debug("cannot read pid file {}: {}", pidFile, e.toString());
            return OptionalLong.empty();
        }
    }

    private String cmdline(long pid) {
        try {
            return new String(Files.readAllBytes(proc.resolve(Long.toString(pid)).resolve("cmdline")),
                    StandardCharsets.UTF_8).replace('\0', ' ');
        } catch (IOException e) {
            return null;
        }
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
