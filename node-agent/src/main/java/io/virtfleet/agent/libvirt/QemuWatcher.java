package io.virtfleet.agent.libvirt;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Watches the QEMU processes of running domains and reports the moment one exits (gone, or a zombie not reaped yet).
 *
 * <p>libvirt reports a QEMU that died only after the process has been reaped, and blocks API calls on the domain
 * until then. Where the init process reaps orphans lazily (containers, sandboxes: seconds), that delays libvirt's
 * lifecycle event by as much; where libvirtd is down it never comes. This watch lets the agent report the exit
 * within {@link #INTERVAL} either way, without asking libvirt.
 */
public final class QemuWatcher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(QemuWatcher.class);
    public static final Duration INTERVAL = Duration.ofMillis(100);

    /** Told when a watched process has exited; called on the watcher thread. */
    public interface Listener {
        void exited(String uuid, long pid);
    }

    private final Path proc;
    private final Listener listener;
    private final Map<String, Long> watched = new ConcurrentHashMap<>();
    private final Thread thread;
    private volatile boolean running = true;

    public QemuWatcher(Listener listener, String name) {
        this(Path.of("/proc"), listener, name);
    }

    QemuWatcher(Path proc, Listener listener, String name) {
        this.proc = proc;
        this.listener = listener;
        this.thread = new Thread(this::run, name);
        this.thread.setDaemon(true);
    }

    public void start() {
        thread.start();
    }

    /** Watch {@code pid} as the QEMU process of {@code uuid} (replacing an earlier one). */
    public void track(String uuid, long pid) {
        watched.put(uuid, pid);
    }

    public void untrack(String uuid) {
        watched.remove(uuid);
    }

    private void run() {
        while (running) {
            for (Map.Entry<String, Long> e : watched.entrySet()) {
                long pid = e.getValue();
                if (!alive(proc, pid) && watched.remove(e.getKey(), pid)) {
                    LOG.info("QEMU process {} of domain {} exited", pid, e.getKey());
                    try {
                        listener.exited(e.getKey(), pid);
                    } catch (RuntimeException ex) {
                        LOG.error("handling the exit of QEMU process {} ({}) failed: {}", pid, e.getKey(),
                                ex.getMessage(), ex);
                    }
                }
            }
            try {
                Thread.sleep(INTERVAL.toMillis());
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** False when the process does not exist or is a zombie (exited, not reaped yet). */
    static boolean alive(Path proc, long pid) {
        try {
            String stat = Files.readString(proc.resolve(Long.toString(pid)).resolve("stat"),
                    StandardCharsets.US_ASCII);
            int close = stat.lastIndexOf(')');
            if (close < 0 || close + 2 >= stat.length()) {
                return true;
            }
            char state = stat.charAt(close + 2);
            return state != 'Z' && state != 'X' && state != 'x';
        } catch (NoSuchFileException e) {
            return false;
        } catch (IOException e) {
            // ESRCH while reading a vanishing process also lands here
            return Files.exists(proc.resolve(Long.toString(pid)));
        }
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
    }
}
