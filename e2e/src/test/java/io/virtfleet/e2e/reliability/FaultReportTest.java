package io.virtfleet.e2e.reliability;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The pure parts of the fault-injection driver: statistics, the table, parsing, the RELIABILITY.md splice. */
class FaultReportTest {

    @Test
    void percentileIsNearestRank() {
        List<Double> v = List.of(5.0, 1.0, 3.0, 2.0, 4.0);
        assertThat(FaultReport.percentile(v, 50)).isEqualTo(3.0);
        assertThat(FaultReport.percentile(v, 95)).isEqualTo(5.0);
        assertThat(FaultReport.percentile(v, 100)).isEqualTo(5.0);
        assertThat(FaultReport.percentile(v, 0)).isEqualTo(1.0);
        assertThat(FaultReport.percentile(List.of(), 50)).isNaN();
    }

    @Test
    void slowConvergenceIsListedButIsNoViolation() {
        FaultReport r = new FaultReport();
        r.operation("start", 2.0);
        r.operation("start", 4.0);
        r.fault("agent", 3.0, 12.5, 10, "step 2 START rel-1");
        r.fault("agent", 3.0, 1.5, 10, "step 3");
        r.operationFailed("snapshot", "rel-1-s3: libvirt connection lost");
        assertThat(r.violations()).isEmpty();
        assertThat(r.slow()).containsExactly("agent: 12.5 s to converge (target 10 s): step 2 START rel-1");
        String t = r.table(List.of("header"));
        assertThat(t).contains("| start | 2 | 0 | 2.0 / 4.0 |")
                .contains("| agent | 2 | 3.0 | 1.5 / 12.5 / 12.5 | 1 |")
                .contains("Violations: **0**")
                .contains("snapshot failed: rel-1-s3");
        r.violation("VM running twice");
        assertThat(r.table(List.of())).contains("Violations: **1**").contains("- VM running twice");
    }

    @Test
    void spliceReplacesTheLastRunOrAppendsIt() {
        String doc = "# Title\n\ntext\n";
        String once = FaultReport.splice(doc, "run 1");
        assertThat(once).startsWith(doc.strip()).contains(FaultReport.BEGIN + "\nrun 1\n" + FaultReport.END);
        String twice = FaultReport.splice(once + "after\n", "run 2");
        assertThat(twice).doesNotContain("run 1").contains("run 2").endsWith("after\n");
    }

    @Test
    void qemuCommandLineGivesNameAndUuid() {
        Processes.Qemu q = Processes.parseQemu(7, new String[] {"/usr/bin/qemu-system-x86_64", "-name",
                "guest=e2eabcdefa-ns-vm,debug-threads=on", "-uuid", "0A1B2C3D-0000-4000-8000-000000000001"});
        assertThat(q.name()).isEqualTo("e2eabcdefa-ns-vm");
        assertThat(q.uuid()).isEqualTo("0a1b2c3d-0000-4000-8000-000000000001");
    }

    @Test
    void backOffAllowanceFollowsTheOperatorsRestartBackOff() {
        assertThat(FaultInjectionDriver.backOffAllowance("qemu of rel-1 pid 9, Always, kill #1 in 10 min")).isZero();
        assertThat(FaultInjectionDriver.backOffAllowance("qemu of rel-1 pid 9, Always, kill #2 in 10 min"))
                .isEqualTo(10);
        assertThat(FaultInjectionDriver.backOffAllowance("qemu of rel-1 pid 9, Always, kill #3 in 10 min"))
                .isEqualTo(20);
        assertThat(FaultInjectionDriver.backOffAllowance("qemu of rel-1 pid 9, Manual, kill #3 in 10 min")).isZero();
    }

    @Test
    void virshListIsParsedForOurPrefixOnly() {
        String out = """
                 Id   Name              State
                ----------------------------------
                 3    e2eabcdefa-x-1    running
                 -    e2eabcdefa-x-2    shut off
                 5    other-vm          running
                """;
        assertThat(FaultInjectionDriver.parseVirshList(out, "e2eabcdefa-"))
                .containsOnlyKeys("e2eabcdefa-x-1", "e2eabcdefa-x-2")
                .containsEntry("e2eabcdefa-x-2", "shut off");
    }

    @Test
    void aDeviceIsFoundByItsAliasElementNotByTheMetadataFingerprint() {
        String xml = "<domain><metadata><vfagent:applied fingerprint=\"disk[ua-data]:1,disk[ua-extra]:2\"/></metadata>"
                + "<devices><disk><alias name='ua-data'/></disk></devices></domain>";
        assertThat(FaultInjectionDriver.hasAlias(xml, "ua-data")).isTrue();
        assertThat(FaultInjectionDriver.hasAlias(xml, "ua-extra")).isFalse();
        assertThat(FaultInjectionDriver.hasAlias("<alias name=\"ua-extra\"/>", "ua-extra")).isTrue();
    }
}
