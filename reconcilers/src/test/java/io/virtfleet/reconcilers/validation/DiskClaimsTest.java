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

    /** Looks up {@code vm}'s candidates in a map index built with {@link DiskClaims#indexKeys}, as the operator does. */
    private static List<VirtualMachine> candidates(VirtualMachine vm, java.util.Map<String, java.util.Set<VirtualMachine>> index) {
        java.util.Set<VirtualMachine> out = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (String key : DiskClaims.lookupKeys(vm)) {
            out.addAll(index.getOrDefault(key, java.util.Set.of()));
        }
        return List.copyOf(out);
    }

    @Test
    void theIndexedCandidatesGiveTheSameConflictsAsEveryVm() {
        java.util.Random random = new java.util.Random(20261204);
        String[] paths = {IMG, ISO, "/var/lib/virtfleet/images/a.qcow2", "/var/lib/virtfleet/images/b.qcow2",
                "/var/lib/virtfleet/kernels/vmlinuz"};
        for (int round = 0; round < 200; round++) {
            List<VirtualMachine> all = new java.util.ArrayList<>();
            int n = 2 + random.nextInt(12);
            for (int i = 0; i < n; i++) {
                List<VirtualMachineSpec.Disk> disks = new java.util.ArrayList<>();
                for (int d = random.nextInt(4); d > 0; d--) {
                    String path = paths[random.nextInt(paths.length)];
                    VirtualMachineSpec.Disk disk = random.nextInt(3) == 0 ? Vms.cdrom("c" + d, path)
                            : Vms.disk("d" + d, path);
                    if (random.nextInt(4) == 0) {
                        disk.readOnly = true;
                    }
                    disks.add(disk);
                }
                VirtualMachine vm = vm("ns-" + random.nextInt(3), "vm-" + i,
                        "2026-01-0" + (1 + random.nextInt(3)) + "T00:00:00Z",
                        disks.toArray(VirtualMachineSpec.Disk[]::new));
                if (random.nextInt(4) == 0) {
                    vm.getSpec().firmware = new VirtualMachineSpec.Firmware();
                    vm.getSpec().firmware.kernelBoot = Vms.kernelBoot(paths[4], random.nextBoolean() ? IMG : null, "");
                }
                all.add(vm);
            }
            java.util.Map<String, java.util.Set<VirtualMachine>> index = new java.util.HashMap<>();
            for (VirtualMachine vm : all) {
                for (String key : DiskClaims.indexKeys(vm)) {
                    index.computeIfAbsent(key, k -> java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>()))
                            .add(vm);
                }
            }
            for (VirtualMachine vm : all) {
                assertThat(DiskClaims.conflicts(vm, candidates(vm, index)))
                        .as("round %d, %s/%s", round, vm.getMetadata().getNamespace(), vm.getMetadata().getName())
                        .isEqualTo(DiskClaims.conflicts(vm, all));
            }
        }
    }

    @Test
    void aReadOnlyKernelSharedByEveryVmLooksUpOnlyItsWriters() {
        String kernel = "/var/lib/virtfleet/kernels/vmlinuz";
        VirtualMachine a = vm("team-a", "a", "2026-01-01T00:00:00Z");
        a.getSpec().firmware = new VirtualMachineSpec.Firmware();
        a.getSpec().firmware.kernelBoot = Vms.kernelBoot(kernel, null, "");
        assertThat(DiskClaims.indexKeys(a)).containsExactly("any:" + kernel);
        assertThat(DiskClaims.lookupKeys(a)).as("only a writer of the kernel can conflict with a reader")
                .containsExactly("writable:" + kernel);

        VirtualMachine writer = vm("team-b", "w", "2026-01-02T00:00:00Z", Vms.disk("root", kernel));
        assertThat(DiskClaims.indexKeys(writer)).containsExactlyInAnyOrder("any:" + kernel, "writable:" + kernel);
        assertThat(DiskClaims.lookupKeys(writer)).containsExactly("any:" + kernel);
        assertThat(DiskClaims.indexKeys(vm("team-c", "none", "2026-01-03T00:00:00Z"))).isEmpty();
    }
}
