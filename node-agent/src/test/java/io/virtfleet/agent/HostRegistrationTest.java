package io.virtfleet.agent;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.virtfleet.api.v1alpha1.ApiGroup;
import io.virtfleet.api.v1alpha1.Host;
import io.virtfleet.api.v1alpha1.HostStatus;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.ZonedDateTime;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class HostRegistrationTest {
    private static final Logger LOG = LoggerFactory.getLogger(HostRegistrationTest.class);

    @Test
    void registersTheHostRenewsItsLeaseAndLetsItExpireWhenStopped() {
        KubernetesClient client = TestEnv.client();
        String host = TestEnv.newHost("host");
        Duration lease = Duration.ofSeconds(3);
        NodeAgent agent = new NodeAgent(AgentConfig.forHost(host).withDomainPrefix(TestEnv.DOMAIN_PREFIX)
                .withAllowedRoots(List.of("/var/lib/virtfleet", "/srv/vm")).withLeaseDuration(lease), client);
        try {
            agent.start();
            Host h = await().atMost(Duration.ofSeconds(60)).until(
                    () -> client.resources(Host.class).withName(host).get(),
                    x -> x != null && x.getStatus() != null && x.getStatus().drivers.size() >= 4);
            LOG.info("Host status: drivers {}", h.getStatus().drivers.stream()
                    .map(d -> d.name + "=" + d.available + (d.message != null ? " (" + d.message + ")" : "")).toList());
            assertThat(h.getSpec().allowedDiskRoots).containsExactly("/var/lib/virtfleet", "/srv/vm");
            assertThat(h.getSpec().domainPrefix).isEqualTo(TestEnv.DOMAIN_PREFIX);
            HostStatus s = h.getStatus();
            assertThat(s.drivers).anySatisfy(d -> {
                assertThat(d.name).isEqualTo("qemu");
                assertThat(d.available).isTrue();
                assertThat(d.uri).isEqualTo("qemu:///system");
                assertThat(d.version).matches("\\d+\\.\\d+\\.\\d+");
            });
            assertThat(s.drivers).anySatisfy(d -> {
                assertThat(d.name).isEqualTo("kvm");
                assertThat(d.available || d.message != null).isTrue();
            });
            assertThat(s.drivers).anySatisfy(d -> {
                assertThat(d.name).isEqualTo("xen");
                assertThat(d.available).isFalse();
                assertThat(d.message).isNotBlank();
            });
            assertThat(s.drivers).anySatisfy(d -> {
                assertThat(d.name).isEqualTo("openvz");
                assertThat(d.available).isFalse();
                assertThat(d.message).isNotBlank();
            });
            assertThat(s.availableDrivers).contains("qemu");
            assertThat(s.cpus).isPositive();
            assertThat(s.memory.getNumericalAmount().longValue()).isPositive();
            assertThat(s.libvirtVersion).matches("\\d+\\.\\d+\\.\\d+");
            assertThat(s.qemuVersion).matches("\\d+\\.\\d+\\.\\d+");
            assertThat(s.leaseName).isEqualTo(ApiGroup.leaseName(host));
            assertThat(s.leaseNamespace).isEqualTo(ApiGroup.SYSTEM_NAMESPACE);
            assertThat(s.conditions).anySatisfy(c -> {
                assertThat(c.getType()).isEqualTo("Ready");
                assertThat(c.getStatus()).isEqualTo("True");
            });

            Lease l1 = lease(client, host);
            assertThat(l1.getSpec().getHolderIdentity()).isEqualTo(host);
            assertThat(l1.getSpec().getLeaseDurationSeconds()).isEqualTo(3);
            ZonedDateTime r1 = l1.getSpec().getRenewTime();
            ZonedDateTime r2 = await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(100))
                    .until(() -> lease(client, host).getSpec().getRenewTime(), r -> r.isAfter(r1));
            LOG.info("lease renewed: {} -> {}", r1, r2);
        } finally {
            agent.close();
        }

        ZonedDateTime last = lease(client, host).getSpec().getRenewTime();
        // no renewal after close; the lease expires leaseDuration after the last renewal
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200))
                .until(() -> ZonedDateTime.now().isAfter(last.plus(lease)));
        Lease expired = lease(client, host);
        assertThat(expired.getSpec().getRenewTime()).isEqualTo(last);
        assertThat(expired.getSpec().getRenewTime().plusSeconds(expired.getSpec().getLeaseDurationSeconds()))
                .isBefore(ZonedDateTime.now());
    }

    @Test
    void anUnreachableLibvirtdIsReportedNotFatal() {
        KubernetesClient client = TestEnv.client();
        String host = TestEnv.newHost("nolibvirt");
        String uri = "qemu+unix:///system?socket=/nonexistent/libvirt-sock";
        try (NodeAgent agent = new NodeAgent(AgentConfig.forHost(host).withLibvirtUri(uri).withProbeUris(List.of()),
                client)) {
            agent.start();
            assertThat(agent.isLibvirtConnected()).isFalse();
            Host h = await().atMost(Duration.ofSeconds(20)).until(
                    () -> client.resources(Host.class).withName(host).get(),
                    x -> x != null && x.getStatus() != null && !x.getStatus().conditions.isEmpty());
            assertThat(h.getStatus().conditions).singleElement().satisfies(c -> {
                assertThat(c.getType()).isEqualTo("Ready");
                assertThat(c.getStatus()).isEqualTo("False");
                assertThat(c.getReason()).isEqualTo("LibvirtUnavailable");
                assertThat(c.getMessage()).contains("/nonexistent/libvirt-sock");
            });
            // the heartbeat runs regardless: the host is alive, its hypervisor is not
            assertThat(lease(client, host).getSpec().getHolderIdentity()).isEqualTo(host);
        }
    }

    static Lease lease(KubernetesClient client, String host) {
        return client.resources(Lease.class).inNamespace(ApiGroup.SYSTEM_NAMESPACE).withName(ApiGroup.leaseName(host))
                .get();
    }
}
