package io.virtfleet.reconcilers.genid;

import io.virtfleet.reconcilers.genid.GenidPolicy.Stamp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** The ordering rule of generation IDs: a stamp is never replaced by one of a lower generation. */
class GenidStampTest {
    private static final String G0 = "00000000-0000-4000-8000-000000000000";
    private static final String G1 = "11111111-1111-4111-8111-111111111111";
    private static final String G2 = "22222222-2222-4222-8222-222222222222";

    static Stamp s(String g, long n) {
        return new Stamp(g, n);
    }

    static Stream<Arguments> newest() {
        return Stream.of(
                // pinned, observed, observed is for the current spec, want
                Arguments.of(null, null, true, null),
                Arguments.of(s(G1, 1), null, true, s(G1, 1)),
                Arguments.of(null, s(G0, 0), true, s(G0, 0)), // libvirt generated the first one
                Arguments.of(s(G1, 1), s(G0, 0), true, s(G1, 1)), // a stale report never wins
                Arguments.of(s(G1, 1), s(G0, 0), false, s(G1, 1)),
                Arguments.of(s(G1, 1), s(G2, 2), false, s(G2, 2)), // libvirt chose it at a revert
                Arguments.of(s(G1, 1), s(G2, 1), true, s(G2, 1)), // changed outside virtfleet: reported
                Arguments.of(s(G1, 1), s(G2, 1), false, s(G1, 1))); // report predates the spec: pinned
    }

    @ParameterizedTest(name = "pinned {0}, observed {1} (current {2}) -> {3}")
    @MethodSource("newest")
    void theNewestGenerationIsPinned(Stamp pinned, Stamp observed, boolean current, Stamp want) {
        assertThat(GenidPolicy.newest(pinned, observed, current)).isEqualTo(want);
    }

    static Stream<Arguments> fold() {
        return Stream.of(
                Arguments.of(null, null, null),
                Arguments.of(null, s(G0, 0), s(G0, 0)),
                Arguments.of(s(G0, 0), s(G1, 1), s(G1, 1)),
                Arguments.of(s(G1, 1), s(G0, 0), s(G1, 1)), // a stale Domain status
                Arguments.of(s(G1, 1), null, s(G1, 1)),
                Arguments.of(s(G1, 1), s(G2, 1), s(G2, 1))); // same generation: libvirt's word
    }

    @ParameterizedTest(name = "status {0} + report {1} -> {2}")
    @MethodSource("fold")
    void theVmStatusNeverGoesBack(Stamp previous, Stamp reported, Stamp want) {
        assertThat(GenidPolicy.fold(previous, reported)).isEqualTo(want);
    }

    @Test
    void theAgentNeverDefinesALowerGeneration() {
        assertThat(GenidPolicy.mayDefine(0, null)).isTrue();
        assertThat(GenidPolicy.mayDefine(1, 1L)).isTrue();
        assertThat(GenidPolicy.mayDefine(2, 1L)).isTrue();
        assertThat(GenidPolicy.mayDefine(1, 2L)).isFalse();
    }

    @Test
    void stampsOfNothingAreNull() {
        assertThat(Stamp.of(null, 3L)).isNull();
        assertThat(Stamp.of("", 3L)).isNull();
        assertThat(Stamp.of("not-a-guid", 3L)).isNull();
        assertThat(Stamp.of(G1.toUpperCase(), null)).isEqualTo(s(G1, 0));
        assertThat(s(G1, 4).next(G2)).isEqualTo(s(G2, 5));
    }

    /**
     * The sequence that used to roll back (two restores of a stopped VM to one snapshot), played on the rules: the
     * operator pins each restore's genid before the agent reverts; the revert brings the snapshot's old definition
     * (and stamp) back; the agent re-stamps it, and any redefine from a stale Domain spec is refused. Every restore
     * ends on a generation ID never seen before and the status never shows an older one.
     */
    @Test
    void twoRestoresOfAStoppedVmToOneSnapshotEachGiveANewGenid() {
        Stamp libvirt = s(G0, 0); // defined with <genid/>, libvirt made G0
        Stamp pinned = GenidPolicy.newest(null, libvirt, true);
        Stamp status = GenidPolicy.fold(null, libvirt);
        Stamp snapshot = libvirt; // s1 stores the definition of that moment
        Set<String> seen = new HashSet<>(Set.of(G0));
        List<String> history = new ArrayList<>(List.of(G0));
        Stamp staleSpec = pinned; // what an agent's lagging informer cache may still hold
        for (String fresh : List.of(G1, G2, "33333333-3333-4333-8333-333333333333")) {
            Stamp chosen = GenidPolicy.newest(pinned, status, true).next(fresh); // recorded on the restore
            pinned = chosen;
            libvirt = snapshot; // revert: the stored definition, stamp included, comes back ...
            libvirt = chosen; // ... and is re-stamped with the restore's genid under the domain's lock
            if (GenidPolicy.mayDefine(staleSpec.generation(), libvirt.generation())) {
                libvirt = staleSpec; // never happens: the rule refuses it
            }
            if (GenidPolicy.mayDefine(pinned.generation(), libvirt.generation())) {
                libvirt = pinned;
            }
            Stamp before = status;
            status = GenidPolicy.fold(status, libvirt);
            status = GenidPolicy.fold(status, staleSpec); // a stale report arrives late
            assertThat(status.generation()).isGreaterThan(before.generation());
            assertThat(seen.add(status.genid())).as("genid %s seen before", status.genid()).isTrue();
            history.add(status.genid());
            staleSpec = before;
        }
        assertThat(history).containsExactly(G0, G1, G2, "33333333-3333-4333-8333-333333333333");
    }
}
