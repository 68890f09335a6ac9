package io.virtfleet.reconcilers.render;

import io.virtfleet.api.v1alpha1.Hypervisor;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.api.v1alpha1.VirtualMachineSpec;
import io.virtfleet.reconcilers.testing.Vms;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/** Domain identity (the UUID is libvirt's stable key; ids and names are not) and naming. */
class IdentityTest {
    @Test
    void nameBasedUuidsAreRfc4122Version5() {
        // The RFC 4122 construction, checked against Python's uuid.uuid5(NAMESPACE_DNS, "python.org").
        UUID dns = UUID.fromString("6ba7b810-9dad-11d1-80b4-00c04fd430c8");
        assertThat(Identity.nameBased(dns, "python.org")).hasToString("886313e1-3b8a-5372-9b90-0c9aee199e5d");
        assertThat(Identity.NAMESPACE_VIRTFLEET).hasToString("22d31984-8464-5281-95f9-dc1912ce9b7a");
    }

    @Test
    void uuidIsDerivedFromNamespaceNameAndUid() {
        VirtualMachine vm = Vms.of(Hypervisor.KVM);
        // uuid.uuid5(uuid.uuid5(NAMESPACE_DNS, "virtfleet.io"), "virtfleet.io/default/vm-1/<uid>")
        assertThat(Identity.uuidFor(vm)).isEqualTo("6cd0b90a-1de9-54ad-bad9-93fffb7e1ff9");
        assertThat(Identity.uuidFor(Vms.of(Hypervisor.KVM))).as("deterministic").isEqualTo(Identity.uuidFor(vm));
        vm.getMetadata().setUid("00000000-1111-2222-3333-444444444444");
        assertThat(Identity.uuidFor(vm)).as("a re-created VM is a new machine").isNotEqualTo(
                "6cd0b90a-1de9-54ad-bad9-93fffb7e1ff9");
        vm.getMetadata().setUid(null);
        assertThat(Identity.uuidFor(vm)).isEqualTo("1e84f7c8-dcd5-569e-9522-d1db2cd844f4");
    }

    @Test
    void firmwareUuidWinsLowerCased() {
        VirtualMachine vm = Vms.of(Hypervisor.KVM);
        vm.getSpec().firmware = new VirtualMachineSpec.Firmware();
        vm.getSpec().firmware.uuid = "E171AC3A-17A6-46AB-94A3-BA5EF25D4427";
        assertThat(Identity.uuidFor(vm)).isEqualTo("e171ac3a-17a6-46ab-94a3-ba5ef25d4427");
    }

    @ParameterizedTest
    @CsvSource({
            "'', default, web-1, default_web-1",
            "vf-, default, web-1, vf-default_web-1",
            "node-a., team-a, db.primary, node-a.team-a_db.primary"})
    void domainNames(String prefix, String namespace, String name, String expected) {
        assertThat(DomainNames.domainName(prefix, namespace, name)).isEqualTo(expected);
    }

    @Test
    void openvzCtidsAreStableAndInRange() {
        for (int i = 0; i < 1000; i++) {
            String uuid = Identity.nameBased(Identity.NAMESPACE_VIRTFLEET, "ct-" + i).toString();
            int ctid = DomainNames.openvzCtid(uuid);
            assertThat(ctid).isBetween(DomainNames.OPENVZ_CTID_MIN, DomainNames.OPENVZ_CTID_MAX)
                    .isEqualTo(DomainNames.openvzCtid(uuid));
            assertThat("veth" + ctid + ".99").as("host-side interface name fits IFNAMSIZ").hasSizeLessThanOrEqualTo(15);
        }
    }

    @ParameterizedTest
    @CsvSource({
            "43dc0cf8-809b-4adb-9bea-a9abb5f3d90e, true",
            "43DC0CF8-809B-4ADB-9BEA-A9ABB5F3D90E, true",
            "43dc0cf8809b4adb9beaa9abb5f3d90e, false",
            "{43dc0cf8-809b-4adb-9bea-a9abb5f3d90e}, false",
            "43dc0cf8-809b-4adb-9bea-a9abb5f3d90, false",
            "43dc0cf8-809b-4adb-9bea-a9abb5f3d90g, false",
            "' 43dc0cf8-809b-4adb-9bea-a9abb5f3d90e', false",
            "'', false"})
    void guidSyntax(String s, boolean guid) {
        assertThat(Guids.isGuid(s)).isEqualTo(guid);
    }

    @Test
    void newGuidsAreRandomVersion4() {
        String a = Guids.newGuid();
        assertThat(Guids.isGuid(a)).isTrue();
        assertThat(UUID.fromString(a).version()).isEqualTo(4);
        assertThat(Guids.newGuid()).isNotEqualTo(a);
        assertThat(Guids.isGuid(null)).isFalse();
    }
}
