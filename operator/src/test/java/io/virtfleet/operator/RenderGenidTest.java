package io.virtfleet.operator;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.DomainSpec;
import io.virtfleet.api.v1alpha1.DomainStatus;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.api.v1alpha1.VirtualMachineSpec;
import io.virtfleet.api.v1alpha1.VirtualMachineStatus;
import io.virtfleet.reconcilers.genid.GenidPolicy.Stamp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Which genid the reconciler renders: the newest genidGeneration of the pinned, the reported and the restores' ones;
 * at a tie the reported one, except while the report predates the Domain's spec.
 */
class RenderGenidTest {
    private static final String OLD = "946bba88-f335-4731-94ff-c785c1e7230e";
    private static final String NEW = "0a4e4c1e-5b5e-4c3a-9d0e-7a4f1f2b3c4d";
    private static final String NEWER = "22222222-2222-4222-8222-222222222222";

    static VirtualMachine vm(String genid) {
        VirtualMachine vm = new VirtualMachine();
        vm.setMetadata(new ObjectMetaBuilder().withName("v").withNamespace("n").build());
        vm.setSpec(new VirtualMachineSpec());
        vm.getSpec().genid = genid;
        return vm;
    }

    static Domain domain(String specGenid, Long specGen, String reported, Long reportedGen, Long generation,
                         Long observedGeneration) {
        Domain d = new Domain();
        d.setMetadata(new ObjectMetaBuilder().withName("v").withNamespace("n").withGeneration(generation).build());
        d.setSpec(new DomainSpec());
        d.getSpec().genid = specGenid;
        d.getSpec().genidGeneration = specGen;
        d.setStatus(new DomainStatus());
        d.getStatus().genid = reported;
        d.getStatus().genidGeneration = reportedGen;
        d.getStatus().observedGeneration = observedGeneration;
        return d;
    }

    static Stream<Arguments> cases() {
        return Stream.of(
                // spec genid/gen, reported genid/gen, metadata.generation, observedGeneration, restores, want
                // libvirt generated the first one: pin what it reports
                Arguments.of(null, null, NEW, null, 4L, 3L, List.of(), new Stamp(NEW, 0)),
                // a genid changed outside virtfleet, reported for the current spec
                Arguments.of(OLD, null, NEW, null, 4L, 4L, List.of(), new Stamp(NEW, 0)),
                Arguments.of(OLD, null, NEW, null, 4L, null, List.of(), new Stamp(NEW, 0)),
                // after a failover: the Domain names the new host and genid, the status is the lost host's
                Arguments.of(NEW, 1L, OLD, null, 5L, 4L, List.of(), new Stamp(NEW, 1)),
                Arguments.of(NEW.toUpperCase(), null, OLD, null, 5L, 4L, List.of(), new Stamp(NEW, 0)),
                // a stale report of an older generation never wins, even for the current spec
                Arguments.of(NEW, 2L, OLD, 1L, 5L, 5L, List.of(), new Stamp(NEW, 2)),
                // a restore the operator accepted: its recorded genid is pinned before the agent reverts
                Arguments.of(OLD, 1L, OLD, 1L, 5L, 5L, List.of(new Stamp(NEW, 2)), new Stamp(NEW, 2)),
                // ... and stays pinned after it (the Domain carries it now), whatever older restores say
                Arguments.of(NEWER, 3L, NEWER, 3L, 6L, 6L, List.of(new Stamp(NEW, 2), new Stamp(NEWER, 3)),
                        new Stamp(NEWER, 3)),
                // a revert of a running snapshot: libvirt chose the genid, one generation above the planned one
                Arguments.of(NEW, 2L, NEWER, 3L, 6L, 6L, List.of(new Stamp(NEW, 2)), new Stamp(NEWER, 3)));
    }

    @ParameterizedTest(name = "[{index}] spec {0}/{1}, reported {2}/{3}, restores {6} -> {7}")
    @MethodSource("cases")
    void theNewestGenerationIsRendered(String specGenid, Long specGen, String reported, Long reportedGen,
                                       Long generation, Long observed, List<Stamp> restores, Stamp want) {
        assertThat(VirtualMachineReconciler.renderGenid(vm("auto"),
                domain(specGenid, specGen, reported, reportedGen, generation, observed), restores)).isEqualTo(want);
    }

    @Test
    void withNoReportTheVmStatusCounts() {
        VirtualMachine vm = vm("auto");
        vm.setStatus(new VirtualMachineStatus());
        vm.getStatus().genid = NEW;
        vm.getStatus().genidGeneration = 2L;
        assertThat(VirtualMachineReconciler.renderGenid(vm, domain(OLD, 1L, null, null, 3L, 3L), List.of()))
                .isEqualTo(new Stamp(NEW, 2));
    }

    @Test
    void noneStaysNone() {
        assertThat(VirtualMachineReconciler.renderGenid(vm("none"), domain(NEW, 1L, OLD, null, 5L, 4L),
                List.of(new Stamp(NEWER, 2)))).isNull();
    }
}
