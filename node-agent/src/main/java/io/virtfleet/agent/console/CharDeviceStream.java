package io.virtfleet.agent.console;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import com.sun.jna.Pointer;

import java.io.IOException;

/**
 * A domain's serial console ({@code virDomainOpenConsole}) or one of its channels ({@code virDomainOpenChannel}) as a
 * byte stream on a {@code virStream} (libvirt-java 0.5 has streams but neither call, so all are bound through JNA
 * here, like the agent's other missing calls). Each session has a connection of its own, so a blocked receive never holds up the agent's syncing
 * connection. The stream is blocking: {@link #read} waits for console output; {@link #write} may be called from
 * another thread meanwhile (libvirt's remote client serializes the two calls on the connection).
 */
final class CharDeviceStream implements GuestStream {
    interface Api extends Library {
        Pointer virConnectOpen(String uri);

        int virConnectClose(Pointer conn);

        Pointer virDomainLookupByUUIDString(Pointer conn, String uuid);

        int virDomainFree(Pointer domain);

        Pointer virStreamNew(Pointer conn, int flags);

        int virDomainOpenConsole(Pointer domain, String devName, Pointer stream, int flags);

        int virDomainOpenChannel(Pointer domain, String name, Pointer stream, int flags);

        int virDomainOpenGraphicsFD(Pointer domain, int idx, int flags);

        int virStreamRecv(Pointer stream, byte[] data, NativeLong nbytes);

        int virStreamSend(Pointer stream, byte[] data, NativeLong nbytes);

        int virStreamAbort(Pointer stream);

        int virStreamFree(Pointer stream);

        String virGetLastErrorMessage();
    }

    /** VIR_DOMAIN_CONSOLE_SAFE: refuse when the console's character device cannot be opened exclusively. */
    static final int CONSOLE_SAFE = 2;
    /** VIR_DOMAIN_CHANNEL_FORCE is not used: a second session must not steal a channel from the first. */
    static final int CHANNEL_EXCLUSIVE = 0;

    private static volatile Api api;

    private final Pointer conn;
    private final Pointer domain;
    private final Pointer stream;
    private volatile boolean closed;

    private CharDeviceStream(Pointer conn, Pointer domain, Pointer stream) {
        this.conn = conn;
        this.domain = domain;
        this.stream = stream;
    }

    static Api api() {
        Api a = api;
        if (a == null) {
            synchronized (CharDeviceStream.class) {
                if (api == null) {
                    api = Native.load("virt", Api.class);
                }
                a = api;
            }
        }
        return a;
    }

    /** Opens the first console of the running domain with this UUID; an IOException with libvirt's message. */
    static CharDeviceStream console(String uri, String uuid) throws IOException {
        return open(uri, uuid, null);
    }

    /**
     * Opens the channel whose virtio target name is {@code name} (libvirt matches the alias or the target name; the
     * QEMU driver supports UNIX-socket and pty channels and connects to the socket itself, so the caller needs no
     * access to the socket's path).
     */
    static CharDeviceStream channel(String uri, String uuid, String name) throws IOException {
        return open(uri, uuid, name);
    }

    private static CharDeviceStream open(String uri, String uuid, String channel) throws IOException {
        Api a = api();
        Pointer conn = a.virConnectOpen(uri);
        if (conn == null) {
            throw new IOException("cannot connect to " + uri + ": " + a.virGetLastErrorMessage());
        }
        Pointer dom = null;
        Pointer st = null;
        try {
            dom = a.virDomainLookupByUUIDString(conn, uuid);
            if (dom == null) {
                throw new IOException("no libvirt domain " + uuid + ": " + a.virGetLastErrorMessage());
            }
            st = a.virStreamNew(conn, 0);
            if (st == null) {
                throw new IOException("virStreamNew: " + a.virGetLastErrorMessage());
            }
            int rc = channel == null ? a.virDomainOpenConsole(dom, null, st, CONSOLE_SAFE)
                    : a.virDomainOpenChannel(dom, channel, st, CHANNEL_EXCLUSIVE);
            if (rc < 0) {
                throw new IOException(a.virGetLastErrorMessage());
            }
            CharDeviceStream s = new CharDeviceStream(conn, dom, st);
            conn = null;
            dom = null;
            st = null;
            return s;
        } finally {
            if (st != null) {
                a.virStreamFree(st);
            }
            if (dom != null) {
                a.virDomainFree(dom);
            }
            if (conn != null) {
                a.virConnectClose(conn);
            }
        }
    }

    /** Output into {@code buf}: the byte count, or -1 at the end of the stream (domain stopped, closed). */
    @Override
    public int read(byte[] buf) throws IOException {
        int n = api().virStreamRecv(stream, buf, new NativeLong(buf.length));
        if (n == 0 || closed) {
            return -1;
        }
        if (n < 0) {
            throw new IOException("virStreamRecv: " + api().virGetLastErrorMessage());
        }
        return n;
    }

    /** Sends {@code len} bytes of {@code buf} to the device. */
    @Override
    public void write(byte[] buf, int len) throws IOException {
        byte[] data = len == buf.length ? buf : java.util.Arrays.copyOf(buf, len);
        int off = 0;
        while (off < data.length) {
            byte[] rest = off == 0 ? data : java.util.Arrays.copyOfRange(data, off, data.length);
            int n = api().virStreamSend(stream, rest, new NativeLong(rest.length));
            if (n < 0) {
                throw new IOException("virStreamSend: " + api().virGetLastErrorMessage());
            }
            off += n;
        }
    }

    /** Aborts the stream from any thread: a blocked {@link #read} returns. Idempotent. */
    @Override
    public void abort() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        api().virStreamAbort(stream);
    }

    /**
     * Aborts if needed, then frees the stream and closes the connection. Only once no thread is inside {@link #read}
     * or {@link #write} any more (the caller joins its pump threads first): freeing a stream in use would crash.
     */
    @Override
    public void close() {
        abort();
        Api a = api();
        a.virStreamFree(stream);
        a.virDomainFree(domain);
        a.virConnectClose(conn);
    }
}
