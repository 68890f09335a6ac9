package io.virtfleet.operator;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.DomainSpec;
import io.virtfleet.api.v1alpha1.DomainStatus;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.api.v1alpha1.VirtualMachineSpec;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Which genid the reconciler renders: the reported one, except while the report predates the Domain's spec. */
class RenderGenidTest {
    private static final String OLD = "946bba88-f335-4731-94ff-c785c1e7230e";
    private static final String NEW = "0a4e4c1e-5b5e-4c3a-9d0e-7a4f1f2b3c4d";

    static VirtualMachine vm(String genid) {
        VirtualMachine vm = new VirtualMachine();
        vm.setMetadata(new ObjectMetaBuilder().withName("v").withNamespace("n").build());
        vm.setSpec(new VirtualMachineSpec());
        vm.getSpec().genid = genid;
        return vm;
    }

    static Domain domain(String specGenid, String reported, Long generation, Long observedGeneration) {
        Domain d = new Domain();
        d.setMetadata(new ObjectMetaBuilder().withName("v").withNamespace("n").withGeneration(generation).build());
        d.setSpec(new DomainSpec());
        d.getSpec().genid = specGenid;
        d.setStatus(new DomainStatus());
        d.getStatus().genid = reported;
        d.getStatus().observedGeneration = observedGeneration;
        return d;
    }

    @Test
    void theReportedGenidIsKeptOnceTheAgentCaughtUp() {
        // e.g. after a restore: the agent reports the new genid for the spec it has seen
        assertThat(VirtualMachineReconciler.renderGenid(vm("auto"), domain(OLD, NEW, 4L, 4L))).isEqualTo(NEW);
        assertThat(VirtualMachineReconciler.renderGenid(vm("auto"), domain(null, NEW, 4L, 3L))).isEqualTo(NEW);
        assertThat(VirtualMachineReconciler.renderGenid(vm("auto"), domain(OLD, NEW, 4L, null))).isEqualTo(NEW);
    }

    @Test
    void thePinnedGenidWinsWhileTheReportPredatesTheSpec() {
        // after a failover: the Domain names the new host and genid, the status is the lost host's
        assertThat(VirtualMachineReconciler.renderGenid(vm("auto"), domain(NEW, OLD, 5L, 4L))).isEqualTo(NEW);
        assertThat(VirtualMachineReconciler.renderGenid(vm(OLD), domain(NEW.toUpperCase(), OLD, 5L, 4L)))
                .isEqualTo(NEW);
    }

    @Test
    void noneStaysNone() {
        assertThat(VirtualMachineReconciler.renderGenid(vm("none"), domain(NEW, OLD, 5L, 4L))).isNull();
    }
}
