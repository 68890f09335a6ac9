package io.virtfleet.reconcilers.copy;

import io.virtfleet.api.v1alpha1.VirtualMachineSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

class BackupPlansTest {
    static final List<String> ROOTS = List.of("/var/lib/virtfleet");

    static Stream<Arguments> backups() {
        return Stream.of(
                Arguments.of("valid", "web", true, "/var/lib/virtfleet/backups", "b1", List.of()),
                Arguments.of("vm missing", "web", false, "/var/lib/virtfleet/backups", "b1",
                        List.of("spec.vmName: VirtualMachine web not found")),
                Arguments.of("outside roots", "web", true, "/etc", "b1",
                        List.of("spec.destination: \"/etc\" is not under an allowed disk root")),
                Arguments.of("not normalized", "web", true, "/var/lib/virtfleet/../x", "b1",
                        List.of("spec.destination: \"/var/lib/virtfleet/../x\" is not normalized")),
                Arguments.of("no destination", "web", true, null, "b1", List.of("spec.destination: required")),
                Arguments.of("bad name", "web", true, "/var/lib/virtfleet/backups", "b.1",
                        List.of("metadata.name: b.1 must be a DNS label")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backups")
    void backupValidation(String what, String vm, boolean exists, String dest, String name, List<String> expected) {
        List<String> errors = BackupPlans.validateBackup(vm, exists ? ClonePlansTest.source() : null, dest, ROOTS,
                name);
        ClonePlansTest.assertPrefixes(errors, expected);
    }

    @Test
    void aBackupHoldsOneFilePerWritableDisk() {
        assertThat(BackupPlans.backupFiles(ClonePlansTest.source(), "/var/lib/virtfleet/backups/b1")).containsExactly(
                Map.entry("/var/lib/virtfleet/images/web-root.qcow2", "/var/lib/virtfleet/backups/b1/root.qcow2"),
                Map.entry("/var/lib/virtfleet/scratch/web.img", "/var/lib/virtfleet/backups/b1/scratch.img"));
        assertThat(BackupPlans.location("/var/lib/virtfleet/backups", "b1")).isEqualTo("/var/lib/virtfleet/backups/b1");
    }

    static Stream<Arguments> restores() {
        return Stream.of(
                Arguments.of("valid", true, true, "web", false, false, List.of()),
                Arguments.of("backup missing", false, false, "web", false, false,
                        List.of("spec.backupName: VirtualMachineBackup b1 not found")),
                // no vmName and no backup to take the default from: only the backup is named
                Arguments.of("backup missing, no name", false, false, null, false, false,
                        List.of("spec.backupName: VirtualMachineBackup b1 not found")),
                Arguments.of("backup not ready", true, false, "web", false, false,
                        List.of("spec.backupName: VirtualMachineBackup b1 is not ready")),
                Arguments.of("vm exists", true, true, "web", true, true,
                        List.of("spec.vmName: a VirtualMachine named web exists")),
                Arguments.of("bad name", true, true, "Web!", false, false,
                        List.of("spec.vmName: Web! is not a valid")),
                Arguments.of("new name, original gone", true, true, "web-r", false, false, List.of()),
                // the restored VM keeps the backed-up VM's MACs and firmware.uuid
                Arguments.of("new name, original still exists", true, true, "web-r", false, true,
                        List.of("spec.vmName: the backed-up VM web still exists; restore under a new name would "
                                + "duplicate its MACs and UUID")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("restores")
    void restoreValidation(String what, boolean found, boolean ready, String target, boolean exists,
                           boolean originalExists, List<String> expected) {
        List<String> errors = BackupPlans.validateRestore("b1", found, ready, target, exists, "web",
                originalExists);
        ClonePlansTest.assertPrefixes(errors, expected);
    }

    @Test
    void aRestoreUnderTheSameNameUsesTheOriginalPathsUnderANewNameNewOnes() {
        VirtualMachineSpec stored = ClonePlansTest.source();
        Map<String, String> files = BackupPlans.backupFiles(stored, "/b/b1");
        assertThat(BackupPlans.restoredDisks(stored, "ns", "web", "web", files)).containsExactly(
                Map.entry("/b/b1/root.qcow2", "/var/lib/virtfleet/images/web-root.qcow2"),
                Map.entry("/b/b1/scratch.img", "/var/lib/virtfleet/scratch/web.img"));
        assertThat(BackupPlans.restoredDisks(stored, "ns", "web", "web-r", files)).containsExactly(
                Map.entry("/b/b1/root.qcow2", "/var/lib/virtfleet/images/ns_web-r_root.qcow2"),
                Map.entry("/b/b1/scratch.img", "/var/lib/virtfleet/scratch/ns_web-r_scratch.img"));
        VirtualMachineSpec t = BackupPlans.restoredSpec(stored, "node-a", "ns", "web", "web-r");
        assertThat(t.disks).extracting(d -> d.volume.path).containsExactly(
                "/var/lib/virtfleet/images/ns_web-r_root.qcow2", "/var/lib/virtfleet/scratch/ns_web-r_scratch.img",
                "/var/lib/virtfleet/iso/debian.iso", "/var/lib/virtfleet/images/seed.qcow2");
    }

    @Test
    void anExistingVmWithTheBackedUpMacOrUuidBlocksTheRestore() {
        VirtualMachineSpec stored = ClonePlansTest.source();
        VirtualMachineSpec unrelated = ClonePlansTest.source();
        unrelated.interfaces.get(0).macAddress = "52:54:00:00:00:01";
        unrelated.firmware.uuid = "0b7e5a52-9c1d-4f55-8f7d-2a1e3c4b5d6f";
        VirtualMachineSpec earlierRestore = BackupPlans.restoredSpec(stored, "node-a", "ns", "web", "web-r");
        VirtualMachineSpec sameMacUpperCase = ClonePlansTest.source();
        sameMacUpperCase.interfaces.get(0).macAddress = "52:54:00:6B:3C:58";
        sameMacUpperCase.firmware = null;

        assertThat(BackupPlans.identityClashes(stored, Map.of("other", unrelated))).isEmpty();
        assertThat(BackupPlans.identityClashes(stored, Map.of("web-r", earlierRestore))).containsExactly(
                "spec.backupName: VirtualMachine web-r has the backed-up MAC 52:54:00:6b:3c:58; the restored VM would "
                        + "duplicate it - nothing was changed",
                "spec.backupName: VirtualMachine web-r has the backed-up firmware.uuid "
                        + "6f1c1e8a-2b7d-4d0e-9d7a-3f2a1b0c9d8e; the restored VM would duplicate it - nothing was changed");
        assertThat(BackupPlans.identityClashes(stored, Map.of("x", sameMacUpperCase))).singleElement().asString()
                .contains("VirtualMachine x has the backed-up MAC 52:54:00:6B:3C:58");
    }

    @Test
    void theRecreatedVmKeepsItsIdentityButGetsAFreshGenidOnItsBackupsHost() {
        VirtualMachineSpec stored = ClonePlansTest.source();
        stored.genid = "c7a5fdbd-edaf-9455-926a-d65c16db1809";
        VirtualMachineSpec back = BackupPlans.fromJson(BackupPlans.toJson(stored));
        VirtualMachineSpec t = BackupPlans.restoredSpec(back, "node-a", "ns", "web", "web");
        assertThat(t.genid).isEqualTo("auto");
        assertThat(t.interfaces.get(0).macAddress).isEqualTo("52:54:00:6b:3c:58");
        assertThat(t.firmware.uuid).isEqualTo(stored.firmware.uuid);
        assertThat(t.nodeName).isEqualTo("node-a");
        assertThat(t.hostSelector).isNull();
        stored.genid = "none";
        assertThat(BackupPlans.restoredSpec(stored, "node-a", "ns", "web", "web").genid).isEqualTo("none");
    }
}
