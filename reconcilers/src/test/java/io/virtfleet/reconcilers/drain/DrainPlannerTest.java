package io.virtfleet.reconcilers.drain;

import io.virtfleet.api.v1alpha1.EvictionStrategy;
import io.virtfleet.api.v1alpha1.HostDrainStatus;
import io.virtfleet.reconcilers.drain.DrainPlanner.Create;
import io.virtfleet.reconcilers.drain.DrainPlanner.Input;
import io.virtfleet.reconcilers.drain.DrainPlanner.Migration;
import io.virtfleet.reconcilers.drain.DrainPlanner.Plan;
import io.virtfleet.reconcilers.drain.DrainPlanner.Vm;
import io.virtfleet.reconcilers.lifecycle.Note;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

class DrainPlannerTest {
    static final Instant NOW = Instant.parse("2026-12-02T01:00:00Z");
    static final String ID = "abc";

    static HostDrainStatus started() {
        HostDrainStatus s = new HostDrainStatus();
        s.id = ID;
        s.phase = HostDrainStatus.DRAINING;
        s.startTime = NOW.minusSeconds(60).toString();
        return s;
    }

    static Vm vm(String name, EvictionStrategy e) {
        return new Vm("ns", name, e, true, null);
    }

    static Vm stoppedVm(String name, EvictionStrategy e) {
        return new Vm("ns", name, e, false, null);
    }

    static Migration mig(String vm, int attempt, String phase, String error, Instant end) {
        return new Migration("ns", DrainPlanner.migrationName(vm, ID, attempt), vm, ID, phase,
                "Succeeded".equals(phase) ? "node-b" : null, error, end, false);
    }

    /** A situation, and what the plan must say: each VM's state, what to create and delete, the phase, events. */
    record Case(String name, boolean drain, HostDrainStatus previous, List<Vm> vms, List<Migration> migrations,
                String phase, Map<String, String> states, List<String> create, List<String> delete,
                List<String> events, Consumer<Plan> more) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Case> cases() {
        Instant failedAt = NOW.minusSeconds(10);
        return Stream.of(
                new Case("a new drain is recorded before anything moves", true, null,
                        List.of(vm("web", null)), List.of(), HostDrainStatus.DRAINING, Map.of(), List.of(), List.of(),
                        List.of("Draining"), p -> {
                            assertThat(p.record()).isTrue();
                            assertThat(p.status().id).isEqualTo(Long.toString(NOW.getEpochSecond(), 36));
                            assertThat(p.status().startTime).isEqualTo(NOW.toString());
                            assertThat(p.retryAfter()).isEqualTo(Duration.ZERO);
                        }),
                new Case("three VMs, one with evictionStrategy None: two migrations, one reported", true, started(),
                        List.of(vm("a", null), vm("b", EvictionStrategy.LiveMigrate), vm("c", EvictionStrategy.None)),
                        List.of(), HostDrainStatus.DRAINING,
                        Map.of("a", "Migrating", "b", "Migrating", "c", "NotMoved"),
                        List.of("a-drain-abc", "b-drain-abc"), List.of(), List.of(), p -> {
                            assertThat(p.create()).extracting(Create::vmName).containsExactly("a", "b");
                            assertThat(p.status().vms).filteredOn(v -> v.name.equals("c")).first()
                                    .satisfies(v -> assertThat(v.message)
                                            .isEqualTo("evictionStrategy None: left running on the host"));
                            assertThat(p.record()).isFalse();
                        }),
                new Case("a migration in flight is followed, not repeated", true, started(), List.of(vm("a", null)),
                        List.of(mig("a", 1, "Migrating", null, null)), HostDrainStatus.DRAINING,
                        Map.of("a", "Migrating"), List.of(), List.of(), List.of(), null),
                new Case("two moved, one not: Incomplete, with the reason", true, started(),
                        List.of(vm("c", EvictionStrategy.None)),
                        List.of(mig("a", 1, "Succeeded", null, failedAt), mig("b", 1, "Succeeded", null, failedAt)),
                        HostDrainStatus.INCOMPLETE, Map.of("a", "Migrated", "b", "Migrated", "c", "NotMoved"),
                        List.of(), List.of(), List.of("DrainIncomplete"), p -> {
                            assertThat(p.status().message).isEqualTo("3 VMs: 2 migrated, 1 not moved");
                            assertThat(p.notes().get(0).message()).contains("ns/c: evictionStrategy None");
                            assertThat(p.retryAfter()).isEqualTo(DrainPlanner.POLL_IDLE);
                        }),
                new Case("everything moved: Drained", true, started(), List.of(stoppedVm("off", null)),
                        List.of(mig("a", 1, "Succeeded", null, failedAt)), HostDrainStatus.DRAINED,
                        Map.of("a", "Migrated", "off", "Stopped"), List.of(), List.of(), List.of("Drained"),
                        p -> assertThat(p.status().completionTime).isEqualTo(NOW.toString())),
                new Case("a refused migration is reported and retried later", true, started(), List.of(vm("a", null)),
                        List.of(mig("a", 1, "Failed", "spec.vmName: no other host can take the VM: NoSchedulableHost",
                                failedAt)), HostDrainStatus.INCOMPLETE, Map.of("a", "NotMoved"), List.of(), List.of(),
                        List.of("DrainIncomplete"), p -> {
                            assertThat(p.status().vms.get(0).message).startsWith("spec.vmName: no other host can take "
                                    + "the VM: NoSchedulableHost (tried 1 time; again at ");
                            assertThat(p.retryAfter()).isEqualTo(Duration.ofSeconds(20));
                            assertThat(p.status().vms.get(0).retryTime).isEqualTo(NOW.plusSeconds(20).toString());
                        }),
                new Case("its retry is due: attempt 2, the old failure deleted", true, started(), List.of(vm("a", null)),
                        List.of(mig("a", 1, "Failed", "no target", NOW.minusSeconds(30))), HostDrainStatus.DRAINING,
                        Map.of("a", "Migrating"), List.of("a-drain-abc-2"), List.of("a-drain-abc"), List.of(), null),
                new Case("the retry waits longer after each failure", true, started(), List.of(vm("a", null)),
                        List.of(mig("a", 1, "Failed", "x", NOW.minusSeconds(100)),
                                mig("a", 2, "Failed", "y", NOW.minusSeconds(50))), HostDrainStatus.INCOMPLETE,
                        Map.of("a", "NotMoved"), List.of(), List.of(), List.of("DrainIncomplete"),
                        p -> assertThat(p.status().vms.get(0).message).startsWith("y (tried 2 times")),
                new Case("evictionStrategy Stop: stopping, then stopped", true, started(),
                        List.of(vm("s", EvictionStrategy.Stop), stoppedVm("t", EvictionStrategy.Stop)),
                        List.of(), HostDrainStatus.DRAINING, Map.of("s", "Stopping", "t", "Stopped"), List.of(),
                        List.of(), List.of(), null),
                new Case("someone else's migration of the VM is waited for", true, started(),
                        List.of(new Vm("ns", "a", null, true, "users-own")), List.of(), HostDrainStatus.DRAINING,
                        Map.of("a", "Migrating"), List.of(), List.of(), List.of(),
                        p -> assertThat(p.status().vms.get(0).migration).isEqualTo("users-own")),
                new Case("succeeded but the Domain has not followed yet", true, started(), List.of(vm("a", null)),
                        List.of(mig("a", 1, "Succeeded", null, failedAt)), HostDrainStatus.DRAINING,
                        Map.of("a", "Migrating"), List.of(), List.of(), List.of(), null),
                new Case("migrations of an earlier drain are not this one's", true, started(), List.of(vm("a", null)),
                        List.of(new Migration("ns", "a-drain-old", "a", "old", "Succeeded", "node-b", null, failedAt,
                                false)), HostDrainStatus.DRAINING, Map.of("a", "Migrating"), List.of("a-drain-abc"),
                        List.of(), List.of(), null),
                new Case("an empty host is drained at once", true, started(), List.of(), List.of(),
                        HostDrainStatus.DRAINED, Map.of(), List.of(), List.of(), List.of("Drained"),
                        p -> assertThat(p.status().message).isEqualTo("no VMs on the host")),
                new Case("undrain cancels unfinished migrations and removes the status", false, started(),
                        List.of(vm("a", null)), List.of(mig("a", 1, "Migrating", null, null),
                        mig("b", 1, "Succeeded", null, failedAt)), null, Map.of(), List.of(), List.of("a-drain-abc"),
                        List.of("Undrained"), p -> assertThat(p.record()).isTrue()),
                new Case("not draining, never drained: nothing", false, null, List.of(vm("a", null)), List.of(), null,
                        Map.of(), List.of(), List.of(), List.of(), p -> {
                            assertThat(p.record()).isFalse();
                            assertThat(p.retryAfter()).isNull();
                        }));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void plans(Case c) {
        Plan p = DrainPlanner.plan(new Input("node-a", c.drain(), c.previous(), c.vms(), c.migrations(), NOW));
        if (c.phase() == null) {
            assertThat(p.status()).isNull();
        } else {
            assertThat(p.status().phase).isEqualTo(c.phase());
            assertThat(p.status().vms.stream().collect(Collectors.toMap(v -> v.name, v -> v.state)))
                    .isEqualTo(c.states());
        }
        assertThat(p.create()).extracting(Create::name).containsExactlyElementsOf(c.create());
        assertThat(p.delete()).extracting(Migration::name).containsExactlyElementsOf(c.delete());
        assertThat(p.notes()).extracting(Note::reason).containsExactlyElementsOf(c.events());
        if (c.more() != null) {
            c.more().accept(p);
        }
    }

    @Test
    void aRepeatedPassChangesNothingAndPostsNoEvent() {
        Input in = new Input("node-a", true, started(), List.of(vm("c", EvictionStrategy.None)),
                List.of(mig("a", 1, "Succeeded", null, NOW)), NOW);
        Plan first = DrainPlanner.plan(in);
        Plan again = DrainPlanner.plan(new Input("node-a", true, first.status(), in.vms(), in.migrations(),
                NOW.plusSeconds(30)));
        assertThat(again.notes()).isEmpty();
        assertThat(again.create()).isEmpty();
        assertThat(again.status().phase).isEqualTo(first.status().phase);
    }

    @Test
    void migrationNamesStayValidAndAttemptsParse() {
        String longName = "v".repeat(250);
        String n = DrainPlanner.migrationName(longName, "sx3k1a", 12);
        assertThat(n).hasSizeLessThanOrEqualTo(253).endsWith("-drain-sx3k1a-12");
        assertThat(DrainPlanner.attempt(n)).isEqualTo(12);
        assertThat(DrainPlanner.attempt(DrainPlanner.migrationName("web-drain-x", "sx3k1a", 1))).isEqualTo(1);
        assertThat(DrainPlanner.retryDelay(1)).isEqualTo(Duration.ofSeconds(30));
        assertThat(DrainPlanner.retryDelay(2)).isEqualTo(Duration.ofSeconds(60));
        assertThat(DrainPlanner.retryDelay(30)).isEqualTo(DrainPlanner.RETRY_MAX);
    }
}
