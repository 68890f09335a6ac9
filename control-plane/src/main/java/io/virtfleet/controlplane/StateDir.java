package io.virtfleet.controlplane;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import java.util.Properties;
import java.util.stream.Stream;

/**
 * The files a control plane keeps in its data dir (state, pid files, the owner of an ephemeral one) and what can be
 * done from them alone: the status and stop of a detached control plane, the reaping of ephemeral ones whose JVM died.
 */
final class StateDir {
    private static final Logger LOG = LoggerFactory.getLogger(StateDir.class);

    static final String STATE_FILE = "state.properties";
    static final String ETCD_PID = "etcd.pid";
    static final String APISERVER_PID = "kube-apiserver.pid";
    static final String OWNER_PID = "owner.pid";
    static final String EPHEMERAL_PREFIX = "virtfleet-cp-";

    private StateDir() {
    }

    /**
     * Stops the detached control plane recorded in {@code persistentDir} (kube-apiserver first, then etcd). Its data
     * stays. Returns true if a running process was stopped.
     */
    static boolean stop(Path persistentDir) {
        boolean any = false;
        for (String pidFile : new String[] {APISERVER_PID, ETCD_PID}) {
            Path f = persistentDir.resolve(pidFile);
            Optional<ProcessHandle> p = Processes.fromPidFile(f);
            if (p.isPresent()) {
                LOG.info("stopping {} (pid {})", pidFile.replace(".pid", ""), p.get().pid());
                if (!Processes.terminate(p.get(), 15_000)) {
                    throw new IllegalStateException("could not stop pid " + p.get().pid() + " from " + f);
                }
                any = true;
            }
            try {
                Files.deleteIfExists(f);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return any;
    }

    /** What {@code persistentDir} says about a detached control plane, without touching it. */
    static EmbeddedControlPlane.Status status(Path persistentDir) {
        Optional<ProcessHandle> e = Processes.fromPidFile(persistentDir.resolve(ETCD_PID));
        Optional<ProcessHandle> a = Processes.fromPidFile(persistentDir.resolve(APISERVER_PID));
        Properties state = readState(persistentDir);
        String server = state.getProperty("apiPort") == null ? null : "https://127.0.0.1:" + state.getProperty("apiPort");
        Path kc = persistentDir.resolve("kubeconfig");
        return new EmbeddedControlPlane.Status(e.map(ProcessHandle::pid).orElse(-1L), a.map(ProcessHandle::pid).orElse(-1L), server,
                Files.isRegularFile(kc) ? kc : null);
    }

    /** Default state dir for {@link #start(Path)}: {@code <repo>/.virtfleet/control-plane}, else under ~/.local/state. */
    static Path defaultStateDir() {
        return RepoRoot.find(Path.of("").toAbsolutePath())
                .map(root -> root.resolve(".virtfleet").resolve("control-plane"))
                .orElseGet(() -> {
                    String xdg = System.getenv("XDG_STATE_HOME");
                    Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg)
                            : Path.of(System.getProperty("user.home"), ".local", "state");
                    return base.resolve("virtfleet").resolve("control-plane");
                });
    }


    /** Stops the processes of ephemeral control planes whose owning JVM died (e.g. a killed test run). */
    static void reapOrphans() {
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        try (Stream<Path> dirs = Files.list(tmp)) {
            dirs.filter(d -> d.getFileName().toString().startsWith(EPHEMERAL_PREFIX))
                    .filter(d -> Files.isRegularFile(d.resolve(OWNER_PID)))
                    .forEach(d -> {
                        try {
                            long owner = Long.parseLong(Files.readString(d.resolve(OWNER_PID)).strip());
                            if (Processes.alive(owner)) {
                                return;
                            }
                            Optional<ProcessHandle> a = Processes.fromPidFile(d.resolve(APISERVER_PID));
                            Optional<ProcessHandle> e = Processes.fromPidFile(d.resolve(ETCD_PID));
                            if (a.isPresent() || e.isPresent()) {
                                LOG.warn("stopping control plane left behind by dead JVM {} in {}", owner, d);
                            }
                            stopOwned(a.orElse(null), e.orElse(null), d);
                        } catch (IOException | RuntimeException ex) {
                            LOG.debug("cannot reap {}: {}", d, ex.toString());
                        }
                    });
        } catch (IOException e) {
            LOG.debug("cannot list {}: {}", tmp, e.toString());
        }
    }

    static Properties readState(Path dir) {
        Properties p = new Properties();
        Path f = dir.resolve(STATE_FILE);
        if (Files.isRegularFile(f)) {
            try (InputStream in = Files.newInputStream(f)) {
                p.load(in);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + f, e);
            }
        }
        return p;
    }

    static void writeState(Path dir, Properties state) throws IOException {
        Path tmp = dir.resolve(STATE_FILE + ".tmp");
        try (var out = Files.newOutputStream(tmp)) {
            state.store(out, "virtfleet control plane (token = admin bearer token)");
        }
        restrict(tmp);
        Files.move(tmp, dir.resolve(STATE_FILE), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** Readable by the owner only (tokens, keys, kubeconfigs). */
    static void restrict(Path file) {
        try {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        } catch (IOException | UnsupportedOperationException e) {
            LOG.debug("cannot restrict permissions of {}: {}", file, e.toString());
        }
    }

    /** Stops kube-apiserver, then etcd, of a control plane this JVM (or a dead one) owns; deletes its dir. */
    static void stopOwned(ProcessHandle apiserver, ProcessHandle etcd, Path deleteDir) {
        if (apiserver != null) {
            Processes.terminate(apiserver, 10_000);
        }
        if (etcd != null) {
            Processes.terminate(etcd, 10_000);
        }
        if (deleteDir != null) {
            deleteRecursively(deleteDir);
        }
    }

    static void deleteRecursively(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try {
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
                    Files.deleteIfExists(d);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            LOG.warn("cannot delete {}: {}", dir, e.toString());
        }
    }
}
