package io.virtfleet.reconcilers.lifecycle;

import io.virtfleet.api.v1alpha1.DomainSpec;
import io.virtfleet.api.v1alpha1.DomainStatus;
import io.virtfleet.api.v1alpha1.RunStrategy;
import io.virtfleet.reconcilers.lifecycle.LifecycleAnnotations.StopReason;

import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Decides a Domain's powerState and restartGeneration from the VM's runStrategy, what the agent reports and a pending
 * user request. The agent never restarts a domain that stopped on its own (see {@link DomainSpec}); this policy is
 * where that decision is made, KubeVirt style:
 *
 * <table>
 *   <caption>runStrategy</caption>
 *   <tr><th>strategy</th><th>initially</th><th>guest powered off</th><th>crash / QEMU killed</th><th>requests</th></tr>
 *   <tr><td>Always</td><td>start</td><td>restart</td><td>restart</td><td>start, restart, pause, unpause (stop is
 *   rejected)</td></tr>
 *   <tr><td>RerunOnFailure</td><td>start</td><td>stays stopped</td><td>restart</td><td>all</td></tr>
 *   <tr><td>Once</td><td>start</td><td>stays stopped</td><td>stays stopped</td><td>all</td></tr>
 *   <tr><td>Manual</td><td>stopped</td><td>stays stopped</td><td>stays stopped</td><td>all</td></tr>
 *   <tr><td>Halted</td><td>stopped</td><td>-</td><td>-</td><td>all rejected</td></tr>
 * </table>
 *
 * <p>Pause and unpause (libvirt's virDomainSuspend / virDomainResume: the QEMU process stays, its vCPUs stop, memory
 * and devices are kept, so the genid does not change) set powerState Paused and back to Running; only a VM that runs
 * (or is being started) can be paused or unpaused. A start request resumes a paused VM; restart and stop of a paused VM
 * work as for a running one, and a restarted VM runs unpaused.
 *
 * <p>When the policy decides a stopped domain stays stopped it sets powerState Stopped and records why
 * ({@link LifecycleAnnotations#STOP_REASON}), so a later start is an explicit decision too. Changing runStrategy from
 * Halted to Always, RerunOnFailure or Once starts the VM; Manual leaves it stopped.
 *
 * <p>Automatic restarts back off: the first is immediate, the next ones wait {@link #BACKOFF_BASE} doubling up to
 * {@link #BACKOFF_MAX}; the count starts over once the last automatic restart is {@link #BACKOFF_RESET} old. A start or
 * restart request skips the back-off.
 */
public final class RunStrategyPolicy {
    public static final Duration BACKOFF_BASE = Duration.ofSeconds(10);
    public static final Duration BACKOFF_MAX = Duration.ofMinutes(5);
    public static final Duration BACKOFF_RESET = Duration.ofMinutes(10);

    /** Event reasons of the decisions. */
    public static final String STARTING = "Starting";
    public static final String STOPPING = "Stopping";
    public static final String RESTARTING = "Restarting";
    public static final String BACK_OFF = "BackOff";
    public static final String NOT_RESTARTED = "NotRestarted";
    public static final String REQUEST_REJECTED = "RequestRejected";
    public static final String INVALID_REQUEST = "InvalidRequest";
    public static final String PAUSING = "Pausing";
    public static final String UNPAUSING = "Unpausing";

    /**
     * @param strategy           spec.runStrategy (null: Always)
     * @param spec               the Domain's current spec, null when there is no Domain yet
     * @param status             the Domain's status, null when the agent has not reported
     * @param domainAnnotations  the Domain's annotations ({@link LifecycleAnnotations}), null when none
     * @param request            the VM's {@link LifecycleAnnotations#REQUEST} value, null when absent
     * @param evict              the VM's host is draining and its evictionStrategy is Stop: keep it stopped there
     */
    public record Input(RunStrategy strategy, DomainSpec spec, DomainStatus status,
                        Map<String, String> domainAnnotations, String request, Instant now, boolean evict) {
        public Input(RunStrategy strategy, DomainSpec spec, DomainStatus status, Map<String, String> domainAnnotations,
                     String request, Instant now) {
            this(strategy, spec, status, domainAnnotations, request, now, false);
        }
    }

    private RunStrategyPolicy() {
    }

    public static PowerPlan decide(Input in) {
        RunStrategy strategy = in.strategy() == null ? RunStrategy.Always : in.strategy();
        Map<String, String> anns = in.domainAnnotations() == null ? Map.of() : in.domainAnnotations();
        String handled = anns.get(LifecycleAnnotations.LAST_HANDLED_REQUEST);
        boolean newRequest = in.request() != null && !in.request().isBlank() && !in.request().equals(handled);
        UserRequest request = newRequest ? UserRequest.parse(in.request()) : null;
        State s = new State();
        s.handled = newRequest ? in.request() : handled;
        s.count = parseInt(anns.get(LifecycleAnnotations.AUTO_RESTART_COUNT));
        s.last = parseInstant(anns.get(LifecycleAnnotations.LAST_AUTO_RESTART));
        s.stopReason = anns.get(LifecycleAnnotations.STOP_REASON);

        if (request != null && request.verb() == UserRequest.Verb.INVALID) {
            s.notes.add(Note.warning(INVALID_REQUEST, LifecycleAnnotations.REQUEST + "=" + request.value()
                    + " is not a request: expected start, stop, restart, pause or unpause, optionally followed by "
                    + "/<nonce>"));
            request = null;
        }

        if (in.spec() == null) {
            return create(strategy, request, s);
        }
        s.powerState = DomainStates.powerState(in.spec());
        s.gen = in.spec().restartGeneration == null ? 0 : in.spec().restartGeneration;
        DomainStatus status = in.status();
        String state = status == null ? null : status.state;
        boolean active = DomainStates.isActive(state);
        boolean pending = DomainStates.startPending(in.spec(), status);

        boolean running = !DomainSpec.POWER_STOPPED.equals(s.powerState) && (active || pending);
        String rejection = request == null ? null : rejection(strategy, request.verb(), running);
        if (rejection != null) {
            s.notes.add(Note.warning(REQUEST_REJECTED, request.value() + " rejected: " + rejection));
            request = null;
        }

        if (strategy == RunStrategy.Halted) {
            if (!DomainSpec.POWER_STOPPED.equals(s.powerState)) {
                s.notes.add(Note.normal(STOPPING, "runStrategy Halted: stopping the domain"));
            }
            s.stop(StopReason.HALTED);
            return s.plan();
        }

        if (in.evict()) {
            // Draining with evictionStrategy Stop: a running (or starting) domain is stopped and remembered as
            // evicted, so the undrain starts it again; one that is already stopped keeps its own reason (a Manual VM
            // never started must not start because its host was drained).
            if (request != null && request.verb() != UserRequest.Verb.STOP) {
                s.notes.add(Note.warning(REQUEST_REJECTED, request.value() + " rejected: the VM's host is draining "
                        + "and its evictionStrategy is Stop; it starts again after the host is undrained"));
            }
            if (running) {
                s.notes.add(Note.normal(STOPPING, "host is draining and evictionStrategy is Stop: stopping the "
                        + "domain until the host is undrained"));
                s.stop(StopReason.EVICTED);
            } else if (!DomainSpec.POWER_STOPPED.equals(s.powerState)) {
                s.stop(StopReason.EVICTED);
            }
            return s.plan();
        }

        if (request != null) {
            switch (request.verb()) {
                case START -> {
                    if (DomainSpec.POWER_RUNNING.equals(s.powerState) && (active || pending)) {
                        return s.plan();
                    }
                    boolean paused = DomainSpec.POWER_PAUSED.equals(s.powerState) && (active || pending);
                    s.notes.add(Note.normal(paused ? UNPAUSING : STARTING, "start requested (" + request.value() + ")"
                            + (paused ? ": resuming the paused domain" : "")));
                    s.start(active);
                    s.count = 0;
                    return s.plan();
                }
                case STOP -> {
                    if (!DomainSpec.POWER_STOPPED.equals(s.powerState)) {
                        s.notes.add(Note.normal(STOPPING, "stop requested (" + request.value() + ")"));
                    }
                    s.stop(StopReason.REQUEST);
                    return s.plan();
                }
                case PAUSE -> {
                    if (!DomainSpec.POWER_PAUSED.equals(s.powerState)) {
                        s.notes.add(Note.normal(PAUSING, "pause requested (" + request.value() + ")"));
                    }
                    s.powerState = DomainSpec.POWER_PAUSED;
                    return s.plan();
                }
                case UNPAUSE -> {
                    if (DomainSpec.POWER_PAUSED.equals(s.powerState)) {
                        s.notes.add(Note.normal(UNPAUSING, "unpause requested (" + request.value() + ")"));
                        s.powerState = DomainSpec.POWER_RUNNING;
                    }
                    return s.plan();
                }
                case RESTART -> {
                    s.notes.add(Note.normal(RESTARTING, "restart requested (" + request.value() + ")"));
                    s.start(false);
                    s.count = 0;
                    return s.plan();
                }
                default -> {
                }
            }
        }

        if (DomainSpec.POWER_STOPPED.equals(s.powerState)) {
            boolean wasHalted = StopReason.HALTED.equals(s.stopReason);
            // Stopped by a drain, it was running before: the undrain gives it back whatever the strategy.
            boolean wasEvicted = StopReason.EVICTED.equals(s.stopReason);
            boolean run = strategy == RunStrategy.Always || wasEvicted
                    || (wasHalted && (strategy == RunStrategy.RerunOnFailure || strategy == RunStrategy.Once));
            if (run) {
                s.notes.add(Note.normal(STARTING, wasEvicted ? "host undrained: starting the domain the drain stopped"
                        : "runStrategy " + strategy + ": starting the domain"));
                s.start(active);
            } else if (wasHalted && strategy == RunStrategy.Manual) {
                s.stopReason = StopReason.NOT_STARTED;
            }
            return s.plan();
        }

        // powerState Running (or Paused): act only on a domain that stopped on its own.
        if (state == null || pending || !DomainStates.isInactive(state)) {
            return s.plan();
        }
        String why = "domain is " + state + (status.reason != null ? " (" + status.reason + ")" : "");
        boolean clean = DomainStates.isCleanStop(state, status.reason);
        boolean restart = switch (strategy) {
            case Always -> true;
            case RerunOnFailure -> !clean;
            default -> false;
        };
        if (!restart) {
            String reason = clean ? StopReason.GUEST_SHUTDOWN
                    : DomainStates.isCrash(state, status.reason) ? StopReason.CRASHED : StopReason.STOPPED;
            s.notes.add(Note.normal(NOT_RESTARTED, why + "; runStrategy " + strategy + " does not restart it"));
            s.stop(reason);
            return s.plan();
        }
        int count = s.last != null && !s.last.plus(BACKOFF_RESET).isAfter(in.now()) ? 0 : s.count;
        Duration wait = count == 0 || s.last == null ? Duration.ZERO
                : Duration.between(in.now(), s.last.plus(backoff(count)));
        if (wait.compareTo(Duration.ZERO) > 0) {
            s.retryAfter = wait;
            s.notes.add(Note.warning(BACK_OFF, why + "; back-off before restart " + (count + 1)
                    + " (runStrategy " + strategy + ")"));
            return s.plan();
        }
        s.notes.add(Note.normal(RESTARTING, why + "; runStrategy " + strategy + " restarts it"
                + (count > 0 ? " (restart " + (count + 1) + " within " + BACKOFF_RESET.toMinutes() + " min)" : "")));
        s.start(false);
        s.count = count + 1;
        s.last = in.now();
        return s.plan();
    }

    private static PowerPlan create(RunStrategy strategy, UserRequest request, State s) {
        String rejection = request == null ? null : rejection(strategy, request.verb(), false);
        if (rejection != null) {
            s.notes.add(Note.warning(REQUEST_REJECTED, request.value() + " rejected: " + rejection));
            request = null;
        }
        UserRequest.Verb verb = request == null ? null : request.verb();
        boolean run = switch (strategy) {
            case Always -> true;
            case RerunOnFailure, Once -> verb != UserRequest.Verb.STOP;
            case Manual -> verb == UserRequest.Verb.START || verb == UserRequest.Verb.RESTART;
            case Halted -> false;
        };
        s.gen = 0;
        s.count = 0;
        s.last = null;
        if (run) {
            s.notes.add(Note.normal(STARTING, "runStrategy " + strategy + ": starting the domain"
                    + (request != null ? " (" + request.value() + ")" : "")));
            s.start(false);
        } else {
            s.stop(strategy == RunStrategy.Halted ? StopReason.HALTED
                    : request != null ? StopReason.REQUEST : StopReason.NOT_STARTED);
        }
        return s.plan();
    }

    /**
     * Why a request is refused, or null when it is carried out (or is a no-op, like stopping a stopped VM). Shared by
     * the operator and {@code virtfleet vm ...}, so the CLI refuses with the same words before it writes anything.
     *
     * @param running the Domain's powerState is not Stopped and its domain is active or about to be started
     */
    public static String rejection(RunStrategy strategy, UserRequest.Verb verb, boolean running) {
        RunStrategy st = strategy == null ? RunStrategy.Always : strategy;
        if (verb == null || verb == UserRequest.Verb.INVALID) {
            return null;
        }
        if (st == RunStrategy.Halted) {
            return verb == UserRequest.Verb.STOP ? null
                    : "runStrategy Halted keeps the VM stopped; change spec.runStrategy to run it";
        }
        return switch (verb) {
            case STOP -> st == RunStrategy.Always
                    ? "runStrategy Always keeps the VM running; set spec.runStrategy to Manual or Halted to stop it"
                    : null;
            case PAUSE -> running ? null : "the VM is not running; only a running VM can be paused";
            case UNPAUSE -> running ? null : "the VM is not running; start it instead";
            default -> null;
        };
    }

    /** Wait before automatic restart number {@code count + 1}, given {@code count} recent ones. */
    public static Duration backoff(int count) {
        if (count <= 0) {
            return Duration.ZERO;
        }
        long seconds = BACKOFF_BASE.toSeconds() << Math.min(count - 1, 20);
        return seconds >= BACKOFF_MAX.toSeconds() ? BACKOFF_MAX : Duration.ofSeconds(seconds);
    }

    private static final class State {
        String powerState;
        long gen;
        String stopReason;
        String handled;
        int count;
        Instant last;
        Duration retryAfter;
        final List<Note> notes = new ArrayList<>();

        /** Running; a new restartGeneration unless the domain is already active (then there is nothing to start). */
        void start(boolean alreadyActive) {
            powerState = DomainSpec.POWER_RUNNING;
            stopReason = null;
            if (!alreadyActive) {
                gen++;
            }
        }

        void stop(String reason) {
            stopReason = reason;
            powerState = DomainSpec.POWER_STOPPED;
        }

        PowerPlan plan() {
            return new PowerPlan(powerState, gen, stopReason, handled, count, last, retryAfter, notes);
        }
    }

    private static int parseInt(String s) {
        try {
            return s == null ? 0 : Math.max(0, Integer.parseInt(s.trim()));
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    private static Instant parseInstant(String s) {
        try {
            return s == null || s.isBlank() ? null : Instant.parse(s.trim());
        } catch (DateTimeParseException e) {
            return null;
        }
    }
}
