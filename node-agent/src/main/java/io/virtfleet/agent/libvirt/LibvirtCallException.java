package io.virtfleet.agent.libvirt;

import org.libvirt.Error.ErrorNumber;
import org.libvirt.LibvirtException;

/**
 * The agent's one type for a libvirt call that failed: libvirt-java's {@link LibvirtException} and a failed JNA call
 * of {@link LibvirtNative} both arrive as this, from {@link LibvirtConnection#call}, with libvirt's message and, when
 * libvirt gave one, its error code ({@code virErrorNumber}). Code inside a {@link LibvirtConnection.Call} still sees
 * libvirt-java's exception; code outside handles only this one. (No usable connection at all is
 * {@link LibvirtConnection.UnavailableException}: retried, never reported as the call's outcome.)
 */
public final class LibvirtCallException extends Exception {
    private final transient ErrorNumber code;

    public LibvirtCallException(String message) {
        this(message, null, null);
    }

    public LibvirtCallException(String message, ErrorNumber code, Throwable cause) {
        // libvirt's messages may end in a newline (e.g. QEMU's monitor or qemu-img output passed through): it would
        // end up in a status.error and an Event message
        super(message == null ? null : message.strip(), cause);
        this.code = code;
    }

    /** libvirt-java's exception with libvirt's own message ({@code virErrorPtr->message}) and code. */
    public static LibvirtCallException of(LibvirtException e) {
        return new LibvirtCallException(LibvirtConnection.describe(e), e.getError() == null ? null
                : e.getError().getCode(), e);
    }

    /** libvirt's error code, or null when libvirt gave none. */
    public ErrorNumber code() {
        return code;
    }

    public boolean is(ErrorNumber n) {
        return code == n;
    }

    /** {@code VIR_ERR_NO_DOMAIN}: libvirt has no such domain (any more). */
    public boolean isNoDomain() {
        return code == ErrorNumber.VIR_ERR_NO_DOMAIN;
    }
}
