package io.virtfleet.agent.console;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import com.sun.jna.Pointer;

import java.io.IOException;

/**
 * A new client connection to a running domain's VNC server, made by libvirt itself: {@code virDomainOpenGraphicsFD}
 * has QEMU accept one end of a socket pair as a VNC client (QMP {@code add_client}) and hands the other end to the
 * caller. The display therefore needs no listening address at all, and the agent no access to QEMU's socket: the fd
 * is read and written with libc through JNA (the JDK cannot wrap a raw descriptor).
 */
final class GraphicsStream implements GuestStream {
    interface LibC extends Library {
        NativeLong read(int fd, byte[] buf, NativeLong count);

        NativeLong write(int fd, byte[] buf, NativeLong count);

        int shutdown(int fd, int how);

        int close(int fd);
    }

    /** VIR_DOMAIN_OPEN_GRAPHICS_SKIPAUTH: the user was authenticated by Kubernetes; no VNC password is set. */
    static final int SKIPAUTH = 1;
    private static final int SHUT_RDWR = 2;
    private static volatile LibC libc;

    private final int fd;
    private volatile boolean closed;
    private boolean freed;

    private GraphicsStream(int fd) {
        this.fd = fd;
    }

    private static LibC libc() {
        LibC l = libc;
        if (l == null) {
            synchronized (GraphicsStream.class) {
                if (libc == null) {
                    libc = Native.load("c", LibC.class);
                }
                l = libc;
            }
        }
        return l;
    }

    /** A VNC client connection to graphics device {@code index} of the running domain with this UUID. */
    static GraphicsStream open(String uri, String uuid, int index) throws IOException {
        CharDeviceStream.Api a = CharDeviceStream.api();
        Pointer conn = a.virConnectOpen(uri);
        if (conn == null) {
            throw new IOException("cannot connect to " + uri + ": " + a.virGetLastErrorMessage());
        }
        try {
            Pointer dom = a.virDomainLookupByUUIDString(conn, uuid);
            if (dom == null) {
                throw new IOException("no libvirt domain " + uuid + ": " + a.virGetLastErrorMessage());
            }
            try {
                int fd = a.virDomainOpenGraphicsFD(dom, index, SKIPAUTH);
                if (fd < 0) {
                    throw new IOException(a.virGetLastErrorMessage());
                }
                // The descriptor is ours and outlives the connection it was obtained on.
                return new GraphicsStream(fd);
            } finally {
                a.virDomainFree(dom);
            }
        } finally {
            a.virConnectClose(conn);
        }
    }

    @Override
    public int read(byte[] buf) throws IOException {
        long n = libc().read(fd, buf, new NativeLong(buf.length)).longValue();
        if (n == 0 || closed) {
            return -1;
        }
        if (n < 0) {
            throw new IOException("read from the VNC display failed (errno " + Native.getLastError() + ")");
        }
        return (int) n;
    }

    @Override
    public void write(byte[] buf, int len) throws IOException {
        int off = 0;
        while (off < len) {
            byte[] rest = off == 0 && len == buf.length ? buf : java.util.Arrays.copyOfRange(buf, off, len);
            long n = libc().write(fd, rest, new NativeLong(rest.length)).longValue();
            if (n < 0) {
                throw new IOException("write to the VNC display failed (errno " + Native.getLastError() + ")");
            }
            off += (int) n;
        }
    }

    /** shutdown(2) wakes a thread blocked in read(2) without freeing the descriptor under it. */
    @Override
    public void abort() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        libc().shutdown(fd, SHUT_RDWR);
    }

    @Override
    public synchronized void close() {
        abort();
        if (!freed) {
            freed = true;
            libc().close(fd);
        }
    }
}
