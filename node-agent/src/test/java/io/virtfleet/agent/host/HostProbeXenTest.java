package io.virtfleet.agent.host;

import io.virtfleet.agent.libvirt.Capabilities;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

class HostProbeXenTest {
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            PV only (no hardware virtualization) | xen      | xen/xen           | ''
            PV and HVM                           | xen      | xen/xen,xen/hvm   | ''
            a QEMU libvirt at a xen URI          | qemu,kvm | qemu/hvm,kvm/hvm  | libvirt offers no domain type 'xen' (capabilities: [kvm, qemu])
            xen listed with no guest kind        | xen      | xen/exe           | libvirt's Xen driver lists neither PV (os type xen) nor HVM guests
            """)
    void xenIsAvailableWhenLibxlListsPvOrHvmGuests(String name, String types, String guests, String problem) {
        Capabilities caps = new Capabilities(new TreeSet<>(List.of(types.split(","))), Set.of(),
                Set.of(guests.split(",")));
        assertThat(HostProbe.xenProblem(caps)).isEqualTo(problem.isEmpty() ? null : problem);
    }
}
