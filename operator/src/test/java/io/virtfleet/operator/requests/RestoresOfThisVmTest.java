package io.virtfleet.operator.requests;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.api.v1alpha1.VirtualMachineRestore;
import io.virtfleet.api.v1alpha1.VirtualMachineRestoreSpec;
import io.virtfleet.api.v1alpha1.VirtualMachineRestoreStatus;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Which restores belong to a VM: those naming it and recorded for its uid; restores recorded before status.vmUid
 * existed by creation time (a restore of an earlier VM of the same name was created before this VM).
 */
class RestoresOfThisVmTest {
    private static final String VM_CREATED = "2026-12-03T10:00:00Z";

    @ParameterizedTest(name = "[{index}] vmName {0}, vmUid {1}, created {2} -> {3}")
    @CsvSource(nullValues = "-", value = {
            // recorded for this VM, or for the earlier one of the same name, whenever created
            "web, uid-2, 2026-12-03T09:00:00Z, true",
            "web, uid-1, 2026-12-03T11:00:00Z, false",
            // not recorded yet (or recorded before vmUid): by creation time, the same second counts as this VM's
            "web, -, 2026-12-03T10:00:00Z, true",
            "web, -, 2026-12-03T10:00:01Z, true",
            "web, -, 2026-12-03T09:59:59Z, false",
            "web, -, -, true",
            // another VM's
            "db, uid-2, 2026-12-03T11:00:00Z, false",
            "-, -, 2026-12-03T11:00:00Z, false"})
    void aRestoreIsThisVmsWhenRecordedForItsUidElseWhenNotCreatedBeforeIt(String vmName, String vmUid,
                                                                          String created, boolean want) {
        VirtualMachine vm = new VirtualMachine();
        vm.setMetadata(new ObjectMetaBuilder().withNamespace("n").withName("web").withUid("uid-2")
                .withCreationTimestamp(VM_CREATED).build());
        VirtualMachineRestore r = new VirtualMachineRestore();
        r.setMetadata(new ObjectMetaBuilder().withNamespace("n").withName("r").withCreationTimestamp(created).build());
        r.setSpec(new VirtualMachineRestoreSpec());
        r.getSpec().vmName = vmName;
        if (vmUid != null) {
            r.setStatus(new VirtualMachineRestoreStatus());
            r.getStatus().vmUid = vmUid;
        }
        assertThat(RequestReconcilers.ofThisVm(r, vm)).isEqualTo(want);
    }
}
