package io.virtfleet.agent.console;

import java.io.IOException;

/**
 * One session's byte stream to a VM: its serial console, its VNC display or a TCP connection inside the guest. Read on
 * one thread, written on another; {@link #abort} from any thread makes a blocked {@link #read} return, and
 * {@link #close} frees what the stream holds once no thread is inside it any more.
 */
interface GuestStream extends AutoCloseable {
    /** Bytes from the VM into {@code buf}: the count, or -1 at the end of the stream. */
    int read(byte[] buf) throws IOException;

    /** Sends {@code len} bytes of {@code buf} to the VM. */
    void write(byte[] buf, int len) throws IOException;

    /** Ends the stream from any thread; idempotent. */
    void abort();

    @Override
    void close();
}
