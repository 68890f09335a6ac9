package io.virtfleet.reconcilers.lifecycle;

import io.virtfleet.api.v1alpha1.ApiGroup;

/**
 * Annotations of the operator's lifecycle. The request annotation is the only one users write (on the VM); the others
 * live on the Domain the operator owns, so the operator's memory survives restarts and leader changes without writing
 * anything into the VM but its status.
 */
public final class LifecycleAnnotations {
    /**
     * On a VirtualMachine, written by users (or {@code virtfleet vm ...}): {@code start}, {@code stop},
     * {@code restart}, {@code pause} or {@code unpause}, optionally followed by
     * {@code /<nonce>} so the same verb can be asked again ({@code kubectl annotate vfvm web-1
     * virtfleet.io/request=restart/$(date +%s) --overwrite}). Acted on once per distinct value.
     */
    public static final String REQUEST = ApiGroup.GROUP + "/request";

    /** On the Domain: the last {@link #REQUEST} value the operator acted on (or rejected). */
    public static final String LAST_HANDLED_REQUEST = ApiGroup.GROUP + "/last-handled-request";

    /** On the Domain: why the operator set powerState Stopped (see {@link StopReason}). */
    public static final String STOP_REASON = ApiGroup.GROUP + "/stop-reason";

    /** On the Domain: automatic restarts in the current back-off window, and when the last one was asked for. */
    public static final String AUTO_RESTART_COUNT = ApiGroup.GROUP + "/auto-restart-count";
    public static final String LAST_AUTO_RESTART = ApiGroup.GROUP + "/last-auto-restart";

    /**
     * On the Domain: {@link XmlFingerprint} of the domain XML the running domain was started with, to tell whether a
     * newer XML needs a restart.
     */
    public static final String BOOT_FINGERPRINT = ApiGroup.GROUP + "/boot-fingerprint";

    /** Values of {@link #STOP_REASON}. */
    public static final class StopReason {
        /** runStrategy Halted. */
        public static final String HALTED = "Halted";
        /** runStrategy Manual and no start request yet. */
        public static final String NOT_STARTED = "NotStarted";
        /** A stop request. */
        public static final String REQUEST = "Request";
        /** The guest powered itself off and the runStrategy respects that. */
        public static final String GUEST_SHUTDOWN = "GuestShutdown";
        /** The domain crashed and the runStrategy does not restart it. */
        public static final String CRASHED = "Crashed";
        /** The domain stopped otherwise (destroyed from outside, failed start) and is not restarted. */
        public static final String STOPPED = "Stopped";
        /** Its host drains and its evictionStrategy is Stop; started again after the undrain. */
        public static final String EVICTED = "Evicted";
        /** The VirtualMachine is being deleted. */
        public static final String DELETING = "Deleting";

        private StopReason() {
        }
    }

    private LifecycleAnnotations() {
    }
}
