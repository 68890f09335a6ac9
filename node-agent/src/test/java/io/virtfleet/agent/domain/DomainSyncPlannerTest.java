package io.virtfleet.agent.domain;

import io.virtfleet.api.v1alpha1.DomainState;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
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

    @Test
    void deletionDestroysUndefinesAndRemovesTheFinalizer() {
        var d = new DomainSyncPlanner.Desired("Running", "h1", true, true, true, 1, 1L, TIMEOUT);
        assertThat(plan(d, is(DomainState.RUNNING))).containsExactly(DESTROY, UNDEFINE, REMOVE_FINALIZER);
        assertThat(plan(d, is(DomainState.SHUTOFF))).containsExactly(UNDEFINE, REMOVE_FINALIZER);
        assertThat(plan(d, ObservedDomain.notDefined())).containsExactly(REMOVE_FINALIZER);
    }

    @Test
    void deletionOfAnInvalidDomainStillCleansUp() {
        var d = new DomainSyncPlanner.Desired("Running", null, false, true, true, 1, 1L, TIMEOUT);
        assertThat(plan(d, is(DomainState.RUNNING))).containsExactly(DESTROY, UNDEFINE, REMOVE_FINALIZER);
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
