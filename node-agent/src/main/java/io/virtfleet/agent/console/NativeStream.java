package io.virtfleet.agent.console;

import java.io.IOException;
import java.util.Arrays;

/**
 * What the console's native streams ({@link CharDeviceStream} on a {@code virStream}, {@link GraphicsStream} on a
 * socket descriptor) share: both calls block and return a byte count, 0 at the end of the stream and a negative
 * number on failure, and may send fewer bytes than asked (like send(2)), so a write loops until all is sent; an
 * abort wakes a blocked read once, after which a read reports the end of the stream.
 */
abstract class NativeStream implements GuestStream {
    private volatile boolean closed;

    /** One blocking receive into {@code buf}: the count, 0 at the end, negative on failure. */
    abstract long receive(byte[] buf);

    /** One send of (a prefix of) {@code data}: the count sent, negative on failure. */
    abstract long send(byte[] data);

    abstract IOException receiveFailed();

    abstract IOException sendFailed();

    /** Makes a thread blocked in {@link #receive} return, without freeing what it reads from. */
    abstract void wake();

    /** Output into {@code buf}: the byte count, or -1 at the end of the stream (domain stopped, closed). */
    @Override
    public final int read(byte[] buf) throws IOException {
        long n = receive(buf);
        if (n == 0 || closed) {
            return -1;
        }
        if (n < 0) {
            throw receiveFailed();
        }
        return (int) n;
    }

    /** Sends {@code len} bytes of {@code buf} to the device. */
    @Override
    public final void write(byte[] buf, int len) throws IOException {
        int off = 0;
        while (off < len) {
            byte[] rest = off == 0 && len == buf.length ? buf : Arrays.copyOfRange(buf, off, len);
            long n = send(rest);
            if (n < 0) {
                throw sendFailed();
            }
            off += (int) n;
        }
    }

    /** Ends the stream from any thread: a blocked {@link #read} returns. Idempotent. */
    @Override
    public final void abort() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        wake();
    }
}
