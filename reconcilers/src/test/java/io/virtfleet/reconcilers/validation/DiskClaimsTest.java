package io.virtfleet.reconcilers.validation;

import io.virtfleet.api.v1alpha1.Hypervisor;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.api.v1alpha1.VirtualMachineSpec;
import io.virtfleet.reconcilers.testing.Vms;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class DiskClaimsTest {
    private static final String IMG = "/var/lib/virtfleet/images/shared.qcow2";
    private static final String ISO = "/var/lib/virtfleet/iso/debian.iso";

    private static VirtualMachine vm(String ns, String name, String created, VirtualMachineSpec.Disk... disks) {
        VirtualMachine vm = Vms.of(Hypervisor.KVM);
        vm.getMetadata().setNamespace(ns);
        vm.getMetadata().setName(name);
        vm.getMetadata().setCreationTimestamp(created);
        vm.getSpec().disks = new java.util.ArrayList<>(List.of(disks));
        return vm;
    }

    @Test
    void theLaterVmOfAnotherNamespaceMayNotUseAWritableImageAndIsNotToldWhoHasIt() {
        VirtualMachine first = vm("team-a", "db", "2026-01-01T00:00:00Z", Vms.disk("root", IMG));
        VirtualMachine later = vm("team-b", "thief", "2026-01-02T00:00:00Z", Vms.disk("data", IMG));

        List<FieldError> errors = DiskClaims.conflicts(later, List.of(first, later));
        assertThat(errors).singleElement().satisfies(e -> {
            assertThat(e.field()).isEqualTo("spec.disks[0].volume.path");
            assertThat(e.message()).contains("in use by a VirtualMachine of another namespace")
                    .doesNotContain("team-a").doesNotContain("db");
        });
        assertThat(DiskClaims.conflicts(first, List.of(first, later))).as("the first keeps it").isEmpty();
    }

    @Test
    void readOnlyUseConflictsWithAWritableOneButReadOnlySharingIsFine() {
        VirtualMachine writer = vm("team-a", "w", "2026-01-01T00:00:00Z", Vms.disk("root", IMG));
        VirtualMachineSpec.Disk ro = Vms.disk("peek", IMG);
        ro.readOnly = true;
        VirtualMachine reader = vm("team-b", "r", "2026-01-02T00:00:00Z", ro);
        assertThat(DiskClaims.conflicts(reader, List.of(writer, reader))).hasSize(1);

        VirtualMachine isoA = vm("team-a", "a", "2026-01-01T00:00:00Z", Vms.cdrom("install", ISO));
        VirtualMachine isoB = vm("team-b", "b", "2026-01-02T00:00:00Z", Vms.cdrom("install", ISO));
        assertThat(DiskClaims.conflicts(isoB, List.of(isoA, isoB))).isEmpty();
    }

    @Test
    void theSameNamespaceIsLeftToTheNamespacesOwner() {
        VirtualMachine a = vm("team-a", "a", "2026-01-01T00:00:00Z", Vms.disk("root", IMG));
        VirtualMachine b = vm("team-a", "b", "2026-01-02T00:00:00Z", Vms.disk("root", IMG));
        assertThat(DiskClaims.conflicts(b, List.of(a, b))).isEmpty();
    }

    @Test
    void tiesAreBrokenByNamespaceAndName() {
        VirtualMachine a = vm("team-a", "x", "2026-01-01T00:00:00Z", Vms.disk("root", IMG));
        VirtualMachine b = vm("team-b", "x", "2026-01-01T00:00:00Z", Vms.disk("root", IMG));
        assertThat(DiskClaims.conflicts(a, List.of(a, b))).isEmpty();
        assertThat(DiskClaims.conflicts(b, List.of(a, b))).hasSize(1);
    }
}
