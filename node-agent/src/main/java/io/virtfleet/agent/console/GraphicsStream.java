package io.virtfleet.agent.console;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import com.sun.jna.Pointer;
import io.virtfleet.agent.libvirt.LazyLibrary;

import java.io.IOException;

/**
 * A new client connection to a running domain's VNC server, made by libvirt itself: {@code virDomainOpenGraphicsFD}
 * has QEMU accept one end of a socket pair as a VNC client (QMP {@code add_client}) and hands the other end to the
 * caller. The display therefore needs no listening address at all, and the agent no access to QEMU's socket: the fd
 * is read and written with libc through JNA (the JDK cannot wrap a raw descriptor).
 */
final class GraphicsStream extends NativeStream {
    interface LibC extends Library {
        NativeLong read(int fd, byte[] buf, NativeLong count);

        NativeLong write(int fd, byte[] buf, NativeLong count);

        int shutdown(int fd, int how);

        int close(int fd);
    }

    /** VIR_DOMAIN_OPEN_GRAPHICS_SKIPAUTH: the user was authenticated by Kubernetes; no VNC password is set. */
    static final int SKIPAUTH = 1;
    private static final int SHUT_RDWR = 2;
    private static final LazyLibrary<LibC> LIBC = new LazyLibrary<>("c", LibC.class);

    private final int fd;
    private boolean freed;

    private GraphicsStream(int fd) {
        this.fd = fd;
    }

    private static LibC libc() {
        return LIBC.get();
    }

    /** A VNC client connection to graphics device {@code index} of the running domain with this UUID. */
    static GraphicsStream open(String uri, String uuid, int index) throws IOException {
        CharDeviceStream.Api a = CharDeviceStream.api();
        Pointer conn = CharDeviceStream.connect(a, uri);
        try {
            Pointer dom = CharDeviceStream.lookup(a, conn, uuid);
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
    long receive(byte[] buf) {
        return libc().read(fd, buf, new NativeLong(buf.length)).longValue();
    }

    @Override
    long send(byte[] data) {
        return libc().write(fd, data, new NativeLong(data.length)).longValue();
    }

    @Override
    IOException receiveFailed() {
        return new IOException("read from the VNC display failed (errno " + Native.getLastError() + ")");
    }

    @Override
    IOException sendFailed() {
        return new IOException("write to the VNC display failed (errno " + Native.getLastError() + ")");
    }

    /** shutdown(2) wakes a thread blocked in read(2) without freeing the descriptor under it. */
    @Override
    void wake() {
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
