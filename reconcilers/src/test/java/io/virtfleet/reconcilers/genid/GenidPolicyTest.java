package io.virtfleet.reconcilers.genid;

import io.virtfleet.api.v1alpha1.GenidChange;
import io.virtfleet.reconcilers.genid.GenidPolicy.Action;
import io.virtfleet.reconcilers.genid.GenidPolicy.Decision;
import io.virtfleet.reconcilers.genid.GenidPolicy.Transition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GenidPolicyTest {
    private static final String CUR = "946bba88-f335-4731-94ff-c785c1e7230e";
    private static final String FRESH = "0a4e4c1e-5b5e-4c3a-9d0e-7a4f1f2b3c4d";
    private static final String EXPLICIT = "E9392370-2917-565E-692B-D057F46512D6";
    private static final Instant NOW = Instant.parse("2026-01-01T12:00:00Z");

    /** Each rule: spec.genid, transition, expected action and history reason. */
    static Stream<Arguments> rules() {
        return Stream.of(
                // a new genid before the guest runs again
                Arguments.of("auto", Transition.SNAPSHOT_REVERT, Action.NEW, "SnapshotRestored"),
                Arguments.of("auto", Transition.BACKUP_RESTORE, Action.NEW, "BackupRestored"),
                Arguments.of("auto", Transition.CLONE, Action.NEW, "Cloned"),
                Arguments.of("auto", Transition.IMPORT, Action.NEW, "Imported"),
                Arguments.of("auto", Transition.COPY, Action.NEW, "Cloned"),
                Arguments.of("auto", Transition.FAILOVER, Action.NEW, "Failover"),
                Arguments.of(null, Transition.SNAPSHOT_REVERT, Action.NEW, "SnapshotRestored"),
                // explicit GUID is only the initial value
                Arguments.of(EXPLICIT, Transition.SNAPSHOT_REVERT, Action.NEW, "SnapshotRestored"),
                Arguments.of(EXPLICIT, Transition.CLONE, Action.NEW, "Cloned"),
                Arguments.of(EXPLICIT, Transition.FAILOVER, Action.NEW, "Failover"),
                // never a change
                Arguments.of("auto", Transition.PLAIN_RESTART, Action.KEEP, null),
                Arguments.of("auto", Transition.GUEST_REBOOT, Action.KEEP, null),
                Arguments.of("auto", Transition.PAUSE_RESUME, Action.KEEP, null),
                Arguments.of("auto", Transition.LIVE_MIGRATION, Action.KEEP, null),
                Arguments.of("auto", Transition.AGENT_RESTART, Action.KEEP, null),
                Arguments.of("auto", Transition.LIBVIRTD_RESTART, Action.KEEP, null),
                Arguments.of("auto", Transition.REDEFINE, Action.KEEP, null),
                Arguments.of(EXPLICIT, Transition.PLAIN_RESTART, Action.KEEP, null),
                Arguments.of(EXPLICIT, Transition.LIVE_MIGRATION, Action.KEEP, null),
                // none stays none, even for copies
                Arguments.of("none", Transition.SNAPSHOT_REVERT, Action.NO_DEVICE, null),
                Arguments.of("none", Transition.CLONE, Action.NO_DEVICE, null),
                Arguments.of("none", Transition.PLAIN_RESTART, Action.NO_DEVICE, null),
                Arguments.of("none", Transition.CREATED, Action.NO_DEVICE, null));
    }

    @ParameterizedTest(name = "{0} + {1} -> {2}")
    @MethodSource("rules")
    void rule(String spec, Transition t, Action want, String reason) {
        Decision d = GenidPolicy.decide(spec, CUR, t, () -> FRESH);
        assertThat(d.action()).isEqualTo(want);
        assertThat(d.reason()).isEqualTo(reason);
        switch (want) {
            case NEW -> assertThat(d.genid()).isEqualTo(FRESH).isNotEqualTo(CUR);
            case KEEP -> assertThat(d.genid()).isEqualTo(CUR);
            case NO_DEVICE -> assertThat(d.genid()).isNull();
        }
        assertThat(d.message()).isNotBlank();
    }

    @Test
    void noneOnACopyingTransitionSaysTheGuestIsNotTold() {
        assertThat(GenidPolicy.decide("none", null, Transition.SNAPSHOT_REVERT).message())
                .contains("none").contains("not told").contains("reverted to a snapshot");
        assertThat(GenidPolicy.decide("none", null, Transition.CLONE).message()).contains("cloned");
    }

    @Test
    void createdUsesTheExplicitGuidOrLetsLibvirtGenerate() {
        Decision explicit = GenidPolicy.decide(EXPLICIT, null, Transition.CREATED);
        assertThat(explicit.genid()).isEqualTo(EXPLICIT.toLowerCase());
        assertThat(explicit.reason()).isEqualTo("Created");
        Decision auto = GenidPolicy.decide("auto", null, Transition.CREATED);
        assertThat(auto.action()).isEqualTo(Action.NEW);
        assertThat(auto.genid()).isNull();
    }

    @Test
    void aFreshGenidIsRandomAndNeverTheCurrentOne() {
        Decision a = GenidPolicy.decide("auto", CUR, Transition.SNAPSHOT_REVERT);
        Decision b = GenidPolicy.decide("auto", CUR, Transition.SNAPSHOT_REVERT);
        assertThat(a.genid()).isNotEqualTo(b.genid()).isNotEqualTo(CUR);
        assertThatThrownBy(() -> GenidPolicy.decide("auto", CUR, Transition.CLONE, () -> CUR))
                .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void modes() {
        assertThat(GenidPolicy.mode(null)).isEqualTo(GenidPolicy.Mode.AUTO);
        assertThat(GenidPolicy.mode("auto")).isEqualTo(GenidPolicy.Mode.AUTO);
        assertThat(GenidPolicy.mode("none")).isEqualTo(GenidPolicy.Mode.NONE);
        assertThat(GenidPolicy.mode(EXPLICIT)).isEqualTo(GenidPolicy.Mode.EXPLICIT);
    }

    @Test
    void historyRecordsCreatedThenEveryChangeOnce() {
        List<GenidChange> h = GenidPolicy.record(List.of(), null, null, NOW);
        assertThat(h).isEmpty();
        h = GenidPolicy.record(h, CUR.toUpperCase(), null, NOW);
        assertThat(h).singleElement().satisfies(c -> {
            assertThat(c.genid).isEqualTo(CUR);
            assertThat(c.reason).isEqualTo("Created");
            assertThat(c.time).isEqualTo("2026-01-01T12:00:00Z");
        });
        assertThat(GenidPolicy.record(h, CUR, "SnapshotRestored", NOW)).hasSize(1); // same genid: nothing
        h = GenidPolicy.record(h, FRESH, "SnapshotRestored", NOW.plusSeconds(5));
        assertThat(h).extracting(c -> c.reason).containsExactly("Created", "SnapshotRestored");
        h = GenidPolicy.record(h, CUR, null, NOW.plusSeconds(9));
        assertThat(h).extracting(c -> c.reason).containsExactly("Created", "SnapshotRestored", "ChangedOutsideVirtfleet");
    }

    @org.junit.jupiter.params.ParameterizedTest(name = "{0} -> {1}")
    @org.junit.jupiter.params.provider.CsvSource(nullValues = "null", value = {
            "null, Created", "other=x, Created", "virtfleet.io/cloned-from=src, Cloned",
            "virtfleet.io/restored-from-backup=b1, BackupRestored"})
    void aCopysFirstGenidIsRecordedWithTheReasonOfTheCopy(String annotation, String reason) {
        java.util.Map<String, String> a = annotation == null ? null
                : java.util.Map.of(annotation.split("=")[0], annotation.split("=")[1]);
        assertThat(GenidPolicy.initialReason(a)).isEqualTo(reason);
        List<GenidChange> h = GenidPolicy.record(List.of(), CUR, null, GenidPolicy.initialReason(a), NOW);
        assertThat(h).extracting(c -> c.reason).containsExactly(reason);
        // only the first entry: later changes keep their own reason
        assertThat(GenidPolicy.record(h, FRESH, "SnapshotRestored", reason, NOW)).extracting(c -> c.reason)
                .containsExactly(reason, "SnapshotRestored");
    }

    @Test
    void explicitSpecThatDiffersFromStatusIsExplained() {
        assertThat(GenidPolicy.whyDiffers(EXPLICIT, EXPLICIT.toLowerCase(), List.of())).isNull();
        assertThat(GenidPolicy.whyDiffers("auto", FRESH, List.of())).isNull();
        assertThat(GenidPolicy.whyDiffers(EXPLICIT, FRESH,
                List.of(new GenidChange(FRESH, "SnapshotRestored", "2026-01-01T12:00:00Z"))))
                .contains("initial value").contains("SnapshotRestored");
    }

    @Test
    void sourceNamesTheSpecLibvirtOrTheLastChange() {
        List<GenidChange> created = List.of(new GenidChange(CUR, "Created", "t0"));
        assertThat(GenidPolicy.source(EXPLICIT, CUR, List.of())).isNull();
        assertThat(GenidPolicy.source("auto", null, created)).isNull();
        assertThat(GenidPolicy.source(EXPLICIT, CUR, created)).isEqualTo("Spec");
        assertThat(GenidPolicy.source("auto", CUR, created)).isEqualTo("Generated");
        assertThat(GenidPolicy.source(null, CUR, created)).isEqualTo("Generated");
        List<GenidChange> failedOver = List.of(created.get(0), new GenidChange(FRESH, "Failover", "t1"));
        assertThat(GenidPolicy.source(EXPLICIT, FRESH, failedOver)).isEqualTo("Failover");
        assertThat(GenidPolicy.source("auto", FRESH, failedOver)).isEqualTo("Failover");
    }

    @Test
    void whyDiffersNamesTheChangeAndItsTime() {
        assertThat(GenidPolicy.whyDiffers(EXPLICIT, FRESH, List.of(new GenidChange(EXPLICIT, "Created", "t0"),
                new GenidChange(FRESH, "SnapshotRestored", "2026-01-01T12:00:00Z"))))
                .isEqualTo("spec.genid is the initial value (never rewritten); the current generation ID changed on "
                        + "SnapshotRestored at 2026-01-01T12:00:00Z");
    }

    @Test
    void newChangesAreTheAppendedReasonsButCreated() {
        GenidChange c = new GenidChange(CUR, "Created", "t0");
        GenidChange r = new GenidChange(FRESH, "SnapshotRestored", "t1");
        GenidChange f = new GenidChange(CUR, "Failover", "t2");
        assertThat(GenidPolicy.newChanges(null, List.of(c))).isEmpty();
        assertThat(GenidPolicy.newChanges(List.of(c), List.of(c))).isEmpty();
        assertThat(GenidPolicy.newChanges(List.of(c), List.of(c, r))).containsExactly("SnapshotRestored");
        assertThat(GenidPolicy.newChanges(List.of(), List.of(c, r, f))).containsExactly("SnapshotRestored", "Failover");
        assertThat(GenidPolicy.newChanges(List.of(c, r), null)).isEmpty();
    }
}
