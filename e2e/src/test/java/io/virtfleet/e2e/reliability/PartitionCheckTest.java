package io.virtfleet.e2e.reliability;

import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The driver's "a partitioned agent's VMs keep running" check. Named after its false violation: a CREATE with a
 * partition of the agent in the same step reported "rel-1: its QEMU stopped while the agent was partitioned" for the
 * VM just created, whose QEMU had never run — the cut came before the agent could start it.
 */
class PartitionCheckTest {

    @Test
    void aVmWhoseQemuDidNotRunYetAtTheCutDidNotStopDuringThePartition() {
        assertThat(FaultInjectionDriver.stoppedDuringPartition(Map.of("vf-a-rel-1", "rel-1"), Set.of(), Set.of()))
                .isEmpty();
    }

    @Test
    void aVmWhoseQemuRanAtTheCutAndIsGoneAtTheHealStopped() {
        assertThat(FaultInjectionDriver.stoppedDuringPartition(Map.of("vf-a-rel-1", "rel-1", "vf-a-rel-2", "rel-2"),
                Set.of("vf-a-rel-1", "vf-a-rel-2"), Set.of("vf-a-rel-2"))).containsExactly("rel-1");
    }

    @Test
    void aVmThatKeptRunningIsFine() {
        assertThat(FaultInjectionDriver.stoppedDuringPartition(Map.of("vf-a-rel-1", "rel-1"), Set.of("vf-a-rel-1"),
                Set.of("vf-a-rel-1", "vf-b-rel-9"))).isEmpty();
    }
}
