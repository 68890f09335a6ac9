package io.virtfleet.agent.domain;

import io.virtfleet.api.v1alpha1.DomainState;
import io.virtfleet.api.v1alpha1.DomainSpec;
import io.virtfleet.reconcilers.lifecycle.DomainStates;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The agent's decisions for one Domain, as a pure function of the desired and the observed state.
 *
 * <p>Rules (level-triggered; a plan assumes its earlier steps succeed, and the next pass re-plans from what is):
 * <ul>
 *   <li>A start in flight (virDomainCreate on the agent's start executor, {@link DomainStarts}): nothing is planned
 *       until it ended — no second start, no define, no destroy; the next pass records the start it made (its
 *       restart generation) or reports its failure, and only the pass after that starts again.</li>
 *   <li>Deleting: a running domain is shut down gracefully as for Stopped (power button, pressed again every 5 s,
 *       destroyed at spec.shutdownTimeoutSeconds; 0: at once); a paused, crashed or PM-suspended one is destroyed at
 *       once; then undefine if defined, then remove the finalizer.</li>
 *   <li>The finalizer goes on before the first define. Nothing is defined from an invalid spec.</li>
 *   <li>Define when not defined; redefine when the spec hash differs from the one recorded in the persistent config
 *       (on a running domain this changes the next boot only: whether to restart is the operator's call).</li>
 *   <li>Start is an explicit request: with powerState Running (or Paused), the domain is (re)started when
 *       spec.restartGeneration differs from status.observedRestartGeneration — stopping it first if it runs — and the
 *       value is then recorded. A domain that stopped on its own (guest power-off, crash, QEMU killed) is left
 *       stopped until the next bump. A running domain with no observedRestartGeneration yet is adopted, not
 *       restarted.</li>
 *   <li>Stopped: graceful shutdown, destroy after spec.shutdownTimeoutSeconds. Paused: suspend. Running: resume a
 *       paused domain.</li>
 * </ul>
 */
public final class DomainSyncPlanner {
    public static final Duration DEFAULT_SHUTDOWN_TIMEOUT = Duration.ofSeconds(60);
    /** How often the power button is pressed again while a shutdown is awaited. */
    public static final Duration SHUTDOWN_REPEAT = Duration.ofSeconds(5);

    private DomainSyncPlanner() {
    }

    /**
     * What the Domain asks for, reduced to what planning needs.
     *
     * @param powerState        Running, Stopped or Paused (null means Running, as for the operator)
     * @param specHash          digest of what would be defined ({@link DomainValidator#specHash})
     * @param specValid         the spec passed validation (nothing is defined otherwise)
     * @param deleting          the Domain has a deletionTimestamp
     * @param hasFinalizer      the Domain carries the agent's finalizer
     * @param restartGeneration spec.restartGeneration (null is 0)
     * @param observedRestart   status.observedRestartGeneration, null when never recorded
     * @param shutdownTimeout   how long a graceful shutdown may take
     */
    public record Desired(String powerState, String specHash, boolean specValid, boolean deleting,
                          boolean hasFinalizer, long restartGeneration, Long observedRestart,
                          Duration shutdownTimeout) {
        public static Desired of(DomainSpec spec, String specHash, boolean specValid, boolean deleting,
                                 boolean hasFinalizer, Long observedRestart) {
            Duration timeout = spec.shutdownTimeoutSeconds == null ? DEFAULT_SHUTDOWN_TIMEOUT
                    : Duration.ofSeconds(Math.max(0, spec.shutdownTimeoutSeconds));
            return new Desired(spec.powerState, specHash, specValid, deleting, hasFinalizer,
                    spec.restartGeneration == null ? 0 : spec.restartGeneration, observedRestart, timeout);
        }

        /** spec.powerState; Running when absent (reconcilers' DomainStates, the operator's reading too). */
        String power() {
            return DomainStates.powerState(powerState);
        }

        boolean wantsProcess() {
            return DomainSpec.POWER_RUNNING.equals(power()) || DomainSpec.POWER_PAUSED.equals(power());
        }

        boolean startRequested() {
            return wantsProcess() && (observedRestart == null || observedRestart != restartGeneration);
        }

        /** This, with {@code observed} as status.observedRestartGeneration (a start served it, not yet recorded). */
        Desired withObservedRestart(Long observed) {
            return new Desired(powerState, specHash, specValid, deleting, hasFinalizer, restartGeneration, observed,
                    shutdownTimeout);
        }
    }

    /** Why nothing is planned while a start runs on the start executor. */
    public static final String WAITING_FOR_START = "the domain's start (virDomainCreate) to end";
    /** Why a start request is not served in the pass that reports the last start's failure. */
    public static final String WAITING_FOR_START_RETRY = "a retry of the failed start";

    /**
     * The steps to take now; {@code requeueAfter} (nullable) asks for another pass then (e.g. the shutdown deadline);
     * {@code waitingFor} (nullable) says what keeps the domain from its desired state.
     */
    public record Plan(List<LifecycleAction> actions, Duration requeueAfter, String waitingFor) {
        public boolean has(LifecycleAction a) {
            return actions.contains(a);
        }
    }

    public static Plan plan(Desired d, ObservedDomain o, Instant now) {
        List<LifecycleAction> a = new ArrayList<>();
        if (o.startInFlight()) {
            return new Plan(a, null, WAITING_FOR_START);
        }
        boolean defined = o.defined();
        DomainState st = defined ? o.state() : DomainState.SHUTOFF;

        if (d.deleting()) {
            if (defined && st.active()) {
                if (st == DomainState.PAUSED) {
                    // Resuming a guest only to show it the power button on its way out is not worth it: deleted.
                    a.add(LifecycleAction.DESTROY);
                } else {
                    Stop stop = stop(st, d, o, now, a);
                    if (!stop.done) {
                        return new Plan(a, stop.requeueAfter, "the guest to shut down before the Domain goes");
                    }
                }
            }
            if (defined) {
                a.add(LifecycleAction.UNDEFINE);
            }
            if (d.hasFinalizer()) {
                a.add(LifecycleAction.REMOVE_FINALIZER);
            }
            return new Plan(a, null, null);
        }
        if (!defined && !d.specValid()) {
            return new Plan(a, null, "a valid spec");
        }
        if (!d.hasFinalizer()) {
            a.add(LifecycleAction.ADD_FINALIZER);
        }
        if (o.startedGeneration() != null) {
            // A start that ended since the last status write served this generation: recorded now.
            d = d.withObservedRestart(o.startedGeneration());
        }
        if (!defined) {
            a.add(LifecycleAction.DEFINE);
            st = DomainState.SHUTOFF;
        } else if (d.specValid() && !Objects.equals(d.specHash(), o.appliedSpecHash())) {
            a.add(LifecycleAction.DEFINE);
        }
        if (o.startedGeneration() != null) {
            a.add(LifecycleAction.RECORD_RESTART);
        }
        boolean paused = DomainSpec.POWER_PAUSED.equals(d.power());

        if (d.startRequested()) {
            if (st.active() && d.observedRestart() == null) {
                // Adopt a domain that already runs (e.g. status lost): never restart it for that.
                a.add(LifecycleAction.RECORD_RESTART);
            } else {
                if (st.active()) {
                    Stop stop = stop(st, d, o, now, a);
                    if (!stop.done) {
                        return new Plan(a, stop.requeueAfter, "the guest to shut down for the requested restart");
                    }
                    st = DomainState.SHUTOFF;
                }
                if (o.startFailed()) {
                    return new Plan(a, null, WAITING_FOR_START_RETRY);
                }
                // A start that ended unrecorded is recorded with this one, after it (DomainStarts.Finished adds up).
                a.remove(LifecycleAction.RECORD_RESTART);
                a.add(paused ? LifecycleAction.START_PAUSED : LifecycleAction.START);
                a.add(LifecycleAction.RECORD_RESTART);
                return new Plan(a, null, null);
            }
        }

        switch (d.power()) {
            case DomainSpec.POWER_RUNNING -> {
                if (st == DomainState.PAUSED) {
                    a.add(LifecycleAction.RESUME);
                } else if (!st.active()) {
                    return new Plan(a, null, "a start request (spec.restartGeneration bump): the domain stopped "
                            + "on its own");
                } else if (st != DomainState.RUNNING && st != DomainState.BLOCKED) {
                    return new Plan(a, null, "the domain to leave state " + st.statusName());
                }
            }
            case DomainSpec.POWER_PAUSED -> {
                if (st == DomainState.RUNNING || st == DomainState.BLOCKED) {
                    a.add(LifecycleAction.SUSPEND);
                } else if (!st.active()) {
                    return new Plan(a, null, "a start request (spec.restartGeneration bump): the domain stopped "
                            + "on its own");
                }
            }
            default -> {
                if (st.active()) {
                    Stop stop = stop(st, d, o, now, a);
                    if (!stop.done) {
                        return new Plan(a, stop.requeueAfter, "the guest to shut down");
                    }
                }
            }
        }
        return new Plan(a, null, null);
    }

    private record Stop(boolean done, Duration requeueAfter) {
    }

    /** Appends the steps of a graceful stop of an active domain; done when the domain will be off after them. */
    private static Stop stop(DomainState st, Desired d, ObservedDomain o, Instant now, List<LifecycleAction> a) {
        if (st == DomainState.CRASHED || st == DomainState.PMSUSPENDED || st == DomainState.NOSTATE
                || d.shutdownTimeout().isZero()) {
            a.add(LifecycleAction.DESTROY);
            return new Stop(true, null);
        }
        if (o.shutdownRequestedAt() == null) {
            if (st == DomainState.PAUSED) {
                a.add(LifecycleAction.RESUME); // a paused guest cannot see the power button
            }
            a.add(LifecycleAction.SHUTDOWN);
            return new Stop(false, d.shutdownTimeout().compareTo(SHUTDOWN_REPEAT) < 0 ? d.shutdownTimeout()
                    : SHUTDOWN_REPEAT);
        }
        Instant deadline = o.shutdownRequestedAt().plus(d.shutdownTimeout());
        if (!now.isBefore(deadline)) {
            a.add(LifecycleAction.DESTROY);
            return new Stop(true, null);
        }
        if (st == DomainState.PAUSED) {
            a.add(LifecycleAction.RESUME);
        }
        Duration left = Duration.between(now, deadline);
        // Once per SHUTDOWN_REPEAT since the last press: passes come often while a guest shuts down (its events,
        // status writes), and each one must not press the button again.
        Instant lastPress = o.lastShutdownPressAt() != null ? o.lastShutdownPressAt() : o.shutdownRequestedAt();
        if (Duration.between(lastPress, now).compareTo(SHUTDOWN_REPEAT) >= 0) {
            a.add(LifecycleAction.REPEAT_SHUTDOWN);
        }
        return new Stop(false, left.compareTo(SHUTDOWN_REPEAT) < 0 ? left : SHUTDOWN_REPEAT);
    }
}
