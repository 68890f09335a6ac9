package io.virtfleet.e2e.support;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A counter the test guest writes to its serial console every 100 ms ({@code VFTICK <n>}), timestamped by the host as
 * each line reaches the console log files (virtlogd writes them as QEMU emits them). The guest's own clock cannot
 * show a migration's pause — QEMU stops the guest's clocks with its vCPUs — so only the host's arrival times can.
 * Several log files are followed at once: a migrated guest writes to the target host's log of its new domain name.
 */
public final class GuestTicks implements AutoCloseable {
    /** The guest's period between ticks. */
    public static final long PERIOD_MS = 100;
    private static final Pattern TICK = Pattern.compile("VFTICK (\\d+)");
    private static final long POLL_MS = 5;

    private final List<Path> logs;
    private final Map<Long, Long> arrivals = new ConcurrentHashMap<>();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final Thread thread;

    private GuestTicks(List<Path> logs) {
        this.logs = List.copyOf(logs);
        this.thread = new Thread(this::loop, "guest-ticks");
        thread.setDaemon(true);
    }

    /** Starts the guest's ticker (once per boot; a second call starts none) and follows {@code logs}. */
    public static GuestTicks start(LibvirtGuest guest, List<Path> logs) {
        LibvirtGuest.Result r = guest.exec("[ -e /tmp/vftick.pid ] || { nohup sh -c 'i=0; while :; do i=$((i+1)); "
                + "echo VFTICK $i > /dev/ttyS0; usleep " + PERIOD_MS * 1000 + "; done' >/dev/null 2>&1 & "
                + "echo $! > /tmp/vftick.pid; }; cat /tmp/vftick.pid");
        if (!r.ok()) {
            throw new IllegalStateException("cannot start the guest's ticker: " + r.output());
        }
        GuestTicks t = new GuestTicks(logs);
        t.thread.start();
        return t;
    }

    /** Ticks seen so far. */
    public int count() {
        return arrivals.size();
    }

    /** Host arrival time (System.nanoTime) of each tick by number, first arrival per number. */
    public TreeMap<Long, Long> arrivals() {
        return new TreeMap<>(arrivals);
    }

    /**
     * The longest time, in ms, between two consecutive ticks (by number) whose later one arrived in [from, to]
     * (System.nanoTime values): a gap that spans the window's start counts.
     */
    public long maxGapMs(long fromNanos, long toNanos) {
        long max = 0;
        Long previous = null;
        for (long t : arrivals().values()) {
            if (t > toNanos) {
                break;
            }
            if (previous != null && t >= fromNanos) {
                max = Math.max(max, (t - previous) / 1_000_000);
            }
            previous = t;
        }
        return max;
    }

    /** Tick numbers missing between the first and last seen (a tick the guest wrote that never arrived). */
    public List<Long> missing() {
        TreeMap<Long, Long> a = arrivals();
        List<Long> out = new ArrayList<>();
        if (a.isEmpty()) {
            return out;
        }
        for (long n = a.firstKey(); n <= a.lastKey(); n++) {
            if (!a.containsKey(n)) {
                out.add(n);
            }
        }
        return out;
    }

    private void loop() {
        long[] offsets = new long[logs.size()];
        String[] partial = new String[logs.size()];
        for (int i = 0; i < logs.size(); i++) {
            try {
                offsets[i] = Files.exists(logs.get(i)) ? Files.size(logs.get(i)) : 0; // only what comes from now
            } catch (IOException e) {
                offsets[i] = 0;
            }
            partial[i] = "";
        }
        while (running.get()) {
            for (int i = 0; i < logs.size(); i++) {
                Path p = logs.get(i);
                try {
                    if (!Files.exists(p)) {
                        continue;
                    }
                    long size = Files.size(p);
                    if (size < offsets[i]) { // truncated or replaced
                        offsets[i] = 0;
                    }
                    if (size == offsets[i]) {
                        continue;
                    }
                    byte[] buf;
                    try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "r")) {
                        f.seek(offsets[i]);
                        buf = new byte[(int) Math.min(size - offsets[i], 1 << 20)];
                        f.readFully(buf);
                    }
                    offsets[i] += buf.length;
                    long now = System.nanoTime();
                    String text = partial[i] + new String(buf, StandardCharsets.ISO_8859_1);
                    int nl = text.lastIndexOf('\n');
                    partial[i] = nl < 0 ? text : text.substring(nl + 1);
                    Matcher m = TICK.matcher(nl < 0 ? "" : text.substring(0, nl));
                    while (m.find()) {
                        arrivals.putIfAbsent(Long.parseLong(m.group(1)), now);
                    }
                } catch (IOException e) {
                    // the file is being rotated or created: read it next time
                }
            }
            try {
                Thread.sleep(POLL_MS);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    @Override
    public void close() {
        running.set(false);
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
