package io.virtfleet.agent.console;

import com.sun.jna.Library;
import com.sun.jna.NativeLong;
import com.sun.jna.Pointer;
import io.virtfleet.agent.libvirt.LazyLibrary;

import java.io.IOException;

/**
 * A domain's serial console ({@code virDomainOpenConsole}) or one of its channels ({@code virDomainOpenChannel}) as a
 * byte stream on a {@code virStream} (libvirt-java 0.5 has streams but neither call, so all are bound through JNA
 * here, like the agent's other missing calls). Each session has a connection of its own, so a blocked receive never holds up the agent's syncing
 * connection. The stream is blocking: {@link #read} waits for console output; {@link #write} may be called from
 * another thread meanwhile (libvirt's remote client serializes the two calls on the connection).
 */
final class CharDeviceStream extends NativeStream {
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

    private static final LazyLibrary<Api> API = new LazyLibrary<>("virt", Api.class);

    private final Pointer conn;
    private final Pointer domain;
    private final Pointer stream;

    private CharDeviceStream(Pointer conn, Pointer domain, Pointer stream) {
        this.conn = conn;
        this.domain = domain;
        this.stream = stream;
    }

    static Api api() {
        return API.get();
    }

    /** A new connection to {@code uri}; an IOException with libvirt's message. */
    static Pointer connect(Api a, String uri) throws IOException {
        Pointer conn = a.virConnectOpen(uri);
        if (conn == null) {
            throw new IOException("cannot connect to " + uri + ": " + a.virGetLastErrorMessage());
        }
        return conn;
    }

    /** The domain with this UUID on {@code conn}, to be freed with {@code virDomainFree}; an IOException if none. */
    static Pointer lookup(Api a, Pointer conn, String uuid) throws IOException {
        Pointer dom = a.virDomainLookupByUUIDString(conn, uuid);
        if (dom == null) {
            throw new IOException("no libvirt domain " + uuid + ": " + a.virGetLastErrorMessage());
        }
        return dom;
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
        Pointer conn = connect(a, uri);
        Pointer dom = null;
        Pointer st = null;
        try {
            dom = lookup(a, conn, uuid);
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

    @Override
    long receive(byte[] buf) {
        return api().virStreamRecv(stream, buf, new NativeLong(buf.length));
    }

    @Override
    long send(byte[] data) {
        return api().virStreamSend(stream, data, new NativeLong(data.length));
    }

    @Override
    IOException receiveFailed() {
        return new IOException("virStreamRecv: " + api().virGetLastErrorMessage());
    }

    @Override
    IOException sendFailed() {
        return new IOException("virStreamSend: " + api().virGetLastErrorMessage());
    }

    @Override
    void wake() {
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
