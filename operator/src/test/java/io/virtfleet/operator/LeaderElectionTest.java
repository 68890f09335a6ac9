package io.virtfleet.operator;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.virtfleet.api.v1alpha1.ApiGroup;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Two operator replicas with JOSDK's Lease-based leader election: one reconciles; when it goes, the other takes over. */
class LeaderElectionTest extends OperatorTestSupport {
    VirtfleetOperator one;
    VirtfleetOperator two;
    FakeAgent agent;

    @AfterEach
    void stop() {
        stopOperator(one);
        stopOperator(two);
        if (agent != null) {
            agent.close();
        }
    }

    @Test
    void onlyTheLeaderReconcilesAndAnotherReplicaTakesOver() {
        String ns = newNamespace("leader");
        String lease = uniqueName("virtfleet-operator");
        OperatorConfig.Builder config = testConfig().leaderElection(true).leaseName(lease)
                .leaderElectionTimings(Duration.ofSeconds(4), Duration.ofSeconds(3), Duration.ofMillis(500));
        one = startOperator(config.identity("replica-1"), ns);
        two = startOperator(config.identity("replica-2"), ns);
        eventually().until(() -> one.isLeading() || two.isLeading());
        VirtfleetOperator leader = one.isLeading() ? one : two;
        VirtfleetOperator follower = leader == one ? two : one;
        assertThat(follower.isLeading()).isFalse();
        Lease l = client.leases().inNamespace(ApiGroup.SYSTEM_NAMESPACE).withName(lease).get();
        assertThat(l.getSpec().getHolderIdentity()).isEqualTo(leader.identity());

        String host = uniqueName("le");
        agent = FakeAgent.start(client, host, Map.of("test", host), 8, "16Gi", true, "qemu");
        running(new TestVm(ns, "first").on(host));

        stopOperator(leader);
        eventually().atMost(Duration.ofSeconds(30)).until(follower::isLeading);
        eventually().untilAsserted(() -> assertThat(client.leases().inNamespace(ApiGroup.SYSTEM_NAMESPACE)
                .withName(lease).get().getSpec().getHolderIdentity()).isEqualTo(follower.identity()));
        running(new TestVm(ns, "second").on(host).mac("52:54:00:6b:3c:60"));
        for (String vm : List.of("first", "second")) {
            assertNoDrift(ns, vm);
        }
    }
}
