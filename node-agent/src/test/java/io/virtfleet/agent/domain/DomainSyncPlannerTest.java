package io.virtfleet.agent.domain;

import io.virtfleet.api.v1alpha1.DomainState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;

import static io.virtfleet.agent.domain.LifecycleAction.ADD_FINALIZER;
import static io.virtfleet.agent.domain.LifecycleAction.DEFINE;
import static io.virtfleet.agent.domain.LifecycleAction.DESTROY;
import static io.virtfleet.agent.domain.LifecycleAction.RECORD_RESTART;
import static io.virtfleet.agent.domain.LifecycleAction.REMOVE_FINALIZER;
import static io.virtfleet.agent.domain.LifecycleAction.RESUME;
import static io.virtfleet.agent.domain.LifecycleAction.SHUTDOWN;
import static io.virtfleet.agent.domain.LifecycleAction.START;
import static io.virtfleet.agent.domain.LifecycleAction.START_PAUSED;
import static io.virtfleet.agent.domain.LifecycleAction.SUSPEND;
import static io.virtfleet.agent.domain.LifecycleAction.UNDEFINE;
import static org.assertj.core.api.Assertions.assertThat;

class DomainSyncPlannerTest {
    static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");
    static final Duration TIMEOUT = Duration.ofSeconds(10);

    static DomainSyncPlanner.Desired want(String power, long restartGen, Long observedRestart) {
        return new DomainSyncPlanner.Desired(power, "h1", true, false, true, restartGen, observedRestart, TIMEOUT);
    }

    static ObservedDomain is(DomainState s) {
        return new ObservedDomain(true, s, "h1", null);
    }

    static List<LifecycleAction> plan(DomainSyncPlanner.Desired d, ObservedDomain o) {
        return DomainSyncPlanner.plan(d, o, NOW).actions();
    }

    @Test
    void newDomainGetsFinalizerBeforeDefineThenStarts() {
        var d = new DomainSyncPlanner.Desired("Running", "h1", true, false, false, 0, null, TIMEOUT);
        assertThat(plan(d, ObservedDomain.notDefined())).containsExactly(ADD_FINALIZER, DEFINE, START, RECORD_RESTART);
    }

    @Test
    void invalidSpecDefinesNothingAndAddsNoFinalizer() {
        var d = new DomainSyncPlanner.Desired("Running", null, false, false, false, 0, null, TIMEOUT);
        var p = DomainSyncPlanner.plan(d, ObservedDomain.notDefined(), NOW);
        assertThat(p.actions()).isEmpty();
        assertThat(p.waitingFor()).contains("valid spec");
    }

    @Test
    void invalidSpecNeverRedefinesAnExistingDomain() {
        var d = new DomainSyncPlanner.Desired("Running", null, false, false, true, 1, 1L, TIMEOUT);
        assertThat(plan(d, is(DomainState.RUNNING))).isEmpty();
    }

    @Test
    void runningDomainThatMatchesNeedsNothing() {
        assertThat(plan(want("Running", 1, 1L), is(DomainState.RUNNING))).isEmpty();
    }

    @Test
    void domainThatStoppedOnItsOwnIsNotRestartedWithoutABump() {
        var p = DomainSyncPlanner.plan(want("Running", 1, 1L), is(DomainState.SHUTOFF), NOW);
        assertThat(p.actions()).isEmpty();
        assertThat(p.waitingFor()).contains("restartGeneration");
    }

    @Test
    void bumpedRestartGenerationStartsAStoppedDomain() {
        assertThat(plan(want("Running", 2, 1L), is(DomainState.SHUTOFF))).containsExactly(START, RECORD_RESTART);
    }

    @Test
    void bumpedRestartGenerationStopsARunningDomainGracefullyFirst() {
        var p = DomainSyncPlanner.plan(want("Running", 2, 1L), is(DomainState.RUNNING), NOW);
        assertThat(p.actions()).containsExactly(SHUTDOWN);
        assertThat(p.requeueAfter()).isEqualTo(DomainSyncPlanner.SHUTDOWN_REPEAT);
    }

    @Test
    void restartWaitsForTheShutdownUntilTheDeadlineThenDestroysAndStarts() {
        var waiting = new ObservedDomain(true, DomainState.RUNNING, "h1", NOW.minusSeconds(4));
        var p = DomainSyncPlanner.plan(want("Running", 2, 1L), waiting, NOW);
        assertThat(p.actions()).isEmpty();
        assertThat(p.requeueAfter()).isEqualTo(DomainSyncPlanner.SHUTDOWN_REPEAT);

        // A press that reached a guest still booting is lost: the button is pressed again, the deadline stands.
        var stillWaiting = new ObservedDomain(true, DomainState.RUNNING, "h1", NOW.minusSeconds(7));
        var again = DomainSyncPlanner.plan(want("Running", 2, 1L), stillWaiting, NOW);
        assertThat(again.actions()).containsExactly(LifecycleAction.REPEAT_SHUTDOWN);
        assertThat(again.requeueAfter()).isEqualTo(Duration.ofSeconds(3));

        var late = new ObservedDomain(true, DomainState.RUNNING, "h1", NOW.minusSeconds(10));
        assertThat(plan(want("Running", 2, 1L), late)).containsExactly(DESTROY, START, RECORD_RESTART);
    }

    @Test
    void thePowerButtonIsPressedAgainOncePerRepeatIntervalSinceTheLastPressNotOnEveryPass() {
        var requested = new ObservedDomain(true, DomainState.RUNNING, "h1", NOW.minusSeconds(8));
        // Pressed again 1 s ago: passes in between (events, status writes) press nothing.
        var justPressed = requested.withLastShutdownPress(NOW.minusSeconds(1));
        assertThat(plan(want("Running", 2, 1L), justPressed)).isEmpty();
        assertThat(plan(want("Stopped", 1, 1L), justPressed)).isEmpty();
        // The same for a deleting Domain, whose running guest is shut down the same way.
        var deleting = new DomainSyncPlanner.Desired("Running", "h1", true, true, true, 1, 1L, TIMEOUT);
        assertThat(DomainSyncPlanner.plan(deleting, justPressed, NOW).actions()).isEmpty();
        // SHUTDOWN_REPEAT after the last press: once more.
        var due = requested.withLastShutdownPress(NOW.minus(DomainSyncPlanner.SHUTDOWN_REPEAT));
        assertThat(plan(want("Running", 2, 1L), due)).containsExactly(LifecycleAction.REPEAT_SHUTDOWN);
        assertThat(DomainSyncPlanner.plan(deleting, due, NOW).actions())
                .containsExactly(LifecycleAction.REPEAT_SHUTDOWN);
    }

    @Test
    void runningDomainWithoutRecordedRestartIsAdoptedNotRestarted() {
        assertThat(plan(want("Running", 0, null), is(DomainState.RUNNING))).containsExactly(RECORD_RESTART);
        assertThat(plan(want("Running", 5, null), is(DomainState.RUNNING))).containsExactly(RECORD_RESTART);
    }

    @Test
    void stoppedRequestShutsDownThenDestroysAfterTimeout() {
        assertThat(plan(want("Stopped", 1, 1L), is(DomainState.RUNNING))).containsExactly(SHUTDOWN);
        var late = new ObservedDomain(true, DomainState.SHUTTING_DOWN, "h1", NOW.minus(TIMEOUT));
        assertThat(plan(want("Stopped", 1, 1L), late)).containsExactly(DESTROY);
        assertThat(plan(want("Stopped", 1, 1L), is(DomainState.SHUTOFF))).isEmpty();
    }

    @Test
    void zeroShutdownTimeoutDestroysAtOnce() {
        var d = new DomainSyncPlanner.Desired("Stopped", "h1", true, false, true, 1, 1L, Duration.ZERO);
        assertThat(plan(d, is(DomainState.RUNNING))).containsExactly(DESTROY);
    }

    @Test
    void stoppingAPausedDomainResumesItSoItSeesThePowerButton() {
        assertThat(plan(want("Stopped", 1, 1L), is(DomainState.PAUSED))).containsExactly(RESUME, SHUTDOWN);
    }

    @Test
    void crashedDomainIsDestroyedWhenStopped() {
        assertThat(plan(want("Stopped", 1, 1L), is(DomainState.CRASHED))).containsExactly(DESTROY);
    }

    @Test
    void stoppedRequestDoesNotRecordAPendingRestart() {
        assertThat(plan(want("Stopped", 3, 1L), is(DomainState.SHUTOFF))).isEmpty();
    }

    @Test
    void pausedSuspendsARunningDomainAndRunningResumesIt() {
        assertThat(plan(want("Paused", 1, 1L), is(DomainState.RUNNING))).containsExactly(SUSPEND);
        assertThat(plan(want("Running", 1, 1L), is(DomainState.PAUSED))).containsExactly(RESUME);
    }

    @Test
    void pausedStartRequestStartsPaused() {
        assertThat(plan(want("Paused", 1, 0L), is(DomainState.SHUTOFF))).containsExactly(START_PAUSED,
                RECORD_RESTART);
    }

    @Test
    void changedSpecIsRedefinedWhetherRunningOrNot() {
        var stopped = new ObservedDomain(true, DomainState.SHUTOFF, "old", null);
        assertThat(plan(want("Stopped", 1, 1L), stopped)).containsExactly(DEFINE);
        var running = new ObservedDomain(true, DomainState.RUNNING, "old", null);
        assertThat(plan(want("Running", 1, 1L), running)).containsExactly(DEFINE);
    }

    @Test
    void restartRedefinesBeforeStopping() {
        var running = new ObservedDomain(true, DomainState.RUNNING, "old", null);
        assertThat(plan(want("Running", 2, 1L), running)).containsExactly(DEFINE, SHUTDOWN);
    }

    /**
     * Deletion, by libvirt state: a running guest gets the graceful stop of powerState Stopped (power button, pressed
     * again every 5 s, destroyed at the deadline; a timeout of 0 destroys at once), a paused, crashed or PM-suspended
     * one is destroyed at once; then undefine, then the finalizer goes. {@code asked}: seconds since the first press
     * (-1: not pressed); the timeout is 10 s.
     */
    @ParameterizedTest(name = "deleting, {0}, pressed {1} s ago, timeout {2} s, spec valid {3}, finalizer {4}")
    @CsvSource(delimiter = '|', textBlock = """
        RUNNING       | -1 | 10 | true  | true  | SHUTDOWN                           | 5
        RUNNING       |  4 | 10 | true  | true  | -                                  | 5
        RUNNING       |  7 | 10 | true  | true  | REPEAT_SHUTDOWN                    | 3
        RUNNING       | 10 | 10 | true  | true  | DESTROY UNDEFINE REMOVE_FINALIZER  | -
        RUNNING       | -1 |  0 | true  | true  | DESTROY UNDEFINE REMOVE_FINALIZER  | -
        RUNNING       | -1 | 10 | false | true  | SHUTDOWN                           | 5
        BLOCKED       | -1 | 10 | true  | true  | SHUTDOWN                           | 5
        SHUTTING_DOWN | -1 | 10 | true  | true  | SHUTDOWN                           | 5
        SHUTTING_DOWN | 10 | 10 | true  | true  | DESTROY UNDEFINE REMOVE_FINALIZER  | -
        PAUSED        | -1 | 10 | true  | true  | DESTROY UNDEFINE REMOVE_FINALIZER  | -
        CRASHED       | -1 | 10 | true  | true  | DESTROY UNDEFINE REMOVE_FINALIZER  | -
        PMSUSPENDED   | -1 | 10 | true  | true  | DESTROY UNDEFINE REMOVE_FINALIZER  | -
        SHUTOFF       | -1 | 10 | true  | true  | UNDEFINE REMOVE_FINALIZER          | -
        SHUTOFF       | -1 | 10 | false | false | UNDEFINE                           | -
        NOT_DEFINED   | -1 | 10 | true  | true  | REMOVE_FINALIZER                   | -
        NOT_DEFINED   | -1 | 10 | true  | false | -                                  | -
        """)
    void deletionShutsARunningGuestDownGracefullyThenUndefinesAndRemovesTheFinalizer(
            String state, int askedSecondsAgo, int timeoutSeconds, boolean valid, boolean finalizer,
            String expected, String requeueSeconds) {
        var d = new DomainSyncPlanner.Desired("Running", valid ? "h1" : null, valid, true, finalizer, 1, 1L,
                Duration.ofSeconds(timeoutSeconds));
        ObservedDomain o = state.equals("NOT_DEFINED") ? ObservedDomain.notDefined()
                : new ObservedDomain(true, DomainState.valueOf(state), "h1",
                askedSecondsAgo < 0 ? null : NOW.minusSeconds(askedSecondsAgo));
        var p = DomainSyncPlanner.plan(d, o, NOW);
        assertThat(p.actions()).isEqualTo(actions(expected));
        assertThat(p.requeueAfter()).isEqualTo(requeueSeconds.equals("-") ? null
                : Duration.ofSeconds(Long.parseLong(requeueSeconds)));
    }

    /** Space-separated action names; "-" is none. */
    static List<LifecycleAction> actions(String names) {
        return names.equals("-") ? List.of()
                : Arrays.stream(names.trim().split("\\s+")).map(LifecycleAction::valueOf).toList();
    }

    /**
     * The start executor's state as a planner input. {@code start}: {@code inflight} (virDomainCreate still runs),
     * {@code ended:G} (a start serving restartGeneration G ended, not recorded yet), {@code failed} (the last start
     * failed; this pass reports it), {@code -} (none). {@code hash}: the spec hash libvirt's definition carries (the
     * spec's is h1).
     */
    @ParameterizedTest(name = "[{index}] libvirt {0} ({1}), start {2}, want {3} {4}/{5}, deleting {6}")
    @CsvSource(delimiter = '|', textBlock = """
        NOT_DEFINED | -   | inflight | Running | 1 | -  | false | -                          | start
        SHUTOFF     | h1  | inflight | Running | 1 | -  | false | -                          | start
        RUNNING     | h1  | inflight | Running | 1 | -  | false | -                          | start
        RUNNING     | old | inflight | Running | 1 | -  | false | -                          | start
        RUNNING     | h1  | inflight | Stopped | 1 | -  | false | -                          | start
        RUNNING     | h1  | inflight | Running | 1 | -  | true  | -                          | start
        PAUSED      | h1  | inflight | Running | 1 | -  | false | -                          | start
        RUNNING     | h1  | ended:1  | Running | 1 | -  | false | RECORD_RESTART             | -
        RUNNING     | h1  | ended:2  | Running | 2 | 1  | false | RECORD_RESTART             | -
        PAUSED      | h1  | ended:1  | Paused  | 1 | 0  | false | RECORD_RESTART             | -
        RUNNING     | h1  | ended:2  | Running | 3 | 1  | false | RECORD_RESTART SHUTDOWN    | restart
        RUNNING     | h1  | ended:1  | Stopped | 1 | -  | false | RECORD_RESTART SHUTDOWN    | down
        SHUTOFF     | h1  | ended:1  | Running | 1 | -  | false | RECORD_RESTART             | own
        SHUTOFF     | h1  | ended:1  | Running | 2 | -  | false | START RECORD_RESTART       | -
        RUNNING     | h1  | ended:1  | Running | 1 | -  | true  | SHUTDOWN                   | gone
        SHUTOFF     | h1  | failed   | Running | 1 | -  | false | -                          | retry
        SHUTOFF     | old | failed   | Running | 1 | -  | false | DEFINE                     | retry
        SHUTOFF     | h1  | failed   | Stopped | 1 | -  | false | -                          | -
        SHUTOFF     | h1  | -        | Running | 1 | -  | false | START RECORD_RESTART       | -
        """)
    void aStartInFlightBlocksEveryStepAndAnEndedOneIsRecordedOrItsFailureReportedBeforeARetry(
            String state, String hash, String start, String power, long generation, String observed,
            boolean deleting, String expected, String waiting) {
        var d = new DomainSyncPlanner.Desired(power, "h1", true, deleting, true, generation,
                observed.equals("-") ? null : Long.valueOf(observed), TIMEOUT);
        ObservedDomain o = state.equals("NOT_DEFINED") ? ObservedDomain.notDefined()
                : new ObservedDomain(true, DomainState.valueOf(state), hash, null);
        o = o.withStart(start.equals("inflight"), start.startsWith("ended:")
                ? Long.valueOf(start.substring("ended:".length())) : null, start.equals("failed"));
        var p = DomainSyncPlanner.plan(d, o, NOW);
        assertThat(p.actions()).isEqualTo(actions(expected));
        switch (waiting) {
            case "start" -> assertThat(p.waitingFor()).isEqualTo(DomainSyncPlanner.WAITING_FOR_START);
            case "retry" -> assertThat(p.waitingFor()).isEqualTo(DomainSyncPlanner.WAITING_FOR_START_RETRY);
            case "restart" -> assertThat(p.waitingFor()).contains("requested restart");
            case "down" -> assertThat(p.waitingFor()).isEqualTo("the guest to shut down");
            case "own" -> assertThat(p.waitingFor()).contains("stopped on its own");
            case "gone" -> assertThat(p.waitingFor()).contains("before the Domain goes");
            default -> assertThat(p.waitingFor()).isNull();
        }
    }

    @Test
    void aDomainCarryingTheAgentFinalizerFromItsFirstApplyIsDefinedAndStartedWithoutAFinalizerStep() {
        var d = new DomainSyncPlanner.Desired("Running", "h1", true, false, true, 1, null, TIMEOUT);
        assertThat(plan(d, ObservedDomain.notDefined())).containsExactly(DEFINE, START, RECORD_RESTART);
        // Without it (an operator that does not put it on), the fallback adds it before the first define.
        var without = new DomainSyncPlanner.Desired("Running", "h1", true, false, false, 1, null, TIMEOUT);
        assertThat(plan(without, ObservedDomain.notDefined()))
                .containsExactly(ADD_FINALIZER, DEFINE, START, RECORD_RESTART);
    }

    @Test
    void nullPowerStateMeansRunningAsForTheOperator() {
        assertThat(plan(want(null, 1, 1L), is(DomainState.RUNNING))).isEmpty();
        assertThat(plan(want(null, 0, null), is(DomainState.SHUTOFF))).containsExactly(START, RECORD_RESTART);
    }

    @Test
    void desiredOfDefaultsTimeoutAndRestartGeneration() {
        var spec = new io.virtfleet.api.v1alpha1.DomainSpec();
        spec.powerState = "Running";
        var d = DomainSyncPlanner.Desired.of(spec, "h", true, false, true, null);
        assertThat(d.shutdownTimeout()).isEqualTo(DomainSyncPlanner.DEFAULT_SHUTDOWN_TIMEOUT);
        assertThat(d.restartGeneration()).isZero();
        spec.shutdownTimeoutSeconds = 3;
        spec.restartGeneration = 7L;
        d = DomainSyncPlanner.Desired.of(spec, "h", true, false, true, 7L);
        assertThat(d.shutdownTimeout()).isEqualTo(Duration.ofSeconds(3));
        assertThat(d.startRequested()).isFalse();
    }
}
