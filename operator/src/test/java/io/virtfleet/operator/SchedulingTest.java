package io.virtfleet.operator;

import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.fabric8.kubernetes.api.model.Condition;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Scheduling against a real apiserver with FAKE hosts. The operator here retries pending VMs only every 10 minutes,
 * so everything observed within a test was triggered by Host and Lease events (or a Lease's expiry timer).
 */
class SchedulingTest extends OperatorTestSupport {
    @RegisterExtension
    static final ClassOperator fixture = new ClassOperator("sched")
            .configured(() -> testConfig().pendingRetry(Duration.ofMinutes(10)));
    static final String ns = fixture.ns;

    /** The tests see an operator that took over the namespace from a stopped one. */
    @BeforeAll
    static void restartedOnce() {
        fixture.restart();
    }

    static String pool() {
        return uniqueName("pool");
    }

    FakeAgent host(String name, String pool, int cpus, String memory, String... drivers) {
        return testHost(name, Map.of("pool", pool), cpus, memory, drivers);
    }

    static String hostOf(String name) {
        VirtualMachine v = vm(ns, name);
        return v == null || v.getStatus() == null ? null : v.getStatus().host;
    }

    @Test
    void vmsSpreadByFreeMemoryAndNeverOvercommitAHost() {
        String pool = pool();
        String a = pool + "-a";
        String b = pool + "-b";
        host(a, pool, 8, "8Gi", "kvm", "qemu");
        host(b, pool, 8, "16Gi", "kvm", "qemu");
        // free memory a/b: 8/16 -> b; 8/12 -> b; 8/8 -> tie, by name a; 4/8 -> b; 4/4 -> a; 0/4 -> b; 0/0 -> none
        String[] expected = {b, b, a, b, a, b};
        for (int i = 0; i < expected.length; i++) {
            String name = "spread-" + i;
            apply(new TestVm(ns, name).selecting("pool", pool).spec("memory", "4Gi").mac(mac(i)));
            String want = expected[i];
            eventually().untilAsserted(() -> assertThat(hostOf(name)).isEqualTo(want));
            assertThat(domain(ns, name).getSpec().host).isEqualTo(want);
        }
        apply(new TestVm(ns, "spread-6").selecting("pool", pool).spec("memory", "4Gi").mac(mac(6)));
        eventually().untilAsserted(() -> {
            Condition s = condition(vm(ns, "spread-6"), "Scheduled");
            assertThat(s.getStatus()).isEqualTo("False");
            assertThat(s.getReason()).isEqualTo("InsufficientMemory");
            assertThat(s.getMessage()).startsWith("InsufficientMemory: ").contains("2 without enough free memory");
            assertThat(printable(ns, "spread-6")).isEqualTo("Pending");
        });
        assertThat(domain(ns, "spread-6")).isNull();
        for (int i = 0; i <= 6; i++) {
            assertNoDrift(ns, "spread-" + i);
        }
    }

    @Test
    void aBurstOfVmsIsPlacedWithoutDoubleBooking() {
        String pool = pool();
        host(pool + "-d", pool, 4, "8Gi", "qemu");
        host(pool + "-e", pool, 4, "8Gi", "qemu");
        for (int i = 0; i < 6; i++) {
            apply(new TestVm(ns, "burst-" + i).selecting("pool", pool).spec("memory", "2Gi").mac(mac(10 + i)));
        }
        eventually().untilAsserted(() -> {
            for (int i = 0; i < 6; i++) {
                assertThat(hostOf("burst-" + i)).as("burst-" + i).isNotNull();
            }
        });
        Map<String, Integer> perHost = new HashMap<>();
        for (int i = 0; i < 6; i++) {
            perHost.merge(hostOf("burst-" + i), 1, Integer::sum);
        }
        assertThat(perHost).containsEntry(pool + "-d", 3).containsEntry(pool + "-e", 3);
    }

    @Test
    void aXenVmStaysPendingWhereNoHostOffersXen() {
        String pool = pool();
        host(pool + "-k", pool, 8, "16Gi", "kvm", "qemu");
        host(pool + "-q", pool, 8, "16Gi", "qemu");
        TestVm t = apply(new TestVm(ns, "xen-1").selecting("pool", pool).spec("hypervisor", "xen")
                .mac("00:16:3e:5a:00:02"));
        eventually().untilAsserted(() -> {
            VirtualMachine v = vm(ns, "xen-1");
            Condition s = condition(v, "Scheduled");
            assertThat(s.getStatus()).isEqualTo("False");
            assertThat(s.getReason()).isEqualTo("NoHostWithDriver");
            assertThat(s.getMessage()).startsWith("NoHostWithDriver xen");
            assertThat(v.getStatus().printableStatus).isEqualTo("Pending");
            assertThat(v.getStatus().host).isNull();
        });
        eventually().untilAsserted(() -> assertThat(events(ns, "xen-1")).anySatisfy(e -> {
            assertThat(e.getReason()).isEqualTo("FailedScheduling");
            assertThat(e.getMessage()).contains("NoHostWithDriver xen");
        }));
        assertThat(domain(ns, "xen-1")).isNull();

        // a host offering xen joins the pool: the VM is scheduled at once (Host/Lease events, no polling)
        host(pool + "-x", pool, 8, "16Gi", "xen");
        eventually().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
            assertThat(hostOf("xen-1")).isEqualTo(pool + "-x");
            assertThat(domain(ns, "xen-1").getSpec().domainXml).contains("type=\"xen\"");
        });
        assertNoDrift(ns, "xen-1");
    }

    @Test
    void aHostWhoseLeaseExpiredGetsNoNewVmsAndItsVmsGoUnknown() {
        String pool = pool();
        FakeAgent c = onlyHostRunning(pool, "resident", 30);

        c.expireLease();
        eventually().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
            VirtualMachine v = vm(ns, "resident");
            assertThat(v.getStatus().printableStatus).isEqualTo("Unknown");
            Condition ready = condition(v, "Ready");
            assertThat(ready.getStatus()).isEqualTo("Unknown");
            assertThat(ready.getReason()).isEqualTo("HostLost");
        });
        eventually().untilAsserted(() -> assertThat(eventReasons(ns, "resident")).contains("HostLost"));

        apply(new TestVm(ns, "newcomer").selecting("pool", pool).mac(mac(31)));
        eventually().untilAsserted(() -> assertThat(conditionStatus(ns, "newcomer", "Scheduled"))
                .isEqualTo("False/NoReadyHost"));
        // not rescheduled: the resident stays assigned to its host, its Domain untouched
        eventually().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            assertThat(hostOf("resident")).isEqualTo(c.host);
            assertThat(domain(ns, "resident").getSpec().host).isEqualTo(c.host);
            assertThat(hostOf("newcomer")).isNull();
        });

        c.resumeHeartbeat();
        eventually().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
            assertThat(printable(ns, "resident")).isEqualTo("Running");
            assertThat(hostOf("newcomer")).isEqualTo(c.host);
            assertThat(printable(ns, "newcomer")).isEqualTo("Running");
        });
        eventually().untilAsserted(() -> assertThat(eventReasons(ns, "resident")).contains("HostRecovered"));
        assertNoDrift(ns, "resident");
        assertNoDrift(ns, "newcomer");
    }

    @Test
    void anAgentThatSilentlyStopsIsNoticedWhenItsLeaseRunsOut() {
        FakeAgent c = onlyHostRunning(pool(), "orphan", 40);
        c.close(); // no more renewals, no write: only the expiry timer can tell
        eventually().atMost(Duration.ofSeconds(FakeAgent.LEASE_SECONDS + 10))
                .until(() -> "Unknown".equals(printable(ns, "orphan")));
        Domain d = domain(ns, "orphan");
        assertThat(d.getSpec().host).isEqualTo(c.host);
    }

    /** The only host (8 CPUs, 16Gi, qemu) of {@code pool}, running VM {@code vm} that selects the pool. */
    private FakeAgent onlyHostRunning(String pool, String vm, int mac) {
        FakeAgent h = host(pool + "-h", pool, 8, "16Gi", "qemu");
        running(new TestVm(ns, vm).selecting("pool", pool).mac(mac(mac)));
        return h;
    }

    private static String mac(int i) {
        return String.format("52:54:00:00:%02x:%02x", (i >> 8) & 0xff, i & 0xff);
    }
}
