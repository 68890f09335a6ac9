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
 */
public record ObservedDomain(boolean defined, DomainState state, String appliedSpecHash,
                             Instant shutdownRequestedAt) {
    public static ObservedDomain notDefined() {
        return new ObservedDomain(false, DomainState.SHUTOFF, null, null);
    }

    public boolean active() {
        return defined && state.active();
    }
}
