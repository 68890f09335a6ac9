package io.virtfleet.agent.domain;

import io.virtfleet.api.v1alpha1.DomainState;

import java.time.Instant;

/**
 * What the agent knows about the libvirt side of one Domain when it plans.
 *
 * @param defined             libvirt has a domain with the Domain's UUID (and virtfleet's mark for this host)
 * @param state               its libvirt state (SHUTOFF when not defined)
 * @param appliedSpecHash     the spec hash recorded in its persistent config by the last define, null if none
 * @param shutdownRequestedAt when the agent asked the guest to shut down and is waiting for it, else null
 * @param startInFlight       a start of the domain runs on the agent's start executor ({@link DomainStarts})
 * @param startedGeneration   the spec.restartGeneration a start that ended since the last status write served (it
 *                            is to be recorded), else null
 * @param startFailed         the last start failed and this pass reports it; the retry waits for the backoff
 * @param lastShutdownPressAt when the power button was last pressed again during that wait (null: only the first
 *                            request), so a repeat is due {@link DomainSyncPlanner#SHUTDOWN_REPEAT} after the last
 *                            press, not on every pass after the first one's
 */
public record ObservedDomain(boolean defined, DomainState state, String appliedSpecHash,
                             Instant shutdownRequestedAt, boolean startInFlight, Long startedGeneration,
                             boolean startFailed, Instant lastShutdownPressAt) {
    public ObservedDomain(boolean defined, DomainState state, String appliedSpecHash, Instant shutdownRequestedAt) {
        this(defined, state, appliedSpecHash, shutdownRequestedAt, false, null, false, null);
    }

    public static ObservedDomain notDefined() {
        return new ObservedDomain(false, DomainState.SHUTOFF, null, null);
    }

    public boolean active() {
        return defined && state.active();
    }

    /** This, with what the start executor says about the domain's starts. */
    public ObservedDomain withStart(boolean inFlight, Long startedGeneration, boolean failed) {
        return new ObservedDomain(defined, state, appliedSpecHash, shutdownRequestedAt, inFlight, startedGeneration,
                failed, lastShutdownPressAt);
    }

    /** This, with the time of the last repeated press of the power button (null: none since the first). */
    public ObservedDomain withLastShutdownPress(Instant at) {
        return new ObservedDomain(defined, state, appliedSpecHash, shutdownRequestedAt, startInFlight,
                startedGeneration, startFailed, at);
    }
}
