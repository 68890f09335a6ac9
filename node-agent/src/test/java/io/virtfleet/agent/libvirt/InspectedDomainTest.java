package io.virtfleet.agent.libvirt;

import io.virtfleet.api.v1alpha1.DomainState;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;

/** {@link InspectedDomain#observed}: what libvirt's separate answers (state, active flag, id) add up to. */
class InspectedDomainTest {
    private static final String UUID = "3fbca448-2103-52bd-b0d9-a2f0ae47b3a5";
    private static final String LIVE = "<domain type='xen'><name>live</name></domain>";
    private static final String INACTIVE = "<domain type='xen'><name>inactive</name></domain>";

    @ParameterizedTest(name = "{0}: state {1}, isActive {2}, id {3} -> active {4}, id {5}")
    @CsvSource({
            "running,                                      RUNNING,  true,  3, true,  3",
            "paused,                                       PAUSED,   true,  5, true,  5",
            "shut off,                                     SHUTOFF,  false, -1, false, -1",
            "libxl marked it shut off and still tears it down, SHUTOFF,  true,  1, false, -1",
            "Xen's control domain,                         RUNNING,  true,  0, true,  0",
    })
    void aShutOffDomainIsNotRunningAndHasNoId(String what, DomainState state, boolean isActive, int id,
                                              boolean active, int reportedId) {
        InspectedDomain d = InspectedDomain.observed(UUID, "vf-a", id, state.code(), 1, isActive, true, LIVE,
                INACTIVE);
        assertThat(d.active()).as(what).isEqualTo(active);
        assertThat(d.id()).as(what).isEqualTo(reportedId);
        assertThat(d.currentXml()).as("%s: the XML that describes it", what).isEqualTo(active ? LIVE : INACTIVE);
    }
}
