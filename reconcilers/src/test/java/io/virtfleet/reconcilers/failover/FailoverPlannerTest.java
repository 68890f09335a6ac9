package io.virtfleet.reconcilers.failover;

import io.fabric8.kubernetes.api.model.Quantity;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.api.v1alpha1.VirtualMachineSpec;
import io.virtfleet.reconcilers.genid.GenidPolicy;
import io.virtfleet.reconcilers.lifecycle.HostView;
import io.virtfleet.reconcilers.testing.Planners;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

class FailoverPlannerTest {
    private static final Instant NOW = Instant.parse("2026-01-01T12:00:00Z");
    private static final String OLD = "946bba88-f335-4731-94ff-c785c1e7230e";
    private static final String NEW = "0a4e4c1e-5b5e-4c3a-9d0e-7a4f1f2b3c4d";

    static HostView host(String name, boolean ready, String... roots) {
        return Planners.host(name, ready, NOW, Set.of("qemu", "kvm"),
                List.of(roots.length == 0 ? new String[] {Planners.ROOT} : roots));
    }

    static VirtualMachine vm(Consumer<VirtualMachineSpec> tweak) {
        return Planners.web(s -> {
            s.nodeName = "a";
            tweak.accept(s);
        });
    }

    static Domain domainOn(String host) {
        Domain d = Planners.webDomain(host);
        d.getSpec().genid = OLD;
        return d;
    }

    /** name, vm, domain, target, hosts, expected error (prefix) or expected target host. */
    static Stream<Arguments> cases() {
        HostView lostA = host("a", false);
        HostView readyA = host("a", true);
        HostView b = host("b", true);
        HostView c = host("c", true);
        return Stream.of(
                Arguments.of("moves to the scheduler's choice", vm(s -> { }), domainOn("a"), null,
                        List.of(lostA, b), null, "b"),
                Arguments.of("moves to the target", vm(s -> { }), domainOn("a"), "c", List.of(lostA, b, c), null, "c"),
                Arguments.of("a lost host without a Host object", vm(s -> { }), domainOn("gone"), null, List.of(b),
                        null, "b"),
                Arguments.of("VM missing", null, null, null, List.of(lostA, b),
                        "spec.vmName: VirtualMachine default/web not found", null),
                Arguments.of("never placed", vm(s -> { }), null, null, List.of(lostA, b),
                        "spec.vmName: VirtualMachine default/web has no Domain", null),
                Arguments.of("host still ready", vm(s -> { }), domainOn("a"), "b", List.of(readyA, b),
                        "spec.vmName: host a of VirtualMachine default/web is ready", null),
                Arguments.of("target is the lost host", vm(s -> { }), domainOn("a"), "a", List.of(lostA, b),
                        "spec.targetHost: a is the host the VM is on", null),
                Arguments.of("target not ready", vm(s -> { }), domainOn("a"), "b",
                        List.of(lostA, host("b", false)), "spec.targetHost: host b cannot take the VM: NoReadyHost",
                        null),
                Arguments.of("target unknown", vm(s -> { }), domainOn("a"), "z", List.of(lostA, b),
                        "spec.targetHost: host z cannot take the VM: HostNotFound z", null),
                Arguments.of("disks not under the target's roots", vm(s -> { }), domainOn("a"), null,
                        List.of(lostA, host("b", true, "/srv/other")),
                        "spec.vmName: no other host can take the VM: NoHostAllowsPath "
                                + "/var/lib/virtfleet/images/web.qcow2", null),
                Arguments.of("no other host", vm(s -> { }), domainOn("a"), null, List.of(lostA),
                        "spec.vmName: no other host can take the VM: NoReadyHost", null));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void plans(String name, VirtualMachine vm, Domain domain, String target, List<HostView> hosts, String error,
               String to) {
        FailoverPlanner.Plan p = FailoverPlanner.plan("default/web", vm, domain, target, hosts, Map.of(), NOW,
                () -> NEW);
        if (error != null) {
            assertThat(p.refused()).isTrue();
            assertThat(p.error()).startsWith(error);
            assertThat(p.toHost()).isNull();
        } else {
            assertThat(p.error()).isNull();
            assertThat(p.toHost()).isEqualTo(to);
            assertThat(p.fromHost()).isEqualTo(domain.getSpec().host);
            assertThat(p.genid().action()).isEqualTo(GenidPolicy.Action.NEW);
            assertThat(p.genid().genid()).isEqualTo(NEW);
            assertThat(p.genid().reason()).isEqualTo("Failover");
            assertThat(p.message()).contains(OLD + " -> " + NEW);
        }
    }

    @Test
    void genidNoneGetsNoDeviceAndSaysSo() {
        FailoverPlanner.Plan p = FailoverPlanner.plan("default/web", vm(s -> s.genid = "none"), domainOn("a"), null,
                List.of(host("a", false), host("b", true)), Map.of(), NOW, () -> NEW);
        assertThat(p.toHost()).isEqualTo("b");
        assertThat(p.genid().action()).isEqualTo(GenidPolicy.Action.NO_DEVICE);
        assertThat(p.message()).contains("spec.genid is none");
    }

    @Test
    void anExplicitGenidIsReplacedToo() {
        VirtualMachine vm = vm(s -> s.genid = OLD.toUpperCase());
        FailoverPlanner.Plan p = FailoverPlanner.plan("default/web", vm, domainOn("a"), null,
                List.of(host("a", false), host("b", true)), Map.of(), NOW, () -> NEW);
        assertThat(p.genid().genid()).isEqualTo(NEW);
        assertThat(vm.getSpec().nodeName).isEqualTo("a"); // the VM itself is untouched
    }

    @Test
    void theTargetsCapacityCountsItsVms() {
        VirtualMachine big = vm(s -> s.memory = new Quantity("7Gi"));
        big.getMetadata().setName("big");
        FailoverPlanner.Plan p = FailoverPlanner.plan("default/web", vm(s -> s.memory = new Quantity("2Gi")),
                domainOn("a"), "b", List.of(host("a", false), host("b", true)), Map.of("b", List.of(big)), NOW,
                () -> NEW);
        assertThat(p.error()).startsWith("spec.targetHost: host b cannot take the VM: InsufficientMemory");
    }
}
