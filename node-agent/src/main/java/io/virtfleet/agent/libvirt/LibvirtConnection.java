package io.virtfleet.agent.libvirt;

import com.sun.jna.Pointer;
import io.virtfleet.agent.AgentMetrics;
import org.libvirt.Connect;
import org.libvirt.Domain;
import org.libvirt.Error.ErrorNumber;
import org.libvirt.LibvirtException;
import org.libvirt.NodeInfo;
import org.libvirt.event.ConnectionCloseListener;
import org.libvirt.event.LifecycleListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * One read-write connection to libvirtd (e.g. {@code qemu:///system}) that survives libvirtd restarts: a close
 * callback (EOF, keepalive timeout) or a failed call on a dead connection triggers reconnects with exponential backoff;
 * each new connection re-registers the lifecycle and device-removed callbacks and tells the {@link Listener}.
 *
 * <p>Every domain operation is keyed by UUID. libvirt's messages are kept in the exceptions.
 *
 * <p>A connection is closed only when no call runs on it. libvirt's public API takes no reference on the
 * {@code virConnectPtr} a call is given, and {@code virConnectClose} drops one: when that is the last, the driver's
 * close frees the connection's state (the remote driver's client and socket) while another thread may still be inside
 * a call on it — a use after free in native code that kills the JVM. So every call is counted on the connection it
 * runs on ({@link Held}); a reconnect <em>retires</em> the old connection (no call starts on it any more) and the last
 * call out closes it; {@link #close()} retires the current one and waits, bounded, until every connection is closed.
 */
public final class LibvirtConnection implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LibvirtConnection.class);

    /*
     * Flags libvirt-java has are used from it (Domain.XMLFlags, Domain.CreateFlags, Domain.UndefineFlags, ...); these
     * three virDomainUndefineFlagsValues are not in libvirt-java 0.5.4's Domain.UndefineFlags.
     */
    /** {@code VIR_DOMAIN_UNDEFINE_NVRAM}. */
    public static final int UNDEFINE_NVRAM = 4;
    /** {@code VIR_DOMAIN_UNDEFINE_KEEP_NVRAM}. */
    public static final int UNDEFINE_KEEP_NVRAM = 8;
    /** {@code VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA}. */
    public static final int UNDEFINE_CHECKPOINTS_METADATA = 16;

    private static final Duration MIN_BACKOFF = Duration.ofMillis(250);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(10);
    /** How long {@link #close()} waits for calls still running; after that their last one closes the connection. */
    static final Duration CLOSE_WAIT = Duration.ofSeconds(10);

    /** What the connection tells its owner. Called from the libvirt event loop or the reconnect thread: be quick. */
    public interface Listener {
        /** A lifecycle or device event for the domain with this UUID. */
        void domainEvent(String uuid, String event);

        /** A (re)connection succeeded; events are registered. Everything should be resynced. */
        void connected();

        /** The connection broke; calls fail until {@link #connected()}. */
        void disconnected(String reason);
    }

    /** A libvirt call on the current connection. */
    @FunctionalInterface
    public interface Call<T> {
        T apply(Connect conn) throws LibvirtException, LibvirtCallException;

    }

    /** Raised when there is no usable connection right now (libvirtd down, reconnecting). */
    public static final class UnavailableException extends Exception {
        public UnavailableException(String message) {
            super(message);
        }
    }

    private final String uri;
    private final Listener listener;
    private final ScheduledExecutorService scheduler;
    private final AgentMetrics metrics;
    private final Duration closeWait;
    private final Object lock = new Object();
    /** The connection new calls run on; null while disconnected. Guarded by {@code lock}, like every field below. */
    private Held current;
    /** Every connection not closed yet: the current one and retired ones with calls still running on them. */
    private final Set<Held> open = new HashSet<>();
    private boolean reconnectScheduled;
    private boolean closed;
    private Duration backoff = MIN_BACKOFF;
    private String lastError = "not connected yet";
    private long lastConnectWarning;
    private long generation;

    // Held strongly for as long as they are registered (JNA / libvirt-java keep native trampolines to them).
    private final LifecycleListener lifecycleListener = this::onLifecycle;
    private final ConnectionCloseListener closeListener = this::onClose;
    private final org.libvirt.event.AgentLifecycleListener agentListener = this::onAgentLifecycle;
    private final LibvirtNative.DeviceRemovedCallback deviceRemoved = this::onDeviceRemoved;

    public LibvirtConnection(String uri, Listener listener, ScheduledExecutorService scheduler) {
        this(uri, listener, scheduler, new AgentMetrics());
    }

    /** A connection whose calls are timed in {@code metrics} ({@code virtfleet_agent_libvirt_call_seconds}). */
    public LibvirtConnection(String uri, Listener listener, ScheduledExecutorService scheduler, AgentMetrics metrics) {
        this(uri, listener, scheduler, metrics, CLOSE_WAIT);
    }

    /** {@code closeWait}: how long {@link #close()} waits for the calls still running. */
    LibvirtConnection(String uri, Listener listener, ScheduledExecutorService scheduler, AgentMetrics metrics,
            Duration closeWait) {
        this.uri = uri;
        this.listener = listener;
        this.scheduler = scheduler;
        this.metrics = metrics;
        this.closeWait = closeWait;
    }

    /**
     * One libvirt connection and the calls running on it (all fields guarded by the owner's {@code lock}). Once
     * {@code retired} no call starts on it; it is closed exactly once ({@code closing}), by whoever sees it retired
     * with no call in flight: the reconnect or {@link #close()} that retires it, or the last call out.
     */
    private static final class Held {
        final AgentConnect conn;
        final int deviceRemovedCallbackId;
        final long generation;
        int inFlight;
        boolean retired;
        boolean closing;

        Held(AgentConnect conn, int deviceRemovedCallbackId, long generation) {
            this.conn = conn;
            this.deviceRemovedCallbackId = deviceRemovedCallbackId;
            this.generation = generation;
        }
    }

    /** The agent's meters (hot-plug and genid code count their operations here). */
    public AgentMetrics metrics() {
        return metrics;
    }

    public String uri() {
        return uri;
    }

    /** Connects now if possible; otherwise logs why and keeps retrying in the background. */
    public void start() {
        if (!tryConnect()) {
            scheduleReconnect();
        }
    }

    public boolean isConnected() {
        synchronized (lock) {
            return current != null;
        }
    }

    /** How many times a connection was established (1 after the first connect; +1 per reconnect). */
    public long connections() {
        synchronized (lock) {
            return generation;
        }
    }

    /** Why the connection is not usable (the last connect error). */
    public String lastError() {
        synchronized (lock) {
            return lastError;
        }
    }

    /** Runs {@code call} on the current connection; a failure on a dead connection starts reconnecting. */
    public <T> T call(Call<T> call) throws UnavailableException, LibvirtCallException {
        return call("other", call);
    }

    /**
     * {@link #call(Call)}, timed as libvirt operation {@code op} ({@code virtfleet_agent_libvirt_call_seconds{op}}).
     */
    public <T> T call(String op, Call<T> call) throws UnavailableException, LibvirtCallException {
        Held h;
        synchronized (lock) {
            if (closed) {
                throw new UnavailableException("libvirt connection " + uri + " is closed");
            }
            h = current;
            if (h == null) {
                throw new UnavailableException("not connected to libvirtd at " + uri + ": " + lastError);
            }
            h.inFlight++; // from here until release(h) nobody closes h
        }
        long t0 = System.nanoTime();
        String result = AgentMetrics.ERROR;
        try {
            T r = call.apply(h.conn);
            result = AgentMetrics.OK;
            return r;
        } catch (LibvirtException e) {
            if (looksLikeConnectionFailure(e) && !alive(h.conn)) {
                connectionBroke(h.generation, "call failed on a dead connection: " + e.getMessage());
                throw new UnavailableException("lost the connection to libvirtd at " + uri + ": " + e.getMessage());
            }
            throw LibvirtCallException.of(e);
        } finally {
            metrics.libvirtCall(op, result).record(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
            release(h);
        }
    }

    /** A call on {@code h} returned; the last call out of a retired connection closes it (on this thread). */
    private void release(Held h) {
        boolean closeNow;
        synchronized (lock) {
            h.inFlight--;
            closeNow = h.retired && h.inFlight == 0 && !h.closing;
            if (closeNow) {
                h.closing = true;
            }
        }
        if (closeNow) {
            closeHeld(h);
        }
    }

    /**
     * No call starts on {@code h} any more (the caller has already taken it out of {@code current}); true when nothing
     * runs on it either, so the caller must close it now. Holds {@code lock}.
     */
    private static boolean retire(Held h) {
        h.retired = true;
        if (h.inFlight == 0 && !h.closing) {
            h.closing = true;
            return true;
        }
        return false;
    }

    /** A lifecycle action: timed like any call and counted in {@code virtfleet_agent_lifecycle_actions_total}. */
    private <T> T lifecycle(String action, Call<T> call) throws UnavailableException, LibvirtCallException {
        String result = AgentMetrics.ERROR;
        try {
            T r = call(action, call);
            result = AgentMetrics.OK;
            return r;
        } finally {
            metrics.lifecycle(action, result);
        }
    }

    // ------------------------------------------------------------------------------------------------ domain calls

    /** A call on one domain object. */
    @FunctionalInterface
    private interface DomainCall<T> {
        T apply(Domain d) throws LibvirtException, LibvirtCallException;
    }

    /** Closes by freeing a domain object (for try-with-resources over a listing's objects). */
    @FunctionalInterface
    private interface Freed extends AutoCloseable {
        @Override
        void close();
    }

    /** Looks the domain up by UUID, calls {@code f} on it, and frees the object whatever the outcome. */
    private static <T> T onDomain(Connect c, String uuid, DomainCall<T> f) throws LibvirtException,
            LibvirtCallException {
        Domain d = c.domainLookupByUUIDString(uuid);
        try {
            return f.apply(d);
        } finally {
            free(d);
        }
    }

    /**
     * Drops this process's reference to a domain object now (virDomainFree) rather than in its finalizer: each
     * lookup, listing entry and event callback hands out a new virDomainPtr holding a reference on the connection,
     * and a finalizer runs only once the collector has found the object unreachable — for objects in the old
     * generation that can be hours on an agent with a quiet heap, all the while keeping their native memory.
     * libvirt-java's free() is idempotent (its finalizer then does nothing).
     */
    private static void free(Domain d) {
        if (d == null) {
            return;
        }
        try {
            d.free();
        } catch (LibvirtException | RuntimeException e) {
            LOG.debug("virDomainFree: {}", e.getMessage());
        }
    }

    /** The domain with this UUID, or empty when libvirt has none. */
    public Optional<InspectedDomain> inspect(String uuid) throws UnavailableException, LibvirtCallException {
        return call("inspect", c -> {
            Domain d;
            try {
                d = c.domainLookupByUUIDString(uuid);
            } catch (LibvirtException e) {
                if (isNoDomain(e)) {
                    return Optional.empty();
                }
                throw e;
            }
            try {
                return Optional.of(read(c, d, uuid));
            } catch (LibvirtException e) {
                if (isNoDomain(e)) {
                    return Optional.empty();
                }
                throw e;
            } finally {
                free(d);
            }
        });
    }

    /** Every domain libvirt knows (active and inactive), read like {@link #inspect}; vanished ones are skipped. */
    public List<InspectedDomain> listAll() throws UnavailableException, LibvirtCallException {
        return call("list", c -> {
            List<InspectedDomain> out = new ArrayList<>();
            for (Domain d : c.listAllDomains(0)) {
                try (Freed freed = () -> free(d)) {
                    if (d.getID() == 0) {
                        continue; // Xen's control domain: see InspectedDomain.isControlDomain
                    }
                    out.add(read(c, d, d.getUUIDString().toLowerCase(Locale.ROOT)));
                } catch (LibvirtException e) {
                    if (!isNoDomain(e)) {
                        throw e;
                    }
                } catch (LibvirtCallException e) {
                    // The state is read through libvirt's C API by UUID: a domain undefined since the listing is
                    // VIR_ERR_NO_DOMAIN there too, and is skipped like above.
                    if (!e.isNoDomain()) {
                        throw e;
                    }
                }
            }
            return out;
        });
    }

    private static InspectedDomain read(Connect c, Domain d, String uuid) throws LibvirtException,
            LibvirtCallException {
        LibvirtNative.StateAndReason sr = LibvirtNative.state(ptr(c), uuid);
        boolean active = d.isActive() == 1;
        boolean persistent = d.isPersistent() == 1;
        String live = d.getXMLDesc(0);
        String inactive = persistent ? d.getXMLDesc(Domain.XMLFlags.INACTIVE) : null;
        return InspectedDomain.observed(uuid, d.getName(), d.getID(), sr.state(), sr.reason(), active, persistent,
                live, inactive);
    }

    /** Defines (or redefines: persistent config only, when running) a domain; returns its UUID. */
    public String define(String xml) throws UnavailableException, LibvirtCallException {
        return lifecycle("define", c -> {
            Domain d = c.domainDefineXML(xml);
            try {
                return d.getUUIDString().toLowerCase(Locale.ROOT);
            } finally {
                free(d);
            }
        });
    }

    public void start(String uuid, boolean paused) throws UnavailableException, LibvirtCallException {
        lifecycle("start", c -> onDomain(c, uuid, d -> d.create(paused ? Domain.CreateFlags.PAUSED
                : Domain.CreateFlags.NONE)));
    }

    /** Asks the guest to shut down the hypervisor driver's default way; returns at once. */
    public void shutdown(String uuid) throws UnavailableException, LibvirtCallException {
        shutdown(uuid, false);
    }

    /**
     * Asks the guest to shut down; returns at once. With {@code guestAgent} (its channel is connected) through the
     * guest agent ({@code guest-shutdown}: the guest's own orderly shutdown, also for guests that ignore ACPI) with
     * the ACPI power button as fallback: libvirt's QEMU driver tries the agent first and, when both flags are given
     * and the agent fails, presses the button. Without, flags 0: the driver's default (QEMU: the ACPI power button when
     * no agent answers; libxl: a PV shutdown request; the test and OpenVZ drivers accept no flags at all).
     */
    public void shutdown(String uuid, boolean guestAgent) throws UnavailableException, LibvirtCallException {
        int flags = guestAgent ? LibvirtNative.SHUTDOWN_GUEST_AGENT | LibvirtNative.SHUTDOWN_ACPI_POWER_BTN : 0;
        lifecycle("shutdown", c -> {
            LibvirtNative.shutdown(ptr(c), uuid, flags);
            return null;
        });
    }

    /** Freezes the guest's filesystems through its agent (virDomainFSFreeze); the number frozen. */
    public int fsFreeze(String uuid) throws UnavailableException, LibvirtCallException {
        return call("fsfreeze", c -> LibvirtNative.fsFreeze(ptr(c), uuid));
    }

    /** Thaws the guest's filesystems through its agent (virDomainFSThaw); the number thawed. */
    public int fsThaw(String uuid) throws UnavailableException, LibvirtCallException {
        return call("fsthaw", c -> LibvirtNative.fsThaw(ptr(c), uuid));
    }

    /** Kills the domain's process (SIGTERM, then SIGKILL). */
    public void destroy(String uuid) throws UnavailableException, LibvirtCallException {
        lifecycle("destroy", c -> {
            return onDomain(c, uuid, d -> {
                d.destroy();
                return null;
            });
        });
    }

    public void suspend(String uuid) throws UnavailableException, LibvirtCallException {
        lifecycle("suspend", c -> {
            return onDomain(c, uuid, d -> {
                d.suspend();
                return null;
            });
        });
    }

    public void resume(String uuid) throws UnavailableException, LibvirtCallException {
        lifecycle("resume", c -> {
            return onDomain(c, uuid, d -> {
                d.resume();
                return null;
            });
        });
    }

    public void undefine(String uuid, int flags) throws UnavailableException, LibvirtCallException {
        lifecycle("undefine", c -> onDomain(c, uuid, d -> undefine(d, flags)));
    }

    private static Void undefine(Domain d, int flags) throws LibvirtException {
        try {
            d.undefine(flags);
            return null;
        } catch (LibvirtException e) {
            // libvirt's libxl driver accepts only VIR_DOMAIN_UNDEFINE_MANAGED_SAVE ("unsupported flags (0x16) in
            // function libxlDomainUndefineFlags"): it keeps no snapshot or checkpoint metadata and no NVRAM to
            // remove, so the same undefine without those flags is the whole job there.
            int basic = flags & Domain.UndefineFlags.MANAGED_SAVE;
            if (e.getError() == null || e.getError().getCode() != ErrorNumber.VIR_ERR_INVALID_ARG
                    || basic == flags) {
                throw e;
            }
            d.undefine(basic);
            return null;
        }
    }

    /** Detaches a device by its alias (live and/or config, {@code Domain.DeviceModifyFlags}). */
    public void detachDeviceAlias(String uuid, String alias, int flags) throws UnavailableException,
            LibvirtCallException {
        call("detach", c -> {
            LibvirtNative.detachDeviceAlias(ptr(c), uuid, alias, flags);
            return null;
        });
    }

    /** Detaches one device described by its own XML (drivers without detach by alias: libxl). */
    public void detachDevice(String uuid, String xml, int flags) throws UnavailableException, LibvirtCallException {
        call("detach", c -> {
            return onDomain(c, uuid, d -> {
                d.detachDeviceFlags(xml, flags);
                return null;
            });
        });
    }

    /** Attaches one device described by its own XML ({@code Domain.DeviceModifyFlags} LIVE and/or CONFIG). */
    public void attachDevice(String uuid, String xml, int flags) throws UnavailableException, LibvirtCallException {
        call("attach", c -> {
            return onDomain(c, uuid, d -> {
                d.attachDeviceFlags(xml, flags);
                return null;
            });
        });
    }

    /** Changes one device in place (a cdrom's media), described by its own XML. */
    public void updateDevice(String uuid, String xml, int flags) throws UnavailableException, LibvirtCallException {
        call("update", c -> onDomain(c, uuid, d -> d.updateDeviceFlags(xml, flags)));
    }

    public String capabilities() throws UnavailableException, LibvirtCallException {
        return call("capabilities", Connect::getCapabilities);
    }

    public NodeInfo nodeInfo() throws UnavailableException, LibvirtCallException {
        return call("nodeinfo", Connect::nodeInfo);
    }

    /** libvirt library version (of the daemon's side: {@code virConnectGetLibVersion}). */
    public long libVersion() throws UnavailableException, LibvirtCallException {
        return call("version", Connect::getLibVersion);
    }

    /** Hypervisor version ({@code virConnectGetVersion}): QEMU's for qemu:///system. */
    public long hypervisorVersion() throws UnavailableException, LibvirtCallException {
        return call("version", Connect::getVersion);
    }

    public static boolean isNoDomain(LibvirtException e) {
        return e.getError() != null && e.getError().getCode() == ErrorNumber.VIR_ERR_NO_DOMAIN;
    }

    /** libvirt's error code name and message, e.g. {@code VIR_ERR_OPERATION_INVALID: requested operation is ...}. */
    public static String describe(LibvirtException e) {
        if (e.getError() == null) {
            return String.valueOf(e.getMessage());
        }
        return e.getError().getMessage();
    }

    // ---------------------------------------------------------------------------------------------- connection life

    private boolean tryConnect() {
        AgentConnect c = null;
        try {
            EventLoop.ensureRunning();
            c = new AgentConnect(uri);
            if (!inProcess(uri)) {
                // Detect a dead libvirtd within ~15 s even when idle (needs the event loop). The embedded driver runs
                // in this process: no daemon to lose, and it supports neither keepalive nor close callbacks (failing
                // here would reopen it, which libvirt 9.0 refuses: "Too many drivers"). Nor does libvirt's test
                // driver (test:///default), which also lives in this process.
                c.setKeepAlive(5, 3);
                c.registerCloseListener(closeListener);
            }
            c.addLifecycleListener(lifecycleListener);
            addAgentListener(c);
            int devId = LibvirtNative.registerDeviceRemoved(c.pointer(), deviceRemoved);
            boolean lateForClose;
            synchronized (lock) {
                lateForClose = closed;
                if (!lateForClose) {
                    generation++;
                    current = new Held(c, devId, generation);
                    open.add(current);
                    backoff = MIN_BACKOFF;
                    lastError = null;
                }
            }
            if (lateForClose) {
                closeQuietly(c, devId);
                return true;
            }
            LOG.info("connected to libvirtd at {} (libvirt {}, hypervisor {})", uri,
                    EventLoop.versionString(c.getLibVersion()), EventLoop.versionString(c.getVersion()));
            listener.connected();
            return true;
        } catch (LibvirtException | LibvirtCallException | RuntimeException e) {
            String msg = e instanceof LibvirtException le ? describe(le) : e.getMessage();
            boolean loud;
            synchronized (lock) {
                long now = System.nanoTime();
                loud = !msg.equals(lastError) || now - lastConnectWarning > 60_000_000_000L;
                if (loud) {
                    lastConnectWarning = now;
                }
                lastError = msg;
            }
            if (loud) {
                LOG.warn("cannot connect to libvirtd at {}: {} (is libvirtd running? scripts/install-libvirt starts "
                        + "it); retrying with backoff up to {} s", uri, msg, MAX_BACKOFF.toSeconds());
            } else {
                LOG.debug("cannot connect to libvirtd at {}: {}", uri, msg);
            }
            if (c != null) {
                closeQuietly(c, -1);
            }
            return false;
        }
    }

    private void scheduleReconnect() {
        Duration delay;
        synchronized (lock) {
            if (closed || reconnectScheduled) {
                return;
            }
            reconnectScheduled = true;
            delay = backoff;
            Duration next = backoff.multipliedBy(2);
            backoff = next.compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : next;
        }
        scheduler.schedule(() -> {
            synchronized (lock) {
                reconnectScheduled = false;
                if (closed || current != null) {
                    return;
                }
            }
            if (!tryConnect()) {
                scheduleReconnect();
            }
        }, delay.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Retires the connection of generation {@code gen} (if it is still the current one) and reconnects: calls running
     * on it finish there, and the last of them closes it; new calls wait for the next connection.
     */
    private void connectionBroke(long gen, String reason) {
        Held old;
        boolean closeNow;
        int running;
        synchronized (lock) {
            if (current == null || current.generation != gen) {
                return; // already handled
            }
            old = current;
            current = null;
            lastError = reason;
            closeNow = retire(old);
            running = old.inFlight;
        }
        LOG.error("lost the connection to libvirtd at {}: {}; reconnecting{}", uri, reason,
                running == 0 ? "" : " (the old connection is closed when its " + running + " running call(s) return)");
        listener.disconnected(reason);
        if (closeNow) {
            // Closing may block on a dead socket briefly; do it off the event loop thread (the close callback's).
            try {
                scheduler.execute(() -> closeHeld(old));
            } catch (RejectedExecutionException e) {
                closeHeld(old);
            }
        }
        scheduleReconnect();
    }

    /**
     * What libvirt's close callback does (a keepalive timeout, EOF): retire the current connection and reconnect. For
     * tests on drivers without a close callback (libvirt's test driver).
     */
    void dropConnection(String reason) {
        long gen;
        synchronized (lock) {
            if (current == null) {
                return;
            }
            gen = current.generation;
        }
        connectionBroke(gen, reason);
    }

    private void onClose(Connect c, org.libvirt.event.ConnectionCloseReason reason) {
        long gen;
        synchronized (lock) {
            if (current == null || current.conn != c) {
                return; // an old connection, or our own close()
            }
            gen = current.generation;
        }
        connectionBroke(gen, "connection closed by libvirt (" + reason + ")");
    }

    private int onLifecycle(Domain d, org.libvirt.event.DomainEvent event) {
        try {
            listener.domainEvent(d.getUUIDString().toLowerCase(Locale.ROOT), event.toString());
        } catch (LibvirtException | RuntimeException e) {
            LOG.warn("cannot handle libvirt lifecycle event {}: {}", event, e.getMessage(), e);
        } finally {
            free(d); // libvirt-java took a reference for this callback (virDomainRef)
        }
        return 0;
    }

    /**
     * VIR_DOMAIN_EVENT_ID_AGENT_LIFECYCLE: libvirt saw the guest open or close the guest agent's virtio-serial port,
     * so the domain's next pass sees the new channel state and asks (or stops asking) its agent at once. Without this
     * event (a driver that does not offer it) the periodic resync notices the change.
     */
    private void addAgentListener(Connect c) {
        try {
            c.addAgentLifecycleListener(agentListener);
        } catch (LibvirtException | RuntimeException e) {
            LOG.debug("no guest agent lifecycle events from {}: {}", uri, e.getMessage());
        }
    }

    private void onAgentLifecycle(Domain d, int state, int reason) {
        try {
            // state: VIR_CONNECT_DOMAIN_EVENT_AGENT_LIFECYCLE_STATE_CONNECTED = 1, _DISCONNECTED = 2
            listener.domainEvent(d.getUUIDString().toLowerCase(Locale.ROOT),
                    "GuestAgent" + (state == 1 ? "Connected" : "Disconnected"));
        } catch (LibvirtException | RuntimeException e) {
            LOG.warn("cannot handle libvirt guest agent event: {}", e.getMessage(), e);
        } finally {
            free(d);
        }
    }

    private void onDeviceRemoved(Pointer c, Pointer domain, String alias, Pointer opaque) {
        try {
            String uuid = LibvirtNative.uuidOf(domain);
            if (uuid != null) {
                listener.domainEvent(uuid.toLowerCase(Locale.ROOT), "DeviceRemoved " + alias);
            }
        } catch (RuntimeException e) {
            LOG.warn("cannot handle libvirt device-removed event for {}: {}", alias, e.getMessage(), e);
        }
    }

    private static boolean looksLikeConnectionFailure(LibvirtException e) {
        if (e.getError() == null) {
            return true;
        }
        ErrorNumber code = e.getError().getCode();
        return code == ErrorNumber.VIR_ERR_SYSTEM_ERROR || code == ErrorNumber.VIR_ERR_RPC
                || code == ErrorNumber.VIR_ERR_NO_CONNECT || code == ErrorNumber.VIR_ERR_INTERNAL_ERROR
                || code == ErrorNumber.VIR_ERR_OPERATION_TIMEOUT || code == ErrorNumber.VIR_ERR_INVALID_CONN;
    }

    private static boolean alive(Connect c) {
        try {
            return c.isAlive();
        } catch (LibvirtException e) {
            return false;
        }
    }

    /** Closes a retired connection nothing runs on any more (exactly once: see {@link Held}). */
    private void closeHeld(Held h) {
        try {
            closeQuietly(h.conn, h.deviceRemovedCallbackId);
        } finally {
            synchronized (lock) {
                open.remove(h);
                lock.notifyAll();
            }
        }
    }

    private void closeQuietly(AgentConnect c, int devId) {
        try {
            if (devId >= 0) {
                try {
                    LibvirtNative.deregisterEvent(c.pointer(), devId);
                } catch (LibvirtCallException e) {
                    LOG.debug("deregistering the device-removed callback: {}", e.getMessage());
                }
            }
            try {
                c.removeAgentLifecycleListener(agentListener);
            } catch (LibvirtException | RuntimeException e) {
                LOG.debug("removing the guest agent listener: {}", e.getMessage());
            }
            try {
                c.removeLifecycleListener(lifecycleListener);
            } catch (LibvirtException e) {
                LOG.debug("removing the lifecycle listener: {}", describe(e));
            }
            try {
                c.unregisterCloseListener();
            } catch (LibvirtException e) {
                LOG.debug("unregistering the close listener: {}", describe(e));
            }
            c.close();
        } catch (LibvirtException | RuntimeException e) {
            LOG.debug("closing the old libvirt connection: {}", e.getMessage());
        }
    }

    /**
     * Refuses new calls, retires the current connection and waits up to {@code closeWait} until every connection is
     * closed (calls still running on one close it when they return). After the wait, a call still running keeps its
     * connection open until it returns: a leak until then, never a close under a running call.
     */
    @Override
    public void close() {
        Held c;
        boolean closeNow;
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            c = current;
            current = null;
            closeNow = c != null && retire(c);
        }
        if (closeNow) {
            closeHeld(c);
        }
        int left;
        boolean allClosed;
        synchronized (lock) {
            long deadline = System.nanoTime() + closeWait.toNanos();
            long waitNanos;
            while (!open.isEmpty() && (waitNanos = deadline - System.nanoTime()) > 0) {
                try {
                    TimeUnit.NANOSECONDS.timedWait(lock, waitNanos);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            left = open.stream().mapToInt(h -> h.inFlight).sum();
            allClosed = open.isEmpty();
        }
        if (!allClosed) {
            LOG.warn("closing the connection to libvirtd at {}: not done after {} ms, {} call(s) still running (the "
                    + "last of them closes its connection)", uri, closeWait.toMillis(), left);
        } else if (c != null) {
            LOG.info("closed the connection to libvirtd at {}", uri);
        }
    }

    /**
     * A driver inside this process, without a daemon: QEMU's embedded driver ({@code qemu:///embed?root=...}) and
     * libvirt's test driver ({@code test:///default}, a mock hypervisor libvirt keeps in memory).
     */
    static boolean inProcess(String uri) {
        return uri.startsWith("qemu:///embed") || uri.startsWith("test:");
    }

    private static Pointer ptr(Connect c) {
        return ((AgentConnect) c).pointer();
    }

    /** libvirt-java's {@link Connect} with access to its native pointer, for {@link LibvirtNative}. */
    static final class AgentConnect extends Connect {
        AgentConnect(String uri) throws LibvirtException {
            super(uri);
        }

        Pointer pointer() {
            return vcp.getPointer();
        }
    }
}
