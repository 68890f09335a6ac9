package io.virtfleet.reconcilers.schema;

import io.virtfleet.api.v1alpha1.VirtualMachineBackupSpec;
import io.virtfleet.api.v1alpha1.VirtualMachineRestoreSpec;
import io.virtfleet.api.v1alpha1.VirtualMachineSnapshotSpec;
import io.virtfleet.reconcilers.validation.FieldError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The CRD schema's rules, read from the API types' annotations and checked offline. */
class SchemaRulesTest {
    @ParameterizedTest(name = "vmName={0}, snapshotName={1}, backupName={2}")
    @CsvSource(nullValues = "-", delimiter = '|', value = {
            "web-1 | s1 | -  | ",
            "-     | -  | b1 | ",
            "web-1 | -  | b1 | ",
            "web-1 | s1 | b1 | spec: set exactly one of snapshotName (revert a VM) and backupName (recreate a VM from a backup)",
            "web-1 | -  | -  | spec: set exactly one of snapshotName (revert a VM) and backupName (recreate a VM from a backup)",
            "-     | s1 | -  | spec.vmName: vmName is required to restore a snapshot",
    })
    void celRulesOfARestore(String vmName, String snapshotName, String backupName, String expected) {
        VirtualMachineRestoreSpec spec = new VirtualMachineRestoreSpec();
        spec.vmName = vmName;
        spec.snapshotName = snapshotName;
        spec.backupName = backupName;
        List<String> errors = SchemaRules.check(spec, "spec").stream().map(FieldError::toString).toList();
        if (expected == null) {
            assertThat(errors).isEmpty();
        } else {
            assertThat(errors).containsExactly(expected);
        }
    }

    @Test
    void requiredAndPattern() {
        assertThat(SchemaRules.check(new VirtualMachineBackupSpec(), "spec")).extracting(FieldError::toString)
                .containsExactly("spec.vmName: required", "spec.destination: required");
        VirtualMachineSnapshotSpec s = new VirtualMachineSnapshotSpec();
        s.vmName = "Web_1";
        assertThat(SchemaRules.check(s, "spec")).singleElement().extracting(FieldError::field)
                .isEqualTo("spec.vmName");
        s.vmName = "a".repeat(254);
        assertThat(SchemaRules.check(s, "spec")).extracting(FieldError::message)
                .containsExactly("at most 253 characters (has 254)");
    }

    @Test
    void transitionRulesAreLeftToUpdates() {
        assertThat(SchemaRules.usesOldSelf("self == oldSelf")).isTrue();
        assertThat(SchemaRules.usesOldSelf("has(self.oldSelfie)")).isFalse();
    }
}
