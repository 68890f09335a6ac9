package io.virtfleet.e2e.support;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A counter the test guest writes every 100 ms over its command channel ({@code VFTICK <n>}), timestamped by the host
 * as each line arrives. The guest's own clock cannot show a migration's pause — QEMU stops the guest's clocks with its
 * vCPUs — so only the host's arrival times can.
 *
 * <p>Why two connections: the channel's host end is a UNIX socket that each host's QEMU listens on (a chardev of that
 * QEMU, under the domain's per-host name). After the switchover the guest's virtio-serial port belongs to the
 * destination's QEMU, so its writes come out of the destination's socket; the source's closes when its QEMU exits.
 * And a guest's write on a virtio-serial port blocks while no host client is connected to the port (Linux
 * virtio_console: a port is writable only once the host side opened it; QEMU tells the guest when a client connects
 * to the chardev, also after an incoming migration if that differs from what the source had). So this reader
 * connects to the destination's socket as soon as the destination QEMU creates it (libvirt starts that QEMU when the
 * migration begins, long before the switchover): the guest's port is connected on both sides and its first write
 * after the resume arrives at once. If the socket appears only after the switchover, the reader's retry interval
 * ({@link #CONNECT_RETRY_MS}) adds to that gap.
 *
 * <p>The guest side is one command of the channel's protocol (scripts/guest/init runs it with the port as fd 3): a
 * shell loop that waits 100 ms for a line from the host ({@code read -t}, which is also how it is stopped: the line
 * {@code stop}) and writes the next tick straight to the port, no process started per tick.
 */
public final class GuestTicks implements AutoCloseable {
    /** The guest's period between ticks. */
    public static final long PERIOD_MS = 100;
    /** How often the reader tries to connect to the destination's socket until it can. */
    public static final long CONNECT_RETRY_MS = 20;
    private static final String TOKEN = "vftick";
    private static final String LOOP = "i=0; while :; do if read -r -t 0.1 x <&3; then "
            + "[ \"$x\" = stop ] && break; fi; i=$((i+1)); echo \"VFTICK $i\" >&3; done";
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(GuestTicks.class);
    private static final Pattern TICK = Pattern.compile("VFTICK (\\d+)");

    /** First arrival per tick number (System.nanoTime), and which connection (0 = source, 1 = destination). */
    private final Map<Long, long[]> arrivals = new ConcurrentHashMap<>();
    private final List<SocketChannel> channels = new CopyOnWriteArrayList<>();
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final List<Thread> threads = new CopyOnWriteArrayList<>();
    private final Path destination;
    private volatile SocketChannel destinationChannel;
    private volatile boolean done;

    private GuestTicks(Path destination) {
        this.destination = destination;
    }

    /**
     * Starts the guest's counter through {@code source}'s channel socket and follows it there and, once it exists, on
     * the socket of the domain at {@code destination}.
     */
    public static GuestTicks start(Path source, Path destination) throws IOException {
        GuestTicks t = new GuestTicks(destination);
        SocketChannel src = connect(source);
        t.channels.add(src);
        String cmd = Base64.getEncoder().encodeToString(LOOP.getBytes(StandardCharsets.UTF_8));
        write(src, "@" + TOKEN + " b64:" + cmd + "\n");
        t.follow(src, 0);
        Thread dst = new Thread(t::connectDestination, "guest-ticks-connect");
        dst.setDaemon(true);
        t.threads.add(dst);
        dst.start();
        return t;
    }

    /** Ticks seen so far. */
    public int count() {
        return arrivals.size();
    }

    /** Ticks seen so far on the destination's socket. */
    public long countOnDestination() {
        return arrivals.values().stream().filter(a -> a[1] == 1).count();
    }

    /** Host arrival time (System.nanoTime) of each tick by number. */
    public TreeMap<Long, Long> arrivals() {
        TreeMap<Long, Long> out = new TreeMap<>();
        arrivals.forEach((n, a) -> out.put(n, a[0]));
        return out;
    }

    /** The gaps, in ms, between consecutive ticks (by number), each keyed by the later tick's number. */
    public TreeMap<Long, Long> gapsMs() {
        TreeMap<Long, Long> out = new TreeMap<>();
        Long previous = null;
        for (Map.Entry<Long, Long> e : arrivals().entrySet()) {
            if (previous != null) {
                out.put(e.getKey(), (e.getValue() - previous) / 1_000_000);
            }
            previous = e.getValue();
        }
        return out;
    }

    /** The number of the first tick that arrived through the destination's socket, or null. */
    public Long firstOnDestination() {
        return arrivals.entrySet().stream().filter(e -> e.getValue()[1] == 1).map(Map.Entry::getKey)
                .min(Long::compare).orElse(null);
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

    private void connectDestination() {
        while (running.get()) {
            if (Files.exists(destination)) {
                try {
                    SocketChannel c = connect(destination);
                    channels.add(c);
                    destinationChannel = c;
                    follow(c, 1);
                    return;
                } catch (IOException e) {
                    // not listening yet (or a stale file): again
                }
            }
            try {
                Thread.sleep(CONNECT_RETRY_MS);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private void follow(SocketChannel c, int side) {
        Thread t = new Thread(() -> read(c, side), "guest-ticks-" + side);
        t.setDaemon(true);
        threads.add(t);
        t.start();
    }

    private void read(SocketChannel c, int side) {
        ByteBuffer buf = ByteBuffer.allocate(4096);
        StringBuilder line = new StringBuilder();
        try {
            while (running.get() && c.read(buf) >= 0) {
                long now = System.nanoTime();
                buf.flip();
                while (buf.hasRemaining()) {
                    char ch = (char) (buf.get() & 0xff);
                    if (ch != '\n') {
                        line.append(ch);
                        continue;
                    }
                    Matcher m = TICK.matcher(line);
                    if (m.find()) {
                        arrivals.putIfAbsent(Long.parseLong(m.group(1)), new long[]{now, side});
                    } else if (line.indexOf("__VF_DONE__") >= 0 && line.indexOf(TOKEN) >= 0) {
                        done = true;
                    }
                    line.setLength(0);
                }
                buf.clear();
            }
        } catch (IOException e) {
            // closed: the source's QEMU exited, or close()
        }
    }

    /**
     * Stops the guest's counter (through the destination's socket if it is connected, else the source's) and waits
     * for it to end, then disconnects, so the channel is free for other clients again. A line sent into the
     * destination's socket while that QEMU was still receiving the migration can stay unread there; a fresh
     * connection (QEMU then tells the guest a client opened the port) is tried if the first {@code stop} is not
     * answered.
     */
    @Override
    public void close() {
        try {
            for (int attempt = 0; attempt < 3 && !done; attempt++) {
                SocketChannel c = destinationChannel != null ? destinationChannel : channels.get(0);
                if (attempt > 0 && destinationChannel != null) {
                    LOG.info("the guest's counter did not answer stop; reconnecting to {}", destination);
                    c.close();
                    c = connect(destination);
                    channels.add(c);
                    destinationChannel = c;
                    follow(c, 1);
                }
                write(c, "stop\n");
                long until = System.nanoTime() + 3_000_000_000L;
                while (!done && System.nanoTime() < until) {
                    Thread.sleep(20);
                }
            }
            if (!done) {
                LOG.warn("the guest's counter did not stop; the command channel may stay busy");
            }
        } catch (IOException | InterruptedException e) {
            LOG.warn("stopping the guest's counter: {}", e.toString());
        }
        running.set(false);
        for (SocketChannel s : channels) {
            try {
                s.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
        for (Thread t : threads) {
            try {
                t.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static SocketChannel connect(Path socket) throws IOException {
        SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            c.connect(UnixDomainSocketAddress.of(socket));
            return c;
        } catch (IOException e) {
            c.close();
            throw e;
        }
    }

    private static void write(SocketChannel c, String s) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
        while (b.hasRemaining()) {
            c.write(b);
        }
    }
}
