package io.virtfleet.operator;

import io.virtfleet.api.v1alpha1.ApiGroup;
import io.virtfleet.api.v1alpha1.VirtualMachineClone;
import io.virtfleet.api.v1alpha1.VirtualMachineCloneStatus;
import io.virtfleet.api.v1alpha1.VirtualMachineSnapshot;
import io.virtfleet.reconcilers.requests.RequestDeadlines;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A request whose agent never finishes it (here: a FakeAgent host that runs the VM's Domain but does no snapshot or
 * clone work) ends Failed at its deadline, with a reason naming the phase, the host and what was left as it was; the
 * operator gets there without any further event (it comes back at the deadline).
 */
class RequestDeadlineTest extends OperatorTestSupport {
    @RegisterExtension
    static final ClassOperator fixture = new ClassOperator("deadline").withHost()
            .configured(() -> testConfig().requestDeadlines(
                    new RequestDeadlines.Limits(Duration.ofSeconds(4), Duration.ofSeconds(8))));
    static final String ns = fixture.ns;
    static final String host = fixture.host;

    @Test
    void aSnapshotNoAgentTakesFailsAtItsDeadline() {
        apply(new TestVm(ns, "dl-1").on(host));
        eventually().untilAsserted(() -> assertThat(domain(ns, "dl-1")).isNotNull());
        VirtualMachineSnapshot s = VirtualMachineSnapshot.of(ns, "dl-1-s", "dl-1");
        client.resource(s).create();
        eventually().untilAsserted(() -> assertThat(snapshot("dl-1-s").getMetadata().getLabels())
                .containsEntry(ApiGroup.HOST_LABEL, host));
        eventually().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            VirtualMachineSnapshot x = snapshot("dl-1-s");
            assertThat(x.getStatus()).isNotNull();
            assertThat(x.getStatus().phase).isEqualTo("Failed");
            assertThat(x.getStatus().readyToUse).isFalse();
            assertThat(x.getStatus().error).startsWith("deadline exceeded: still not handled 4s after it was created")
                    .contains("the agent of host " + host + " did not finish it")
                    .endsWith("the VirtualMachineSnapshot was given up, the VM left as it was");
        });
    }

    @Test
    void aCloneStuckCopyingDisksFailsAtTheWorkDeadline() {
        apply(new TestVm(ns, "dl-2").on(host).mac("52:54:00:dd:00:02"));
        eventually().untilAsserted(() -> assertThat(domain(ns, "dl-2")).isNotNull());
        VirtualMachineClone c = VirtualMachineClone.of(ns, "dl-2-c", "dl-2", "dl-2-copy");
        client.resource(c).create();
        eventually().untilAsserted(() -> assertThat(clone("dl-2-c").getStatus().phase).isEqualTo("Pending"));
        // the agent starts copying, and is never heard of again
        // (retried: the operator may write the status at the same moment, a 409)
        eventually().untilAsserted(() -> client.resources(VirtualMachineClone.class).inNamespace(ns)
                .withName("dl-2-c").editStatus(x -> {
                    x.getStatus().phase = VirtualMachineCloneStatus.PHASE_COPYING_DISKS;
                    return x;
                }));
        sleep(Duration.ofSeconds(5)); // past the hand-over deadline: CopyingDisks has the longer one
        assertThat(clone("dl-2-c").getStatus().phase).isEqualTo("CopyingDisks");
        eventually().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            VirtualMachineClone x = clone("dl-2-c");
            assertThat(x.getStatus().phase).isEqualTo("Failed");
            assertThat(x.getStatus().error).startsWith("deadline exceeded: still CopyingDisks 8s after it was created")
                    .endsWith("the copies made so far (status.disks) left as it was");
            assertThat(x.getStatus().disks).isNotEmpty(); // the plan stays, so what is left can be found
        });
        assertThat(client.resources(io.virtfleet.api.v1alpha1.VirtualMachine.class).inNamespace(ns)
                .withName("dl-2-copy").get()).isNull();
    }

    private static VirtualMachineSnapshot snapshot(String name) {
        return client.resources(VirtualMachineSnapshot.class).inNamespace(ns).withName(name).get();
    }

    private static VirtualMachineClone clone(String name) {
        return client.resources(VirtualMachineClone.class).inNamespace(ns).withName(name).get();
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
