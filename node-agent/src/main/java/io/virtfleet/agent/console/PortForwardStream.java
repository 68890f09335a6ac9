package io.virtfleet.agent.console;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A TCP connection to a port inside the guest, carried over the VM's virtio-serial channel {@link #CHANNEL} to the
 * guest-side relay {@code virtfleet-guest-forward} (guest-tools/), which connects to {@code 127.0.0.1:PORT} in the
 * guest. Nothing crosses a network: neither the user nor the agent needs a route to the guest.
 *
 * <p>A serial port is one byte stream without an end-of-connection signal from the guest (the host's end stays
 * connected when the guest closes its side), so both directions are framed: {@code type(1) length(4, big-endian)
 * payload}. The host opens with an {@code O} frame ({@code "SESSION PORT"}); the relay answers with one line,
 * {@code VFPF SESSION OK} or {@code VFPF SESSION ERR reason}, then both sides send {@code D} (data) frames and the
 * relay a {@code C} frame when the guest's service closed the connection. The host ends a session by disconnecting
 * from the channel, which the relay sees as end of file. Anything the relay wrote for an earlier session before it
 * noticed the disconnect precedes the answer line and is skipped: the random session id tells this session's answer
 * apart. One session per VM at a time (a virtio-serial port has one host end).
 */
final class PortForwardStream implements GuestStream {
    /** The virtio target name of the channel the renderer gives every kvm/qemu VM. */
    static final String CHANNEL = io.virtfleet.reconcilers.render.HostInfo.PORT_FORWARD_CHANNEL_NAME;
    static final byte OPEN = 'O';
    static final byte DATA = 'D';
    static final byte CLOSE = 'C';
    static final int MAX_FRAME = 64 * 1024;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final CharDeviceStream channel;
    private final byte[] inBuf = new byte[MAX_FRAME + 5];
    private int inStart;
    private int inEnd;
    private int dataLeft; // bytes of the current D frame not yet returned
    private boolean ended;

    private PortForwardStream(CharDeviceStream channel) {
        this.channel = channel;
    }

    /** The guest's relay said why it could not connect, or never answered. */
    static final class RelayRefused extends IOException {
        RelayRefused(String message) {
            super(message);
        }
    }

    /**
     * Opens the channel and asks the relay for {@code 127.0.0.1:port} in the guest; waits at most {@code timeoutMs} for
     * its answer (no relay running in the guest: a {@link RelayRefused} after that time).
     */
    static PortForwardStream open(String uri, String uuid, int port, long timeoutMs) throws IOException {
        CharDeviceStream ch = CharDeviceStream.channel(uri, uuid, CHANNEL);
        PortForwardStream s = new PortForwardStream(ch);
        boolean inUse = false; // a reader still inside virStreamRecv: the stream must not be freed under it
        try {
            String session = HexFormat.of().formatHex(bytes(8));
            s.frame(OPEN, (session + " " + port).getBytes(StandardCharsets.US_ASCII));
            CompletableFuture<String> answer = CompletableFuture.supplyAsync(() -> {
                try {
                    return s.answerLine("VFPF " + session + " ");
                } catch (IOException e) {
                    throw new CompletionException(e);
                }
            });
            String line;
            try {
                line = answer.get(timeoutMs, TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                ch.abort(); // wakes the reader
                try {
                    answer.get(10, TimeUnit.SECONDS);
                } catch (ExecutionException | TimeoutException ignored) {
                    // ended, or still stuck (then inUse below)
                }
                inUse = !answer.isDone();
                throw new RelayRefused("no answer from the port-forward relay in the guest within "
                        + timeoutMs / 1000 + " s (is virtfleet-guest-forward running there?)");
            } catch (ExecutionException e) {
                throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
            }
            if (!line.equals("OK")) {
                throw new RelayRefused("the guest refused: " + (line.startsWith("ERR ") ? line.substring(4) : line));
            }
            return s;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            ch.abort();
            throw new IOException("interrupted");
        } catch (IOException | RuntimeException e) {
            if (inUse) {
                ch.abort();
            } else {
                ch.close();
            }
            throw e;
        }
    }

    private static byte[] bytes(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }

    /** Skips input up to {@code prefix}, returns the rest of that line; what follows stays buffered. */
    private String answerLine(String prefix) throws IOException {
        byte[] p = prefix.getBytes(StandardCharsets.US_ASCII);
        int matched = 0;
        StringBuilder rest = null;
        while (true) {
            if (inStart == inEnd && !fill()) {
                throw new IOException("the guest's channel closed before the relay answered");
            }
            byte b = inBuf[inStart++];
            if (rest != null) {
                if (b == '\n') {
                    return rest.toString().strip();
                }
                if (rest.length() > 1024) {
                    throw new IOException("the relay's answer line is too long");
                }
                rest.append((char) (b & 0xff));
            } else if (b == p[matched]) {
                if (++matched == p.length) {
                    rest = new StringBuilder();
                }
            } else {
                matched = b == p[0] ? 1 : 0;
            }
        }
    }

    /** Appends channel input to the buffer (compacting it first); false at the end of the stream. */
    private boolean fill() throws IOException {
        if (inStart == inEnd) {
            inStart = inEnd = 0;
        } else if (inEnd == inBuf.length) {
            System.arraycopy(inBuf, inStart, inBuf, 0, inEnd - inStart);
            inEnd -= inStart;
            inStart = 0;
        }
        byte[] chunk = new byte[inBuf.length - inEnd];
        int n = channel.read(chunk);
        if (n < 0) {
            return false;
        }
        System.arraycopy(chunk, 0, inBuf, inEnd, n);
        inEnd += n;
        return true;
    }

    private boolean need(int n) throws IOException {
        while (inEnd - inStart < n) {
            if (!fill()) {
                return false;
            }
        }
        return true;
    }

    @Override
    public int read(byte[] buf) throws IOException {
        while (!ended) {
            if (dataLeft > 0) {
                if (inStart == inEnd && !fill()) {
                    return -1;
                }
                int n = Math.min(Math.min(dataLeft, buf.length), inEnd - inStart);
                System.arraycopy(inBuf, inStart, buf, 0, n);
                inStart += n;
                dataLeft -= n;
                return n;
            }
            if (!need(5)) {
                return -1;
            }
            byte type = inBuf[inStart];
            int len = ((inBuf[inStart + 1] & 0xff) << 24) | ((inBuf[inStart + 2] & 0xff) << 16)
                    | ((inBuf[inStart + 3] & 0xff) << 8) | (inBuf[inStart + 4] & 0xff);
            inStart += 5;
            if (len < 0 || len > MAX_FRAME) {
                throw new IOException("bad frame from the port-forward relay (length " + len + ")");
            }
            if (type == DATA) {
                dataLeft = len;
            } else if (type == CLOSE) {
                ended = true;
            } else {
                throw new IOException("bad frame type " + (type & 0xff) + " from the port-forward relay");
            }
        }
        return -1;
    }

    @Override
    public void write(byte[] buf, int len) throws IOException {
        for (int off = 0; off < len; off += MAX_FRAME) {
            int n = Math.min(MAX_FRAME, len - off);
            frame(DATA, java.util.Arrays.copyOfRange(buf, off, off + n));
        }
    }

    private void frame(byte type, byte[] payload) throws IOException {
        byte[] f = new byte[5 + payload.length];
        f[0] = type;
        f[1] = (byte) (payload.length >>> 24);
        f[2] = (byte) (payload.length >>> 16);
        f[3] = (byte) (payload.length >>> 8);
        f[4] = (byte) payload.length;
        System.arraycopy(payload, 0, f, 5, payload.length);
        channel.write(f, f.length);
    }

    @Override
    public void abort() {
        channel.abort();
    }

    @Override
    public void close() {
        channel.close();
    }
}
