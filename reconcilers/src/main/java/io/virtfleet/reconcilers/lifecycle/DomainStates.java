package io.virtfleet.reconcilers.lifecycle;

import io.virtfleet.api.v1alpha1.DomainSpec;
import io.virtfleet.api.v1alpha1.DomainStatus;

import java.util.Objects;
import java.util.Set;

/** The libvirt states and reasons the node agent reports in Domain.status, and what they mean for the operator. */
public final class DomainStates {
    public static final String RUNNING = "Running";
    public static final String BLOCKED = "Blocked";
    public static final String PAUSED = "Paused";
    public static final String SHUTTING_DOWN = "ShuttingDown";
    public static final String SHUTOFF = "Shutoff";
    public static final String CRASHED = "Crashed";
    public static final String PM_SUSPENDED = "PMSuspended";
    public static final String NOT_DEFINED = "NotDefined";
    public static final String UNKNOWN = "Unknown";

    /** Shutoff reasons. */
    public static final String REASON_SHUTDOWN = "Shutdown";
    public static final String REASON_DESTROYED = "Destroyed";
    public static final String REASON_CRASHED = "Crashed";
    public static final String REASON_FAILED = "Failed";
    public static final String REASON_SAVED = "Saved";
    public static final String REASON_MIGRATED = "Migrated";
    public static final String REASON_FROM_SNAPSHOT = "FromSnapshot";
    public static final String REASON_PANICKED = "Panicked";

    private static final Set<String> ACTIVE = Set.of(RUNNING, BLOCKED, PAUSED, SHUTTING_DOWN, PM_SUSPENDED);
    private static final Set<String> INACTIVE = Set.of(SHUTOFF, CRASHED);
    private static final Set<String> CLEAN_STOP_REASONS = Set.of(REASON_SHUTDOWN, REASON_SAVED, REASON_MIGRATED,
            REASON_FROM_SNAPSHOT);
    private static final Set<String> CRASH_REASONS = Set.of(REASON_CRASHED, REASON_FAILED, REASON_PANICKED);

    private DomainStates() {
    }

    /** A QEMU process exists: running, paused, blocked, shutting down or suspended. */
    public static boolean isActive(String state) {
        return state != null && ACTIVE.contains(state);
    }

    /** Defined but not running. */
    public static boolean isInactive(String state) {
        return state != null && INACTIVE.contains(state);
    }

    /**
     * The domain stopped cleanly: the guest powered itself off (reason Shutdown), or it was saved or migrated away.
     * Anything else inactive (Crashed, QEMU killed, Destroyed from outside, a failed start, no reason) is a failure for
     * runStrategy RerunOnFailure.
     */
    public static boolean isCleanStop(String state, String reason) {
        return SHUTOFF.equals(state) && reason != null && CLEAN_STOP_REASONS.contains(reason);
    }

    /** libvirt says the domain crashed or failed (shown as Failed rather than Stopped). */
    public static boolean isCrash(String state, String reason) {
        return CRASHED.equals(state) || (isInactive(state) && reason != null && CRASH_REASONS.contains(reason));
    }

    /**
     * A (re)start is asked for and the agent has not carried it out yet: powerState Running and restartGeneration
     * differs from status.observedRestartGeneration.
     */
    public static boolean startPending(DomainSpec spec, DomainStatus status) {
        if (spec == null || !DomainSpec.POWER_RUNNING.equals(powerState(spec))) {
            return false;
        }
        long gen = spec.restartGeneration == null ? 0 : spec.restartGeneration;
        Long observed = status == null ? null : status.observedRestartGeneration;
        return !Objects.equals(gen, observed);
    }

    /** spec.powerState, Running when absent. */
    public static String powerState(DomainSpec spec) {
        return spec == null || spec.powerState == null ? DomainSpec.POWER_RUNNING : spec.powerState;
    }
}
