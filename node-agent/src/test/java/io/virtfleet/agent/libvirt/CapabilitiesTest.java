package io.virtfleet.agent.libvirt;

import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class CapabilitiesTest {
    /** The guests libvirt 9.0's libxl driver lists on the nested Xen 4.17 host (scripts/xen-host), trimmed. */
    static final String XEN_PV_ONLY = """
            <capabilities>
              <host><cpu><arch>x86_64</arch></cpu></host>
              <guest>
                <os_type>xen</os_type>
                <arch name='x86_64'>
                  <wordsize>64</wordsize>
                  <emulator>/usr/lib/xen-4.17/bin/qemu-system-i386</emulator>
                  <machine>xenpv</machine>
                  <domain type='xen'/>
                </arch>
              </guest>
              <guest>
                <os_type>xenpvh</os_type>
                <arch name='x86_64'>
                  <machine>xenpvh</machine>
                  <domain type='xen'/>
                </arch>
              </guest>
            </capabilities>
            """;

    @Test
    void readsWhichKindsOfGuestEachDomainTypeRuns() {
        Capabilities caps = Capabilities.parse(XEN_PV_ONLY);
        assertThat(caps.domainTypes()).containsExactly("xen");
        assertThat(caps.runs("xen", "xen")).as("PV").isTrue();
        assertThat(caps.runs("xen", "hvm")).as("HVM needs hardware virtualization").isFalse();
        assertThat(caps.guests()).isEqualTo(Set.of("xen/xen", "xen/xenpvh"));
    }

    @Test
    void qemuGuestsAreHvmOfTheirDomainTypes() {
        Capabilities caps = Capabilities.parse("""
                <capabilities><guest><os_type>hvm</os_type><arch name='x86_64'>
                  <emulator>/usr/bin/qemu-system-x86_64</emulator><domain type='qemu'/><domain type='kvm'/>
                </arch></guest></capabilities>
                """);
        assertThat(caps.runs("qemu", "hvm")).isTrue();
        assertThat(caps.runs("kvm", "hvm")).isTrue();
        assertThat(caps.runs("xen", "xen")).isFalse();
        assertThat(caps.emulators()).containsExactly("/usr/bin/qemu-system-x86_64");
    }
}
