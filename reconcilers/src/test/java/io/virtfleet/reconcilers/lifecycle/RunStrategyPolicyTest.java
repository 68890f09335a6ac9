package io.virtfleet.reconcilers.lifecycle;

import io.virtfleet.api.v1alpha1.DomainSpec;
import io.virtfleet.api.v1alpha1.DomainStatus;
import io.virtfleet.api.v1alpha1.RunStrategy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static io.virtfleet.api.v1alpha1.RunStrategy.Always;
import static io.virtfleet.api.v1alpha1.RunStrategy.Halted;
import static io.virtfleet.api.v1alpha1.RunStrategy.Manual;
import static io.virtfleet.api.v1alpha1.RunStrategy.Once;
import static io.virtfleet.api.v1alpha1.RunStrategy.RerunOnFailure;
import static io.virtfleet.reconcilers.lifecycle.Fixtures.NOW;
import static io.virtfleet.reconcilers.lifecycle.LifecycleAnnotations.AUTO_RESTART_COUNT;
import static io.virtfleet.reconcilers.lifecycle.LifecycleAnnotations.LAST_AUTO_RESTART;
import static io.virtfleet.reconcilers.lifecycle.LifecycleAnnotations.LAST_HANDLED_REQUEST;
import static io.virtfleet.reconcilers.lifecycle.LifecycleAnnotations.STOP_REASON;
import static org.assertj.core.api.Assertions.assertThat;

class RunStrategyPolicyTest {
    private static final String RUN = DomainSpec.POWER_RUNNING;
    private static final String STOP = DomainSpec.POWER_STOPPED;
    private static final String PAUSE = DomainSpec.POWER_PAUSED;

    /** One row: a situation and what the policy must answer. */
    static final class Row {
        final String name;
        RunStrategy strategy;
        DomainSpec spec;
        DomainStatus status;
        final Map<String, String> annotations = new HashMap<>();
        String request;
        boolean evict;
        String wantPower;
        long wantGen;
        String wantStopReason;
        String wantHandled;
        List<String> wantNotes = List.of();
        Duration wantRetry;
        Integer wantCount;

        Row(String name, RunStrategy strategy) {
            this.name = name;
            this.strategy = strategy;
        }

        Row domain(String power, long gen, String state, String reason, Long observed) {
            spec = Fixtures.spec(power, gen);
            status = state == null ? null : Fixtures.status(state, reason, observed);
            return this;
        }

        Row ann(String k, String v) {
            annotations.put(k, v);
            return this;
        }

        Row request(String r) {
            request = r;
            return this;
        }

        Row evict() {
            evict = true;
            return this;
        }

        Row want(String power, long gen, String stopReason, String... notes) {
            wantPower = power;
            wantGen = gen;
            wantStopReason = stopReason;
            wantNotes = List.of(notes);
            return this;
        }

        Row handled(String h) {
            wantHandled = h;
            return this;
        }

        Row retry(Duration d) {
            wantRetry = d;
            return this;
        }

        Row count(int c) {
            wantCount = c;
            return this;
        }

        @Override
        public String toString() {
            return name;
        }
    }

    static Row row(String name, RunStrategy s) {
        return new Row(name, s);
    }

    static Stream<Row> rows() {
        String running = DomainStates.RUNNING;
        String shutoff = DomainStates.SHUTOFF;
        String shutdown = DomainStates.REASON_SHUTDOWN;
        String crashed = DomainStates.REASON_CRASHED;
        return Stream.of(
                // a new Domain
                row("create Always starts", Always).want(RUN, 1, null, "Starting"),
                row("create with no runStrategy is Always", null).want(RUN, 1, null, "Starting"),
                row("create RerunOnFailure starts", RerunOnFailure).want(RUN, 1, null, "Starting"),
                row("create Once starts", Once).want(RUN, 1, null, "Starting"),
                row("create Manual waits for a request", Manual).want(STOP, 0, "NotStarted"),
                row("create Manual with a start request", Manual).request("start/1").want(RUN, 1, null, "Starting")
                        .handled("start/1"),
                row("create Halted", Halted).want(STOP, 0, "Halted"),
                row("create Halted rejects start", Halted).request("start").want(STOP, 0, "Halted", "RequestRejected")
                        .handled("start"),
                row("create Always rejects stop", Always).request("stop").want(RUN, 1, null, "RequestRejected",
                        "Starting").handled("stop"),
                row("create Once with stop stays stopped", Once).request("stop").want(STOP, 0, "Request")
                        .handled("stop"),

                // steady states
                row("running stays running", Always).domain(RUN, 1, running, null, 1L).want(RUN, 1, null),
                row("pending start is left to the agent", Always).domain(RUN, 2, shutoff, shutdown, 1L)
                        .want(RUN, 2, null),
                row("agent has not reported yet", Always).domain(RUN, 1, null, null, null).want(RUN, 1, null),
                row("first start not carried out yet", Manual).domain(RUN, 1, shutoff, null, null).want(RUN, 1, null),

                // the guest powered itself off
                row("guest off: Always restarts", Always).domain(RUN, 1, shutoff, shutdown, 1L)
                        .want(RUN, 2, null, "Restarting").count(1),
                row("guest off: Manual respects it", Manual).domain(RUN, 3, shutoff, shutdown, 3L)
                        .want(STOP, 3, "GuestShutdown", "NotRestarted"),
                row("guest off: RerunOnFailure respects it", RerunOnFailure).domain(RUN, 1, shutoff, shutdown, 1L)
                        .want(STOP, 1, "GuestShutdown", "NotRestarted"),
                row("guest off: Once respects it", Once).domain(RUN, 1, shutoff, shutdown, 1L)
                        .want(STOP, 1, "GuestShutdown", "NotRestarted"),

                // crashes
                row("crash: RerunOnFailure restarts", RerunOnFailure).domain(RUN, 1, shutoff, crashed, 1L)
                        .want(RUN, 2, null, "Restarting"),
                row("crashed state: RerunOnFailure restarts", RerunOnFailure)
                        .domain(RUN, 1, DomainStates.CRASHED, "Panicked", 1L).want(RUN, 2, null, "Restarting"),
                row("QEMU destroyed from outside: RerunOnFailure restarts", RerunOnFailure)
                        .domain(RUN, 1, shutoff, DomainStates.REASON_DESTROYED, 1L).want(RUN, 2, null, "Restarting"),
                row("crash: Always restarts", Always).domain(RUN, 4, shutoff, crashed, 4L)
                        .want(RUN, 5, null, "Restarting"),
                row("crash: Manual leaves it", Manual).domain(RUN, 1, shutoff, crashed, 1L)
                        .want(STOP, 1, "Crashed", "NotRestarted"),
                row("crash: Once leaves it", Once).domain(RUN, 1, shutoff, crashed, 1L)
                        .want(STOP, 1, "Crashed", "NotRestarted"),
                row("destroyed: Once leaves it as Stopped", Once).domain(RUN, 1, shutoff, "Destroyed", 1L)
                        .want(STOP, 1, "Stopped", "NotRestarted"),

                // back-off
                row("second restart waits", Always).domain(RUN, 2, shutoff, shutdown, 2L)
                        .ann(AUTO_RESTART_COUNT, "1").ann(LAST_AUTO_RESTART, NOW.minusSeconds(4).toString())
                        .want(RUN, 2, null, "BackOff").retry(Duration.ofSeconds(6)).count(1),
                row("second restart after its back-off", Always).domain(RUN, 2, shutoff, shutdown, 2L)
                        .ann(AUTO_RESTART_COUNT, "1").ann(LAST_AUTO_RESTART, NOW.minusSeconds(11).toString())
                        .want(RUN, 3, null, "Restarting").count(2),
                row("back-off starts over after 10 minutes", Always).domain(RUN, 9, shutoff, crashed, 9L)
                        .ann(AUTO_RESTART_COUNT, "6").ann(LAST_AUTO_RESTART, NOW.minusSeconds(601).toString())
                        .want(RUN, 10, null, "Restarting").count(1),
                row("a restart request skips the back-off", Always).domain(RUN, 2, shutoff, shutdown, 2L)
                        .ann(AUTO_RESTART_COUNT, "3").ann(LAST_AUTO_RESTART, NOW.minusSeconds(1).toString())
                        .request("restart/9").want(RUN, 3, null, "Restarting").handled("restart/9").count(0),

                // requests
                row("Manual start", Manual).domain(STOP, 1, shutoff, shutdown, 1L).ann(STOP_REASON, "GuestShutdown")
                        .request("start/1").want(RUN, 2, null, "Starting").handled("start/1"),
                row("Manual start of a running VM is a no-op", Manual).domain(RUN, 2, running, null, 2L)
                        .request("start").want(RUN, 2, null).handled("start"),
                row("Manual stop", Manual).domain(RUN, 2, running, null, 2L).request("stop/1")
                        .want(STOP, 2, "Request", "Stopping").handled("stop/1"),
                row("stop of a stopped VM says nothing", Manual).domain(STOP, 2, shutoff, shutdown, 2L)
                        .ann(STOP_REASON, "GuestShutdown").request("stop").want(STOP, 2, "Request").handled("stop"),
                row("RerunOnFailure stop", RerunOnFailure).domain(RUN, 1, running, null, 1L).request("stop")
                        .want(STOP, 1, "Request", "Stopping").handled("stop"),
                row("Always rejects stop", Always).domain(RUN, 1, running, null, 1L).request("stop")
                        .want(RUN, 1, null, "RequestRejected").handled("stop"),
                row("restart a running VM", Always).domain(RUN, 1, running, null, 1L).request("restart/1")
                        .want(RUN, 2, null, "Restarting").handled("restart/1"),
                row("restart a stopped Manual VM starts it", Manual).domain(STOP, 1, shutoff, shutdown, 1L)
                        .request("restart").want(RUN, 2, null, "Restarting").handled("restart"),
                row("a handled request is not repeated", Always).domain(RUN, 2, running, null, 2L)
                        .ann(LAST_HANDLED_REQUEST, "restart/1").request("restart/1").want(RUN, 2, null)
                        .handled("restart/1"),
                row("the same verb with a new nonce is a new request", Always).domain(RUN, 2, running, null, 2L)
                        .ann(LAST_HANDLED_REQUEST, "restart/1").request("restart/2")
                        .want(RUN, 3, null, "Restarting").handled("restart/2"),
                row("Halted rejects restart", Halted).domain(STOP, 1, shutoff, shutdown, 1L).ann(STOP_REASON, "Halted")
                        .request("restart/1").want(STOP, 1, "Halted", "RequestRejected").handled("restart/1"),
                row("invalid request", Manual).domain(RUN, 1, running, null, 1L).request("reboot")
                        .want(RUN, 1, null, "InvalidRequest").handled("reboot"),

                // pause and unpause
                row("pause a running VM", Always).domain(RUN, 1, running, null, 1L).request("pause/1")
                        .want(PAUSE, 1, null, "Pausing").handled("pause/1"),
                row("pause under Manual", Manual).domain(RUN, 2, running, null, 2L).request("pause/1")
                        .want(PAUSE, 2, null, "Pausing").handled("pause/1"),
                row("pause of a paused VM says nothing", Always).domain(PAUSE, 1, DomainStates.PAUSED, "User", 1L)
                        .request("pause/2").want(PAUSE, 1, null).handled("pause/2"),
                row("pause while a start is pending pauses once started", Manual).domain(RUN, 2, shutoff, shutdown, 1L)
                        .request("pause/1").want(PAUSE, 2, null, "Pausing").handled("pause/1"),
                row("pause of a stopped VM is rejected", Manual).domain(STOP, 1, shutoff, shutdown, 1L)
                        .ann(STOP_REASON, "Request").request("pause/1").want(STOP, 1, "Request", "RequestRejected")
                        .handled("pause/1"),
                row("pause of a Halted VM is rejected", Halted).domain(STOP, 1, shutoff, shutdown, 1L)
                        .ann(STOP_REASON, "Halted").request("pause/1").want(STOP, 1, "Halted", "RequestRejected")
                        .handled("pause/1"),
                row("pause with no Domain yet is rejected, the VM starts", Always).request("pause/1")
                        .want(RUN, 1, null, "RequestRejected", "Starting").handled("pause/1"),
                row("a paused VM stays paused", Always).domain(PAUSE, 1, DomainStates.PAUSED, "User", 1L)
                        .ann(LAST_HANDLED_REQUEST, "pause/1").request("pause/1").want(PAUSE, 1, null)
                        .handled("pause/1"),
                row("unpause", Always).domain(PAUSE, 1, DomainStates.PAUSED, "User", 1L).request("unpause/1")
                        .want(RUN, 1, null, "Unpausing").handled("unpause/1"),
                row("unpause of a running VM says nothing", Always).domain(RUN, 1, running, null, 1L)
                        .request("unpause/1").want(RUN, 1, null).handled("unpause/1"),
                row("unpause of a stopped VM is rejected", Manual).domain(STOP, 1, shutoff, shutdown, 1L)
                        .ann(STOP_REASON, "Request").request("unpause/1")
                        .want(STOP, 1, "Request", "RequestRejected").handled("unpause/1"),
                row("start resumes a paused VM without a restart", Manual)
                        .domain(PAUSE, 2, DomainStates.PAUSED, "User", 2L).request("start/3")
                        .want(RUN, 2, null, "Unpausing").handled("start/3"),
                row("restart of a paused VM runs it unpaused", Always).domain(PAUSE, 1, DomainStates.PAUSED, "User", 1L)
                        .request("restart/1").want(RUN, 2, null, "Restarting").handled("restart/1"),
                row("stop of a paused VM", Manual).domain(PAUSE, 1, DomainStates.PAUSED, "User", 1L)
                        .request("stop/1").want(STOP, 1, "Request", "Stopping").handled("stop/1"),
                row("Always rejects stop of a paused VM and it stays paused", Always)
                        .domain(PAUSE, 1, DomainStates.PAUSED, "User", 1L).request("stop/1")
                        .want(PAUSE, 1, null, "RequestRejected").handled("stop/1"),
                row("Halted stops a paused VM", Halted).domain(PAUSE, 1, DomainStates.PAUSED, "User", 1L)
                        .want(STOP, 1, "Halted", "Stopping"),
                row("QEMU killed while paused: Always restarts it running", Always)
                        .domain(PAUSE, 1, shutoff, crashed, 1L).want(RUN, 2, null, "Restarting"),

                // runStrategy changes
                row("Always to Halted stops", Halted).domain(RUN, 1, running, null, 1L)
                        .want(STOP, 1, "Halted", "Stopping"),
                row("Halted to Always starts", Always).domain(STOP, 1, shutoff, shutdown, 1L)
                        .ann(STOP_REASON, "Halted").want(RUN, 2, null, "Starting"),
                row("Halted to RerunOnFailure starts", RerunOnFailure).domain(STOP, 0, shutoff, null, null)
                        .ann(STOP_REASON, "Halted").want(RUN, 1, null, "Starting"),
                row("Halted to Manual stays stopped", Manual).domain(STOP, 0, shutoff, null, null)
                        .ann(STOP_REASON, "Halted").want(STOP, 0, "NotStarted"),
                row("Manual stopped by request, then Always", Always).domain(STOP, 3, shutoff, shutdown, 3L)
                        .ann(STOP_REASON, "Request").want(RUN, 4, null, "Starting"),
                row("RerunOnFailure after a guest power-off stays stopped", RerunOnFailure)
                        .domain(STOP, 1, shutoff, shutdown, 1L).ann(STOP_REASON, "GuestShutdown")
                        .want(STOP, 1, "GuestShutdown"),
                row("Always while a stop is still under way keeps it running", Always)
                        .domain(STOP, 1, running, null, 1L).ann(STOP_REASON, "Request").want(RUN, 1, null, "Starting"),

                // host drain with evictionStrategy Stop
                row("drain stops a running VM", Always).domain(RUN, 1, running, null, 1L).evict()
                        .want(STOP, 1, "Evicted", "Stopping"),
                row("drain keeps it stopped", Always).domain(STOP, 1, shutoff, shutdown, 1L).ann(STOP_REASON, "Evicted")
                        .evict().want(STOP, 1, "Evicted"),
                row("drain: a start request is refused", Always).domain(STOP, 1, shutoff, shutdown, 1L)
                        .ann(STOP_REASON, "Evicted").evict().request("start/2")
                        .want(STOP, 1, "Evicted", "RequestRejected").handled("start/2"),
                row("drain leaves a never-started Manual VM as it is", Manual).domain(STOP, 0, shutoff, null, null)
                        .ann(STOP_REASON, "NotStarted").evict().want(STOP, 0, "NotStarted"),
                row("undrain starts what the drain stopped, even Manual", Manual).domain(STOP, 1, shutoff, shutdown, 1L)
                        .ann(STOP_REASON, "Evicted").want(RUN, 2, null, "Starting"),
                row("Halted wins over a drain", Halted).domain(RUN, 1, running, null, 1L).evict()
                        .want(STOP, 1, "Halted", "Stopping"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rows")
    void decides(Row r) {
        PowerPlan p = RunStrategyPolicy.decide(new RunStrategyPolicy.Input(r.strategy, r.spec, r.status,
                r.annotations, r.request, NOW, r.evict));
        assertThat(p.powerState()).as("powerState").isEqualTo(r.wantPower);
        assertThat(p.restartGeneration()).as("restartGeneration").isEqualTo(r.wantGen);
        assertThat(p.stopReason()).as("stopReason").isEqualTo(r.wantStopReason);
        assertThat(p.handledRequest()).as("handledRequest").isEqualTo(r.wantHandled);
        assertThat(p.notes()).extracting(Note::reason).as("notes").containsExactlyElementsOf(r.wantNotes);
        assertThat(p.retryAfter()).as("retryAfter").isEqualTo(r.wantRetry);
        if (r.wantCount != null) {
            assertThat(p.autoRestartCount()).as("autoRestartCount").isEqualTo(r.wantCount);
        }
    }

    /** The refusals the CLI shows before writing anything are the operator's own words. */
    @ParameterizedTest(name = "{0} {1} running={2}")
    @org.junit.jupiter.params.provider.CsvSource(nullValues = "-", value = {
            "Always,      STOP,    true,  runStrategy Always keeps the VM running; set spec.runStrategy to Manual or Halted to stop it",
            "Manual,      STOP,    true,  -",
            "Halted,      STOP,    false, -",
            "Halted,      START,   false, runStrategy Halted keeps the VM stopped; change spec.runStrategy to run it",
            "Halted,      RESTART, false, runStrategy Halted keeps the VM stopped; change spec.runStrategy to run it",
            "Halted,      PAUSE,   false, runStrategy Halted keeps the VM stopped; change spec.runStrategy to run it",
            "Manual,      START,   false, -",
            "Manual,      PAUSE,   false, the VM is not running; only a running VM can be paused",
            "Once,        PAUSE,   true,  -",
            "Manual,      UNPAUSE, false, the VM is not running; start it instead",
            "RerunOnFailure, UNPAUSE, true, -",
            "Always,      INVALID, true,  -"})
    void rejections(RunStrategy strategy, UserRequest.Verb verb, boolean running, String want) {
        assertThat(RunStrategyPolicy.rejection(strategy, verb, running)).isEqualTo(want);
    }

    @Test
    void backoffDoublesUpToFiveMinutes() {
        assertThat(RunStrategyPolicy.backoff(0)).isEqualTo(Duration.ZERO);
        assertThat(RunStrategyPolicy.backoff(1)).isEqualTo(Duration.ofSeconds(10));
        assertThat(RunStrategyPolicy.backoff(2)).isEqualTo(Duration.ofSeconds(20));
        assertThat(RunStrategyPolicy.backoff(5)).isEqualTo(Duration.ofSeconds(160));
        assertThat(RunStrategyPolicy.backoff(6)).isEqualTo(Duration.ofMinutes(5));
        assertThat(RunStrategyPolicy.backoff(1000)).isEqualTo(Duration.ofMinutes(5));
    }

    @Test
    void automaticRestartRecordsWhen() {
        PowerPlan p = RunStrategyPolicy.decide(new RunStrategyPolicy.Input(Always, Fixtures.spec(RUN, 1),
                Fixtures.status(DomainStates.SHUTOFF, DomainStates.REASON_SHUTDOWN, 1L), Map.of(), null, NOW));
        assertThat(p.lastAutoRestart()).isEqualTo(NOW);
    }

    @Test
    void requestsParse() {
        assertThat(UserRequest.parse("restart/1700000000").verb()).isEqualTo(UserRequest.Verb.RESTART);
        assertThat(UserRequest.parse(" Start ").verb()).isEqualTo(UserRequest.Verb.START);
        assertThat(UserRequest.parse("stop/").verb()).isEqualTo(UserRequest.Verb.STOP);
        assertThat(UserRequest.parse("pause").verb()).isEqualTo(UserRequest.Verb.PAUSE);
        assertThat(UserRequest.parse("Unpause/17").verb()).isEqualTo(UserRequest.Verb.UNPAUSE);
        assertThat(UserRequest.parse("resume").verb()).isEqualTo(UserRequest.Verb.INVALID);
        assertThat(UserRequest.VERBS).containsExactly("start", "stop", "restart", "pause", "unpause");
        assertThat(UserRequest.parse(null)).isNull();
    }
}
