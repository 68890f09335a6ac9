package io.virtfleet.reconcilers.lifecycle;

import io.virtfleet.api.v1alpha1.DomainSpec;
import io.virtfleet.api.v1alpha1.DomainStatus;

import java.util.Objects;
import java.util.Set;

/**
 * What the states and reasons the node agent reports in Domain.status (the vocabulary is crds': {@link DomainStatus}'s constants, libvirt's
 * states by number in {@code DomainState})
 * mean for the operator.
 */
public final class DomainStates {
    public static final String RUNNING = DomainStatus.STATE_RUNNING;
    public static final String BLOCKED = DomainStatus.STATE_BLOCKED;
    public static final String PAUSED = DomainStatus.STATE_PAUSED;
    public static final String SHUTTING_DOWN = DomainStatus.STATE_SHUTTING_DOWN;
    public static final String SHUTOFF = DomainStatus.STATE_SHUTOFF;
    public static final String CRASHED = DomainStatus.STATE_CRASHED;
    public static final String PM_SUSPENDED = DomainStatus.STATE_PM_SUSPENDED;
    public static final String NOT_DEFINED = DomainStatus.STATE_NOT_DEFINED;
    public static final String UNKNOWN = DomainStatus.STATE_UNKNOWN;

    /** Shutoff reasons. */
    public static final String REASON_SHUTDOWN = DomainStatus.REASON_SHUTDOWN;
    public static final String REASON_DESTROYED = DomainStatus.REASON_DESTROYED;
    public static final String REASON_CRASHED = DomainStatus.REASON_CRASHED;
    public static final String REASON_FAILED = DomainStatus.REASON_FAILED;
    public static final String REASON_SAVED = DomainStatus.REASON_SAVED;
    public static final String REASON_MIGRATED = DomainStatus.REASON_MIGRATED;
    public static final String REASON_FROM_SNAPSHOT = DomainStatus.REASON_FROM_SNAPSHOT;
    public static final String REASON_PANICKED = DomainStatus.REASON_PANICKED;

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
        return powerState(spec == null ? null : spec.powerState);
    }

    /** A powerState value, Running when absent (null). */
    public static String powerState(String powerState) {
        return powerState == null ? DomainSpec.POWER_RUNNING : powerState;
    }
}
