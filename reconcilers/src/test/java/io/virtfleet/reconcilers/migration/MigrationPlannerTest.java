package io.virtfleet.reconcilers.migration;

import io.fabric8.kubernetes.api.model.Quantity;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.DomainStatus;
import io.virtfleet.api.v1alpha1.HostSpec;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.api.v1alpha1.VirtualMachineSpec;
import io.virtfleet.reconcilers.lifecycle.HostView;
import io.virtfleet.reconcilers.testing.Planners;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

class MigrationPlannerTest {
    private static final Instant NOW = Instant.parse("2026-01-01T12:00:00Z");
    private static final String ROOT = Planners.ROOT;

    static HostView host(String name, boolean ready) {
        return Planners.host(name, ready, NOW, Set.of("qemu"), List.of(ROOT));
    }

    static HostSpec spec(String uri, String... shared) {
        HostSpec s = new HostSpec();
        s.allowedDiskRoots = List.of(ROOT);
        s.sharedDiskRoots = List.of(shared);
        s.migrationUri = uri;
        return s;
    }

    static VirtualMachine vm(Consumer<VirtualMachineSpec> tweak) {
        return Planners.web(tweak);
    }

    static Domain domain(String host, String state, String power) {
        Domain d = Planners.webDomain(host);
        d.getSpec().powerState = power;
        if (state != null) {
            d.setStatus(new DomainStatus());
            d.getStatus().state = state;
        }
        return d;
    }

    static Map<String, HostSpec> specs(Object... kv) {
        Map<String, HostSpec> m = new HashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], (HostSpec) kv[i + 1]);
        }
        return m;
    }

    /** name, vm, domain, targetHost, hosts, host specs, in flight, expected error (prefix) or expected target. */
    static Stream<Arguments> cases() {
        HostView a = host("a", true);
        HostView b = host("b", true);
        HostView c = host("c", true);
        HostView lostA = host("a", false);
        HostView lostB = host("b", false);
        Domain running = domain("a", "Running", "Running");
        Map<String, HostSpec> shared = specs("a", spec("qemu+unix:///system?socket=/a", ROOT),
                "b", spec("qemu+unix:///system?socket=/b", ROOT), "c", spec("qemu+unix:///system?socket=/c", ROOT));
        return Stream.of(
                Arguments.of("to the scheduler's choice", vm(s -> { }), running, null, List.of(a, b), shared, null,
                        null, "b"),
                Arguments.of("to the pinned target", vm(s -> { }), running, "c", List.of(a, b, c), shared, null, null,
                        "c"),
                Arguments.of("never to the source, even when pinned there by spec.nodeName",
                        vm(s -> s.nodeName = "a"), running, null, List.of(a, b), shared, null, null, "b"),
                Arguments.of("VM missing (or in another namespace)", null, null, null, List.of(a, b), shared, null,
                        "spec.vmName: VirtualMachine default/web not found", null),
                Arguments.of("VM never placed", vm(s -> { }), null, null, List.of(a, b), shared, null,
                        "spec.vmName: VirtualMachine default/web is not running (it has no Domain", null),
                Arguments.of("VM halted", vm(s -> { }), domain("a", "Shutoff", "Stopped"), null, List.of(a, b),
                        shared, null, "spec.vmName: VirtualMachine default/web is not running (domain state Shutoff "
                                + "on host a)", null),
                Arguments.of("VM being stopped", vm(s -> { }), domain("a", "Running", "Stopped"), null,
                        List.of(a, b), shared, null, "spec.vmName: VirtualMachine default/web is not running", null),
                Arguments.of("VM not reported yet", vm(s -> { }), domain("a", null, "Running"), null, List.of(a, b),
                        shared, null, "spec.vmName: VirtualMachine default/web is not running (domain state not "
                                + "reported yet", null),
                Arguments.of("twice at once", vm(s -> { }), running, null, List.of(a, b), shared, "web-m1",
                        "spec.vmName: VirtualMachine default/web is already being migrated by "
                                + "VirtualMachineMigration web-m1", null),
                Arguments.of("source host lost", vm(s -> { }), running, null, List.of(lostA, b), shared, null,
                        "spec.vmName: host a of VirtualMachine default/web is not ready", null),
                Arguments.of("target is the source", vm(s -> { }), running, "a", List.of(a, b), shared, null,
                        "spec.targetHost: a is the host the VM runs on", null),
                Arguments.of("target does not exist", vm(s -> { }), running, "nope", List.of(a, b), shared, null,
                        "spec.targetHost: host nope cannot take the VM: HostNotFound", null),
                Arguments.of("target lost", vm(s -> { }), running, "b", List.of(a, lostB), shared, null,
                        "spec.targetHost: host b cannot take the VM: NoReadyHost", null),
                Arguments.of("no other host", vm(s -> { }), running, null, List.of(a), shared, null,
                        "spec.vmName: no other host can take the VM: ", null),
                Arguments.of("target too small", vm(s -> s.memory = new Quantity("16Gi")), running, "b",
                        List.of(a, b), shared, null, "spec.targetHost: host b cannot take the VM: InsufficientMemory",
                        null),
                Arguments.of("target without a migration URI", vm(s -> { }), running, "b", List.of(a, b),
                        specs("a", spec("x", ROOT), "b", spec(null, ROOT)), null,
                        "spec.targetHost: host b accepts no live migrations (Host.spec.migrationUri is not set", null),
                Arguments.of("disk not on shared storage of the target", vm(s -> { }), running, null, List.of(a, b),
                        specs("a", spec("x", ROOT), "b", spec("y")), null,
                        "spec.vmName: /var/lib/virtfleet/images/web.qcow2 is not on storage hosts a and b share "
                                + "(Host.spec.sharedDiskRoots: a [/var/lib/virtfleet], b [])", null),
                Arguments.of("disk not on shared storage of the source", vm(s -> { }), running, null,
                        List.of(a, b), specs("a", spec("x", ROOT + "/other"), "b", spec("y", ROOT)), null,
                        "spec.vmName: /var/lib/virtfleet/images/web.qcow2 is not on storage hosts a and b share",
                        null),
                Arguments.of("the direct-boot kernel must be shared too", vm(s -> {
                            s.firmware = new VirtualMachineSpec.Firmware();
                            s.firmware.kernelBoot = new VirtualMachineSpec.KernelBoot();
                            s.firmware.kernelBoot.kernel = ROOT + "/local/vmlinuz";
                        }), running, null, List.of(a, b),
                        specs("a", spec("x", ROOT + "/images", ROOT + "/local"), "b", spec("y", ROOT + "/images")),
                        null, "spec.vmName: /var/lib/virtfleet/local/vmlinuz is not on storage", null));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void plans(String name, VirtualMachine vm, Domain domain, String target, List<HostView> hosts,
               Map<String, HostSpec> specs, String inFlight, String error, String to) {
        MigrationPlanner.Plan p = MigrationPlanner.plan(new MigrationPlanner.Input("default/web", vm, domain, target,
                hosts, specs, Map.of(), inFlight, NOW));
        if (error != null) {
            assertThat(p.refused()).isTrue();
            assertThat(p.error()).startsWith(error);
            assertThat(p.targetHost()).isNull();
        } else {
            assertThat(p.error()).isNull();
            assertThat(p.sourceHost()).isEqualTo("a");
            assertThat(p.targetHost()).isEqualTo(to);
            assertThat(p.message()).isEqualTo("live migration of default/web from host a to host " + to);
        }
    }

    static io.virtfleet.api.v1alpha1.HostCpu cpu(String model, String signature) {
        io.virtfleet.api.v1alpha1.HostCpu c = new io.virtfleet.api.v1alpha1.HostCpu();
        c.vendor = "AMD";
        c.model = model;
        c.signature = signature;
        return c;
    }

    /** name, CPU model, target, hosts' CPUs, hosts, expected error (prefix) or target. */
    static Stream<Arguments> cpuAndNetworkCases() {
        HostView a = host("a", true);
        HostView b = host("b", true);
        HostView c = host("c", true);
        var same = cpu("EPYC", "aaaa");
        var other = cpu("Skylake-Server", "bbbb");
        return Stream.of(
                Arguments.of("host-passthrough between identical CPUs", "host-passthrough", null,
                        Map.of("a", same, "b", same), List.of(a, b), null, "b"),
                Arguments.of("host-passthrough to a different CPU is refused", "host-passthrough", "b",
                        Map.of("a", same, "b", other), List.of(a, b), "spec.targetHost: the VM's CPU is "
                                + "host-passthrough and host b's CPU (AMD Skylake-Server, signature bbbb) differs from "
                                + "host a's (AMD EPYC, signature aaaa); a host-passthrough guest can move only between "
                                + "identical CPUs", null),
                Arguments.of("host-passthrough: the scheduler picks among identical CPUs only", "host-passthrough",
                        null, Map.of("a", same, "b", other, "c", same), List.of(a, b, c), null, "c"),
                Arguments.of("host-passthrough: no other host with this CPU", "host-passthrough", null,
                        Map.of("a", same, "b", other), List.of(a, b), "spec.vmName: the VM's CPU is host-passthrough "
                                + "and host b's CPU", null),
                Arguments.of("a named model is left to libvirt's own comparison", "qemu64", "b",
                        Map.of("a", same, "b", other), List.of(a, b), null, "b"),
                Arguments.of("hosts that do not report their CPU are not compared", "host-passthrough", "b",
                        Map.of(), List.of(a, b), null, "b"),
                Arguments.of("the target lacks the VM's bridge", null, "b", Map.of(),
                        List.of(a, b.withNetworking(Set.of("default"), Set.of("virbr0"))),
                        "spec.targetHost: host b cannot take the VM: NoHostWithNetwork bridge br0", null),
                Arguments.of("the scheduler's choice has the bridge", null, null, Map.of(),
                        List.of(a, b.withNetworking(Set.of(), Set.of()), c.withNetworking(Set.of(), Set.of("br0"))),
                        null, "c"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cpuAndNetworkCases")
    void checksCpusAndNetworks(String name, String model, String target,
                               Map<String, io.virtfleet.api.v1alpha1.HostCpu> cpus, List<HostView> hosts, String error,
                               String to) {
        VirtualMachine vm = vm(s -> {
            s.cpu.model = model;
            VirtualMachineSpec.NetworkInterface nic = new VirtualMachineSpec.NetworkInterface();
            nic.name = "lan";
            nic.bridge = "br0";
            s.interfaces.add(nic);
        });
        Map<String, HostSpec> shared = specs("a", spec("qemu+unix:///system?socket=/a", ROOT),
                "b", spec("qemu+unix:///system?socket=/b", ROOT), "c", spec("qemu+unix:///system?socket=/c", ROOT));
        MigrationPlanner.Plan p = MigrationPlanner.plan(new MigrationPlanner.Input("default/web", vm,
                domain("a", "Running", "Running"), target, hosts, shared, Map.of(), null, NOW, cpus));
        if (error != null) {
            assertThat(p.error()).startsWith(error);
        } else {
            assertThat(p.error()).isNull();
            assertThat(p.targetHost()).isEqualTo(to);
        }
    }
}
