package io.virtfleet.agent.libvirt;

import org.libvirt.Connect;
import org.libvirt.Library;
import org.libvirt.LibvirtException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * libvirt's default event loop, once per JVM: {@code virEventRegisterDefaultImpl} (libvirt-java's
 * {@link Library#initEventLoop()}) and a daemon thread calling {@code virEventRunDefaultImpl} forever. It must be
 * registered before the first connection is opened, or that connection never delivers events (nor keepalives).
 *
 * <p>It is never stopped: libvirt has no way to unregister the implementation, and several agents (tests) may share
 * the JVM. Callbacks run on this thread and must only enqueue work.
 */
public final class EventLoop {
    private static final Logger LOG = LoggerFactory.getLogger(EventLoop.class);
    /** Held strongly: JNA frees the native trampoline of a collected callback. */
    private static final org.libvirt.jna.Libvirt.VirErrorCallback SILENT_ERRORS = (userData, error) -> {
    };
    private static Thread thread;

    private EventLoop() {
    }

    /** Registers the default event implementation and starts its thread, if not done yet. */
    public static synchronized void ensureRunning() throws LibvirtException {
        if (thread != null) {
            return;
        }
        // Silence libvirt's default error printer (stderr): every error reaches us as an exception with its message.
        Connect.setErrorCallback(SILENT_ERRORS);
        Library.initEventLoop();
        Thread t = new Thread(EventLoop::run, "libvirt-event-loop");
        t.setDaemon(true);
        t.start();
        thread = t;
        LOG.info("libvirt event loop started (libvirt {})", versionString(Library.getVersion()));
    }

    private static void run() {
        while (true) {
            try {
                Library.runEventLoop();
            } catch (InterruptedException e) {
                LOG.warn("libvirt event loop interrupted; continuing (it serves every connection of this JVM)");
            } catch (LibvirtException | RuntimeException e) {
                LOG.error("libvirt event loop iteration failed: {}; continuing", e.getMessage(), e);
                try {
                    Thread.sleep(100);
                } catch (InterruptedException ie) {
                    // keep serving: see above
                }
            }
        }
    }

    /** libvirt's version encoding: major * 1,000,000 + minor * 1,000 + release. */
    public static String versionString(long v) {
        return (v / 1_000_000) + "." + (v / 1_000 % 1_000) + "." + (v % 1_000);
    }
}
