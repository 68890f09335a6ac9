package io.virtfleet.e2e.migration;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * When the guest was really paused for a switch-over, as libvirt itself tells it: the source libvirtd's lifecycle
 * event {@code Suspended Migrated} (it stopped the vCPUs for the last copy) and the destination's {@code Resumed
 * Migrated} (its Finish step ran {@code cont}), each printed with its time by {@code virsh event --timestamp} on this
 * machine's clock. libvirt's reported downtime is computed before that resume, so the window is the longer figure.
 */
final class PauseWindow implements AutoCloseable {
    private static final Pattern LINE = Pattern.compile("^(\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3}[+-]\\d{4}): "
            + "event 'lifecycle' for domain '[^']*': (\\w+) (\\w+)");
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSSZ");

    private record Event(long epochMs, String type, String detail) {
    }

    private final List<Process> processes = new CopyOnWriteArrayList<>();
    private final List<Event> source = new CopyOnWriteArrayList<>();
    private final List<Event> destination = new CopyOnWriteArrayList<>();

    PauseWindow(String sourceUri, String destinationUri) throws IOException {
        follow(sourceUri, source);
        follow(destinationUri, destination);
    }

    private void follow(String uri, List<Event> into) throws IOException {
        // stdbuf: virsh's stdout is a pipe here, so make it write each event as it comes.
        Process p = new ProcessBuilder("stdbuf", "-oL", "virsh", "-c", uri, "event", "--loop", "--timestamp",
                "--event", "lifecycle", "--timeout", "600").redirectErrorStream(true).start();
        processes.add(p);
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    Matcher m = LINE.matcher(line);
                    if (m.find()) {
                        into.add(new Event(OffsetDateTime.parse(m.group(1), TIME).toInstant().toEpochMilli(),
                                m.group(2), m.group(3)));
                    }
                }
            } catch (IOException e) {
                // the process was stopped
            }
        }, "pause-window");
        t.setDaemon(true);
        t.start();
    }

    /**
     * Milliseconds from the source's last {@code Suspended Migrated} to the destination's first {@code Resumed}
     * after it, or null if libvirt did not report both.
     */
    Long pausedMs() {
        Long suspended = null;
        for (Event e : source) {
            if ("Suspended".equals(e.type()) && "Migrated".equals(e.detail())) {
                suspended = e.epochMs();
            }
        }
        if (suspended == null) {
            return null;
        }
        for (Event e : destination) {
            if ("Resumed".equals(e.type()) && e.epochMs() >= suspended) {
                return e.epochMs() - suspended;
            }
        }
        return null;
    }

    @Override
    public String toString() {
        return "source " + source + ", destination " + destination;
    }

    @Override
    public void close() {
        processes.forEach(Process::destroy);
    }
}
