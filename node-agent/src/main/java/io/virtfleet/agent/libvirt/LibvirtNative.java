package io.virtfleet.agent.libvirt;

import com.sun.jna.Callback;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;
import org.libvirt.Error.ErrorNumber;

/**
 * The few libvirt C functions that libvirt-java 0.5.4 does not expose, bound with JNA. All of virtfleet's JNA is here.
 *
 * <ul>
 *   <li>{@code virDomainGetState}: state <em>and reason</em> (libvirt-java only has virDomainGetInfo, without reason)</li>
 *   <li>{@code virConnectDomainEventRegisterAny}/{@code DeregisterAny} for {@code VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED}
 *       (libvirt-java only has typed listeners for lifecycle, reboot, I/O error, block job, PM, agent)</li>
 *   <li>{@code virDomainDetachDeviceAlias}</li>
 *   <li>{@code virDomainShutdownFlags} (the guest agent or ACPI, chosen), {@code virDomainFSFreeze},
 *       {@code virDomainFSThaw}</li>
 *   <li>{@code virDomainLookupByUUIDString}, {@code virDomainGetUUIDString}, {@code virDomainFree}: to get a raw
 *       {@code virDomainPtr} for the above (libvirt-java keeps its own pointer package-private)</li>
 *   <li>{@code virGetLastErrorMessage}, {@code virGetLastErrorCode}: the message and code of a failed call above
 *       (as a {@link LibvirtCallException}, the type libvirt-java's errors are turned into too)</li>
 * </ul>
 *
 * <p>The event loop ({@code virEventRegisterDefaultImpl}/{@code virEventRunDefaultImpl}) and the lifecycle and
 * connection-close callbacks come from libvirt-java ({@code org.libvirt.Library}, {@code Connect}).
 */
public final class LibvirtNative {

    /** {@code VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED} (libvirt-java 0.5.4 keeps {@code Connect.DomainEventID} private). */
    static final int EVENT_ID_DEVICE_REMOVED = 15;
    private static final int VIR_UUID_STRING_BUFLEN = 37;

    /** Direct-ish mapping of the functions above. */
    interface Api extends Library {
        int virDomainGetState(Pointer domain, IntByReference state, IntByReference reason, int flags);

        Pointer virDomainLookupByUUIDString(Pointer conn, String uuid);

        int virDomainGetUUIDString(Pointer domain, byte[] buf);

        int virDomainFree(Pointer domain);

        int virDomainDetachDeviceAlias(Pointer domain, String alias, int flags);

        int virDomainShutdownFlags(Pointer domain, int flags);

        int virDomainFSFreeze(Pointer domain, Pointer mountpoints, int nmountpoints, int flags);

        int virDomainFSThaw(Pointer domain, Pointer mountpoints, int nmountpoints, int flags);

        int virConnectDomainEventRegisterAny(Pointer conn, Pointer domain, int eventId, Callback cb, Pointer opaque,
                                             Pointer freecb);

        int virConnectDomainEventDeregisterAny(Pointer conn, int callbackId);

        String virGetLastErrorMessage();

        int virGetLastErrorCode();
    }

    /** {@code void (*)(virConnectPtr, virDomainPtr, const char *devAlias, void *opaque)}. */
    public interface DeviceRemovedCallback extends Callback {
        void invoke(Pointer conn, Pointer domain, String devAlias, Pointer opaque);
    }

    /** A libvirt state with its reason code, as {@code virDomainGetState} reports them. */
    public record StateAndReason(int state, int reason) {
    }

    // "virt" resolves to libvirt.so.0 (Debian's libvirt0) via JNA's versioned-library search.
    private static final LazyLibrary<Api> API = new LazyLibrary<>("virt", Api.class);

    private LibvirtNative() {
    }

    private static Api api() {
        return API.get();
    }

    /** State and reason of the domain with this UUID. */
    public static StateAndReason state(Pointer conn, String uuid) throws LibvirtCallException {
        IntByReference state = new IntByReference();
        IntByReference reason = new IntByReference();
        onDomain(conn, uuid, "virDomainGetState(" + uuid + ")", dom -> api().virDomainGetState(dom, state, reason, 0));
        return new StateAndReason(state.getValue(), reason.getValue());
    }

    /** Detaches the device with this alias from the live domain and/or its persistent config. */
    public static void detachDeviceAlias(Pointer conn, String uuid, String alias, int flags)
            throws LibvirtCallException {
        onDomain(conn, uuid, "virDomainDetachDeviceAlias(" + uuid + ", " + alias + ")",
                dom -> api().virDomainDetachDeviceAlias(dom, alias, flags));
    }

    /** {@code VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN}. */
    public static final int SHUTDOWN_ACPI_POWER_BTN = 1;
    /** {@code VIR_DOMAIN_SHUTDOWN_GUEST_AGENT}. */
    public static final int SHUTDOWN_GUEST_AGENT = 2;

    /** Asks the guest to shut down by the methods in {@code flags} ({@code SHUTDOWN_*}). */
    public static void shutdown(Pointer conn, String uuid, int flags) throws LibvirtCallException {
        onDomain(conn, uuid, "virDomainShutdownFlags(" + uuid + ", " + flags + ")",
                dom -> api().virDomainShutdownFlags(dom, flags));
    }

    /** Freezes all the guest's filesystems through its agent; returns how many it froze. */
    public static int fsFreeze(Pointer conn, String uuid) throws LibvirtCallException {
        return onDomain(conn, uuid, "virDomainFSFreeze(" + uuid + ")", dom -> api().virDomainFSFreeze(dom, null, 0, 0));
    }

    /** Thaws all the guest's filesystems through its agent; returns how many it thawed. */
    public static int fsThaw(Pointer conn, String uuid) throws LibvirtCallException {
        return onDomain(conn, uuid, "virDomainFSThaw(" + uuid + ")", dom -> api().virDomainFSThaw(dom, null, 0, 0));
    }

    /** A libvirt call on a raw {@code virDomainPtr} that returns -1 on failure, as most of libvirt's do. */
    private interface DomainCall {
        int call(Pointer dom);
    }

    /**
     * Runs {@code c} on the domain with this UUID and frees the looked-up pointer afterwards (every
     * {@code virDomainLookupBy*} result holds a reference the caller must release with {@code virDomainFree});
     * returns the call's result, or throws libvirt's last error named {@code what} when it is negative.
     */
    private static int onDomain(Pointer conn, String uuid, String what, DomainCall c) throws LibvirtCallException {
        Pointer dom = lookup(conn, uuid);
        try {
            int n = c.call(dom);
            if (n < 0) {
                throw lastError(what);
            }
            return n;
        } finally {
            api().virDomainFree(dom);
        }
    }

    /** Registers a connection-wide DEVICE_REMOVED callback; returns the callback id. Keep {@code cb} reachable! */
    public static int registerDeviceRemoved(Pointer conn, DeviceRemovedCallback cb) throws LibvirtCallException {
        int id = api().virConnectDomainEventRegisterAny(conn, null, EVENT_ID_DEVICE_REMOVED, cb, null,
                null);
        if (id < 0) {
            throw lastError("virConnectDomainEventRegisterAny(DEVICE_REMOVED)");
        }
        return id;
    }

    public static void deregisterEvent(Pointer conn, int callbackId) throws LibvirtCallException {
        if (api().virConnectDomainEventDeregisterAny(conn, callbackId) < 0) {
            throw lastError("virConnectDomainEventDeregisterAny(" + callbackId + ")");
        }
    }

    /** UUID string of a domain pointer handed to a callback (no RPC: the UUID is cached in the object). */
    public static String uuidOf(Pointer domain) {
        byte[] buf = new byte[VIR_UUID_STRING_BUFLEN];
        if (api().virDomainGetUUIDString(domain, buf) < 0) {
            return null;
        }
        return Native.toString(buf);
    }

    private static Pointer lookup(Pointer conn, String uuid) throws LibvirtCallException {
        Pointer dom = api().virDomainLookupByUUIDString(conn, uuid);
        if (dom == null) {
            throw lastError("virDomainLookupByUUIDString(" + uuid + ")");
        }
        return dom;
    }

    private static LibvirtCallException lastError(String call) {
        String msg = api().virGetLastErrorMessage();
        int code = api().virGetLastErrorCode();
        ErrorNumber[] numbers = ErrorNumber.values();
        return new LibvirtCallException(call + " failed: " + (msg == null ? "unknown libvirt error" : msg),
                code > 0 && code < numbers.length ? numbers[code] : null, null);
    }
}
