package io.virtfleet.e2e.reliability;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The driver's "no VM runs twice" invariant. Named after its one false violation: during a live migration the
 * source's and the destination's QEMU share the domain's uuid (libvirt starts the destination with {@code -incoming}
 * and the same UUID), which the check used to call "running twice".
 */
class RunningTwiceTest {

    static final String UUID = "6f1c2c4e-8f0a-4c53-9a57-2d8e0d1f7a10";
    static final String ON_A = "vf-a-rel-1";
    static final String ON_B = "vf-b-rel-1";
    static final Processes.Qemu SOURCE = new Processes.Qemu(101, ON_A, UUID, "qemu -name guest=" + ON_A);
    static final Processes.Qemu DESTINATION = new Processes.Qemu(202, ON_B, UUID.toUpperCase(),
            "qemu -name guest=" + ON_B + " -incoming defer");
    static final RunningTwice.Migration MIGRATION = new RunningTwice.Migration("rel-1", "rel-1-m3", "host-a",
            "host-b", ON_A, ON_B);
    static final Function<RunningTwice.Migration, Map<String, String>> NEVER_ASKED = m -> {
        throw new AssertionError("no second look expected");
    };

    @Test
    void aMigrationsSourceAndDestinationQemuSharingTheUuidAreNotAVmRunningTwice() {
        List<String> v = RunningTwice.violations(List.of(SOURCE, DESTINATION), q -> true, Map.of(UUID, MIGRATION),
                Map.of(ON_A, "running", ON_B, "paused"), NEVER_ASKED);

        assertThat(v).isEmpty();
    }

    @Test
    void theSamePairAfterTheMigrationEndedIsAVmRunningTwice() {
        List<String> v = RunningTwice.violations(List.of(SOURCE, DESTINATION), q -> true, Map.of(),
                Map.of(ON_A, "paused", ON_B, "running"), NEVER_ASKED);

        assertThat(v).containsExactly("VM running twice: QEMU processes [101, 202] share -uuid " + UUID);
    }

    @Test
    void afterTheMigrationOneQemuIsFine() {
        assertThat(RunningTwice.violations(List.of(DESTINATION), q -> true, Map.of(), Map.of(ON_B, "running"),
                NEVER_ASKED)).isEmpty();
    }

    @Test
    void bothRunningInLibvirtIsAViolationEvenDuringTheMigration() {
        List<String> v = RunningTwice.violations(List.of(SOURCE, DESTINATION), q -> true, Map.of(UUID, MIGRATION),
                Map.of(ON_A, "running", ON_B, "running"), m -> Map.of(ON_A, "running", ON_B, "running"));

        assertThat(v).containsExactly("rel-1: running on both host-a and host-b during migration rel-1-m3 (QEMU "
                + "[101, 202])");
    }

    @Test
    void bothRunningInOneReadOnlyIsTheSwitchoverBetweenTwoReads() {
        List<String> v = RunningTwice.violations(List.of(SOURCE, DESTINATION), q -> true, Map.of(UUID, MIGRATION),
                Map.of(ON_A, "running", ON_B, "running"), m -> Map.of(ON_A, "paused", ON_B, "running"));

        assertThat(v).isEmpty();
    }

    @Test
    void aMigrationDoesNotExcuseTwoQemusOnOneHost() {
        Processes.Qemu second = new Processes.Qemu(303, ON_A + "x", UUID, "qemu");
        List<String> v = RunningTwice.violations(List.of(SOURCE, second), q -> true, Map.of(UUID, MIGRATION),
                Map.of(ON_A, "running"), NEVER_ASKED);

        assertThat(v).containsExactly("VM running twice: QEMU processes [101, 303] share -uuid " + UUID);
    }

    @Test
    void norAThirdQemu() {
        Processes.Qemu third = new Processes.Qemu(303, ON_B, UUID, "qemu");
        List<String> v = RunningTwice.violations(List.of(SOURCE, DESTINATION, third), q -> true,
                Map.of(UUID, MIGRATION), Map.of(ON_A, "running", ON_B, "paused"), NEVER_ASKED);

        assertThat(v).containsExactly("VM running twice: QEMU processes [101, 202, 303] share -uuid " + UUID,
                "VM running twice: QEMU processes [202, 303] share the name " + ON_B);
    }

    @Test
    void qemusThatAreNotTheRunsAreNotLookedAt() {
        assertThat(RunningTwice.violations(List.of(SOURCE, DESTINATION), q -> false, Map.of(),
                Map.of(), NEVER_ASKED)).isEmpty();
    }

    static final RunningTwice.Migration FAILOVER = new RunningTwice.Migration("rel-1", "rel-1-f4", "host-a",
            "host-b", ON_A, ON_B, true);

    @Test
    void aFailoversStaleCopyAndTheNewHostsStartAttemptAreNotAVmRunningTwice() {
        // host A's libvirtd is gone: its domain has no state; B's start attempt is paused until it succeeds
        List<String> v = RunningTwice.violations(List.of(SOURCE, DESTINATION), q -> true, Map.of(UUID, FAILOVER),
                Map.of(ON_B, "paused"), NEVER_ASKED);

        assertThat(v).isEmpty();
    }

    @Test
    void theGuestRunningOnTheNewHostWhileTheStaleCopyLivesIsAViolation() {
        List<String> v = RunningTwice.violations(List.of(SOURCE, DESTINATION), q -> true, Map.of(UUID, FAILOVER),
                Map.of(ON_B, "running"), NEVER_ASKED);

        assertThat(v).containsExactly("rel-1: running on host-b while the stale copy on the lost host host-a still "
                + "runs, during failover rel-1-f4 (QEMU [101, 202])");
    }
}
