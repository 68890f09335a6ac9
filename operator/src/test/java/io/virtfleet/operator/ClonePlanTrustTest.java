package io.virtfleet.operator;

import io.virtfleet.api.v1alpha1.ApiGroup;
import io.virtfleet.api.v1alpha1.VirtualMachineClone;
import io.virtfleet.api.v1alpha1.VirtualMachineCloneStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A clone's status.disks/status.host are written back by the node agent: the operator creates the target VM only
 * from its own plan. Here a test plays the agent (a FakeAgent host runs the source's Domain).
 */
class ClonePlanTrustTest extends OperatorTestSupport {
    @RegisterExtension
    static final ClassOperator fixture = new ClassOperator("cltrust").withHost();
    static final String ns = fixture.ns;
    static final String host = fixture.host;

    private VirtualMachineClone handedOver(String source, String clone, String target) {
        apply(new TestVm(ns, source).on(host).mac(mac(source)));
        eventually().untilAsserted(() -> assertThat(domain(ns, source)).isNotNull()
                .satisfies(d -> assertThat(d.getSpec().host).isEqualTo(host)));
        VirtualMachineClone c = VirtualMachineClone.of(ns, clone, source, target);
        client.resource(c).create();
        eventually().untilAsserted(() -> {
            VirtualMachineClone x = clone(clone);
            assertThat(x.getStatus()).isNotNull();
            assertThat(x.getStatus().phase).isEqualTo("Pending");
            assertThat(x.getMetadata().getLabels()).containsEntry(ApiGroup.HOST_LABEL, host);
        });
        return clone(clone);
    }

    private static VirtualMachineClone clone(String name) {
        return client.resources(VirtualMachineClone.class).inNamespace(ns).withName(name).get();
    }

    private static void agentWrites(String clone, Map<String, String> disks, String statusHost) {
        client.resources(VirtualMachineClone.class).inNamespace(ns).withName(clone).editStatus(x -> {
            x.getStatus().phase = VirtualMachineCloneStatus.PHASE_DISKS_READY;
            x.getStatus().copyMethod = "qemu-img";
            x.getStatus().host = statusHost;
            if (disks != null) {
                x.getStatus().disks = disks;
            }
            return x;
        });
    }

    private static String mac(String name) {
        int h = Math.abs(name.hashCode());
        return String.format("52:54:00:%02x:%02x:%02x", (h >> 16) & 0xff, (h >> 8) & 0xff, h & 0xff);
    }

    @Test
    void theOperatorsOwnPlanCreatesTheTarget() {
        handedOver("ct-src-1", "ct-c1", "ct-dst-1");
        agentWrites("ct-c1", null, host);
        eventually().untilAsserted(() -> assertThat(vm(ns, "ct-dst-1")).isNotNull()
                .satisfies(v -> assertThat(v.getSpec().disks.get(0).volume.path)
                        .isEqualTo("/var/lib/virtfleet/images/" + ns + "_ct-dst-1_root.qcow2")));
    }

    @Test
    void aPlanPointingAtAnotherTenantsDiskCreatesNoVm() {
        VirtualMachineClone c = handedOver("ct-src-2", "ct-c2", "ct-dst-2");
        String source = c.getStatus().disks.keySet().iterator().next();
        agentWrites("ct-c2", Map.of(source, "/var/lib/virtfleet/images/other-tenant.qcow2"), host);
        eventually().untilAsserted(() -> {
            VirtualMachineClone x = clone("ct-c2");
            assertThat(x.getStatus().phase).isEqualTo("Failed");
            assertThat(x.getStatus().error).contains("not the operator's").contains("status.disks")
                    .contains("other-tenant.qcow2");
        });
        assertThat(vm(ns, "ct-dst-2")).isNull();
    }

    @Test
    void aPlanClaimingAnotherHostCreatesNoVm() {
        handedOver("ct-src-3", "ct-c3", "ct-dst-3");
        agentWrites("ct-c3", null, "some-other-host");
        eventually().untilAsserted(() -> {
            VirtualMachineClone x = clone("ct-c3");
            assertThat(x.getStatus().phase).isEqualTo("Failed");
            assertThat(x.getStatus().error).contains("status.host: some-other-host");
        });
        assertThat(vm(ns, "ct-dst-3")).isNull();
    }
}
