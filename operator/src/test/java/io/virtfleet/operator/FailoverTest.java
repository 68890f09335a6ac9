package io.virtfleet.operator;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.virtfleet.api.v1alpha1.ApiGroup;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.api.v1alpha1.VirtualMachineFailover;
import io.virtfleet.api.v1alpha1.VirtualMachineFailoverSpec;
import io.virtfleet.reconcilers.genid.GenidPolicy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * VirtualMachineFailover against the real apiserver with FAKE hosts: refused while the VM's host is ready (nothing
 * changes), then, once that host's Lease expired, the Domain moves to the other host with a new genid that the
 * VM's status follows (genidHistory Failover, genidSource, the genid-change metric).
 */
class FailoverTest extends OperatorTestSupport {
    @RegisterExtension
    static final ClassOperator fixture = new ClassOperator("failover");
    static final String ns = fixture.ns;

    private FakeAgent host(String pool) {
        String name = pool + "-" + UUID.randomUUID().toString().substring(0, 4);
        return testHost(name, Map.of("pool", pool), 16, "64Gi", "kvm", "qemu");
    }

    private static VirtualMachineFailover failover(String name, String vm, String target) {
        VirtualMachineFailover f = new VirtualMachineFailover();
        f.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(ns).build());
        f.setSpec(new VirtualMachineFailoverSpec());
        f.getSpec().vmName = vm;
        f.getSpec().targetHost = target;
        return client.resource(f).create();
    }

    private static VirtualMachineFailover get(String name) {
        return client.resources(VirtualMachineFailover.class).inNamespace(ns).withName(name).get();
    }

    @Test
    void refusedWhileTheHostIsReadyThenMovesTheVmWithANewGenid() {
        String pool = "fo-" + UUID.randomUUID().toString().substring(0, 4);
        FakeAgent a = host(pool);
        FakeAgent b = host(pool);
        apply(new TestVm(ns, "dr-1").on(a.host));
        eventually().until(() -> "Running".equals(printable(ns, "dr-1"))
                && vm(ns, "dr-1").getStatus().genid != null);
        String g0 = vm(ns, "dr-1").getStatus().genid;
        Domain before = domain(ns, "dr-1");
        OperatorMetrics metrics = fixture.operator().metrics();
        double failovers = metrics.genidChanges(GenidPolicy.REASON_FAILOVER);

        // host A is ready: refused, naming the field; the Domain is untouched
        failover("too-early", "dr-1", b.host);
        eventually().until(() -> get("too-early").getStatus() != null);
        assertThat(get("too-early").getStatus().phase).isEqualTo("Failed");
        assertThat(get("too-early").getStatus().error)
                .startsWith("spec.vmName: host " + a.host + " of VirtualMachine " + ns + "/dr-1 is ready")
                .contains("failover refused");
        eventually().untilAsserted(() -> assertThat(eventReasons(ns, "too-early")).contains("FailoverRefused"));
        assertThat(domain(ns, "dr-1").getMetadata().getResourceVersion())
                .isEqualTo(before.getMetadata().getResourceVersion());

        // host A loses its heartbeat: the VM is Unknown and stays there until a failover is requested
        a.expireLease();
        eventually().atMost(Duration.ofSeconds(20)).until(() -> "Unknown".equals(printable(ns, "dr-1")));
        failover("dr-1-to-b", "dr-1", null);
        eventually().until(() -> get("dr-1-to-b").getStatus() != null);
        var st = get("dr-1-to-b").getStatus();
        assertThat(st.error).isNull();
        assertThat(st.phase).isEqualTo("Succeeded");
        assertThat(st.fromHost).isEqualTo(a.host);
        assertThat(st.toHost).isEqualTo(b.host);
        assertThat(st.previousGenid).isEqualTo(g0);
        assertThat(st.genid).isNotNull().isNotEqualTo(g0);
        String g1 = st.genid;

        Domain after = domain(ns, "dr-1");
        assertThat(after.getSpec().host).isEqualTo(b.host);
        assertThat(after.getMetadata().getLabels()).containsEntry(ApiGroup.HOST_LABEL, b.host);
        assertThat(after.getSpec().uuid).isEqualTo(before.getSpec().uuid);
        assertThat(after.getMetadata().getAnnotations())
                .containsEntry(GenidPolicy.CHANGE_REASON_ANNOTATION, GenidPolicy.REASON_FAILOVER);

        // the VM follows host B: running there with the new genid, recorded in genidHistory
        eventually().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            VirtualMachine v = vm(ns, "dr-1");
            assertThat(v.getStatus().host).isEqualTo(b.host);
            assertThat(v.getStatus().printableStatus).isEqualTo("Running");
            assertThat(v.getStatus().genid).isEqualTo(g1);
            assertThat(v.getStatus().genidSource).isEqualTo("Failover");
            assertThat(v.getStatus().genidHistory).extracting(c -> c.reason).containsExactly("Created", "Failover");
            assertThat(domain(ns, "dr-1").getSpec().genid).isEqualTo(g1);
            assertThat(domain(ns, "dr-1").getSpec().domainXml).contains("<genid>" + g1 + "</genid>")
                    .contains("host=\"" + b.host + "\"");
        });
        assertThat(vm(ns, "dr-1").getSpec().nodeName).isEqualTo(a.host); // the spec is never written
        eventually().untilAsserted(() -> assertThat(eventReasons(ns, "dr-1")).contains("FailedOver", "GenidChanged"));
        eventually().untilAsserted(() -> assertThat(eventReasons(ns, "dr-1-to-b")).contains("FailedOver"));
        assertThat(metrics.genidChanges(GenidPolicy.REASON_FAILOVER)).isEqualTo(failovers + 1);
        assertThat(metrics.scrape()).contains("virtfleet_operator_genid_changes_total{reason=\"Failover\"}");

        // stays put: host A coming back does not move it again, and the request is not acted on twice
        a.resumeHeartbeat();
        eventually().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            assertThat(domain(ns, "dr-1").getSpec().host).isEqualTo(b.host);
            assertThat(vm(ns, "dr-1").getStatus().genid).isEqualTo(g1);
        });
        assertThat(get("dr-1-to-b").getStatus().failoverTime).isEqualTo(st.failoverTime);
    }

    @Test
    void aMissingVmOrTargetIsRefusedNamingTheField() {
        failover("no-vm", "nope", null);
        eventually().until(() -> get("no-vm").getStatus() != null);
        assertThat(get("no-vm").getStatus().phase).isEqualTo("Failed");
        assertThat(get("no-vm").getStatus().error).isEqualTo("spec.vmName: VirtualMachine " + ns + "/nope not found");

        String pool = "fo-" + UUID.randomUUID().toString().substring(0, 4);
        FakeAgent a = host(pool);
        running(new TestVm(ns, "dr-2").on(a.host).mac("52:54:00:6b:3c:99"));
        a.expireLease();
        eventually().atMost(Duration.ofSeconds(20)).until(() -> "Unknown".equals(printable(ns, "dr-2")));
        failover("no-target", "dr-2", "no-such-host");
        eventually().until(() -> get("no-target").getStatus() != null);
        assertThat(get("no-target").getStatus().error)
                .startsWith("spec.targetHost: host no-such-host cannot take the VM: HostNotFound");
        assertThat(domain(ns, "dr-2").getSpec().host).isEqualTo(a.host);
    }
}
