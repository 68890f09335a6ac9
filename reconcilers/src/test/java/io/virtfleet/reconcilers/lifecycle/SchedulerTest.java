package io.virtfleet.reconcilers.lifecycle;

import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.virtfleet.api.v1alpha1.Hypervisor;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static io.virtfleet.reconcilers.lifecycle.Fixtures.NOW;
import static io.virtfleet.reconcilers.lifecycle.Fixtures.expired;
import static io.virtfleet.reconcilers.lifecycle.Fixtures.host;
import static io.virtfleet.reconcilers.lifecycle.Fixtures.hostObject;
import static io.virtfleet.reconcilers.lifecycle.Fixtures.lease;
import static io.virtfleet.reconcilers.lifecycle.Fixtures.unschedulable;
import static io.virtfleet.reconcilers.lifecycle.Fixtures.vm;
import static io.virtfleet.reconcilers.lifecycle.Fixtures.withLabels;
import static org.assertj.core.api.Assertions.assertThat;

class SchedulerTest {

    record Case(String name, VirtualMachine vm, List<HostView> hosts, Map<String, List<VirtualMachine>> placed,
                String expectHost, String expectReason) {
        @Override
        public String toString() {
            return name;
        }
    }

    static VirtualMachine kvm(String name, int cores, String memory) {
        return vm(name, Hypervisor.KVM, cores, memory);
    }

    static VirtualMachine selecting(VirtualMachine vm, Map<String, String> labels) {
        vm.getSpec().hostSelector = new LabelSelectorBuilder().withMatchLabels(labels).build();
        return vm;
    }

    static VirtualMachine pinned(VirtualMachine vm, String node) {
        vm.getSpec().nodeName = node;
        return vm;
    }

    static VirtualMachine withDisk(VirtualMachine vm, String path) {
        var d = new io.virtfleet.api.v1alpha1.VirtualMachineSpec.Disk();
        d.name = "root";
        d.volume = new io.virtfleet.api.v1alpha1.VirtualMachineSpec.Volume();
        d.volume.path = path;
        vm.getSpec().disks.add(d);
        return vm;
    }

    static HostView withRoots(HostView h, String... roots) {
        return new HostView(h.name(), h.labels(), h.unschedulable(), h.drivers(), h.cpus(), h.memoryBytes(),
                h.leaseExpiry(), List.of(roots), h.domainPrefix());
    }

    static VirtualMachine withNic(VirtualMachine vm, String network, String bridge) {
        var i = new io.virtfleet.api.v1alpha1.VirtualMachineSpec.NetworkInterface();
        i.name = "nic" + vm.getSpec().interfaces.size();
        i.network = network;
        i.bridge = bridge;
        vm.getSpec().interfaces.add(i);
        return vm;
    }

    static HostView networking(HostView h, List<String> networks, List<String> bridges) {
        return h.withNetworking(java.util.Set.copyOf(networks), java.util.Set.copyOf(bridges));
    }

    static Stream<Case> cases() {
        HostView a = host("node-a", 8, "8Gi", "kvm", "qemu");
        HostView b = host("node-b", 8, "16Gi", "kvm", "qemu");
        HostView qemuOnly = host("node-q", 8, "16Gi", "qemu");
        return Stream.of(
                new Case("most free memory wins", kvm("web", 2, "2Gi"), List.of(a, b), Map.of(), "node-b", null),
                new Case("VMs already placed count against the host", kvm("web", 2, "2Gi"), List.of(a, b),
                        Map.of("node-b", List.of(kvm("big", 2, "10Gi"))), "node-a", null),
                new Case("the VM itself is not counted twice", kvm("web", 2, "8Gi"), List.of(a),
                        Map.of("node-a", List.of(kvm("web", 2, "8Gi"))), "node-a", null),
                new Case("tie broken by name", kvm("web", 1, "1Gi"), List.of(host("node-z", 4, "4Gi", "kvm"),
                        host("node-y", 4, "4Gi", "kvm")), Map.of(), "node-y", null),
                new Case("equal memory: more free CPUs wins", kvm("web", 1, "1Gi"),
                        List.of(host("node-y", 2, "4Gi", "kvm"), host("node-z", 4, "4Gi", "kvm")), Map.of(),
                        "node-z", null),
                new Case("xen is offered nowhere", vm("x", Hypervisor.XEN, 1, "1Gi"), List.of(a, b), Map.of(),
                        null, "NoHostWithDriver xen"),
                new Case("qemu VM goes to a qemu host", vm("q", Hypervisor.QEMU, 1, "1Gi"),
                        List.of(host("node-k", 8, "64Gi", "kvm"), qemuOnly), Map.of(), "node-q", null),
                new Case("kvm VM does not go to a qemu-only host", kvm("k", 1, "1Gi"), List.of(qemuOnly), Map.of(),
                        null, "NoHostWithDriver kvm"),
                new Case("no hosts at all", kvm("web", 1, "1Gi"), List.of(), Map.of(), null, "NoReadyHost"),
                new Case("every Lease expired", kvm("web", 1, "1Gi"), List.of(expired(a), expired(b)), Map.of(),
                        null, "NoReadyHost"),
                new Case("expired host is skipped although it has most memory", kvm("web", 1, "1Gi"),
                        List.of(a, expired(b)), Map.of(), "node-a", null),
                new Case("reason of the host that came closest", vm("x", Hypervisor.XEN, 1, "1Gi"),
                        List.of(expired(a), b), Map.of(), null, "NoHostWithDriver xen"),
                new Case("host without reported capacity is not ready", kvm("web", 1, "1Gi"),
                        List.of(new HostView("node-n", Map.of(), false, java.util.Set.of("kvm"), null, null,
                                NOW.plusSeconds(30), List.of(), null)), Map.of(), null, "NoReadyHost"),
                new Case("selector picks the labelled host", selecting(kvm("web", 1, "1Gi"), Map.of("zone", "a")),
                        List.of(withLabels(a, Map.of("zone", "a")), withLabels(b, Map.of("zone", "b"))), Map.of(),
                        "node-a", null),
                new Case("selector matches nothing", selecting(kvm("web", 1, "1Gi"), Map.of("zone", "c")),
                        List.of(withLabels(a, Map.of("zone", "a")), withLabels(b, Map.of("zone", "b"))), Map.of(),
                        null, "NoHostMatchesSelector zone=c"),
                new Case("unschedulable host gets nothing new", kvm("web", 1, "1Gi"),
                        List.of(unschedulable(b), a), Map.of(), "node-a", null),
                new Case("all unschedulable", kvm("web", 1, "1Gi"), List.of(unschedulable(a)), Map.of(), null,
                        "NoSchedulableHost"),
                new Case("nodeName pins even to the smaller host", pinned(kvm("web", 1, "1Gi"), "node-a"),
                        List.of(a, b), Map.of(), "node-a", null),
                new Case("nodeName of an unknown host", pinned(kvm("web", 1, "1Gi"), "node-x"), List.of(a, b),
                        Map.of(), null, "HostNotFound node-x"),
                new Case("nodeName host must still be ready", pinned(kvm("web", 1, "1Gi"), "node-a"),
                        List.of(expired(a), b), Map.of(), null, "NoReadyHost"),
                new Case("not enough memory anywhere", kvm("web", 1, "32Gi"), List.of(a, b), Map.of(), null,
                        "InsufficientMemory"),
                new Case("CPUs are overcommitted 4:1", kvm("web", 32, "1Gi"), List.of(a), Map.of(), "node-a", null),
                new Case("not enough CPUs anywhere, even overcommitted", kvm("web", 33, "1Gi"), List.of(a, b),
                        Map.of(), null, "InsufficientCpu"),
                new Case("memory fits exactly", kvm("web", 8, "8Gi"), List.of(a), Map.of(), "node-a", null),
                new Case("placed VMs fill the host", kvm("web", 1, "1Gi"), List.of(a),
                        Map.of("node-a", List.of(kvm("one", 16, "1Gi"), kvm("two", 16, "1Gi"))), null,
                        "InsufficientCpu"),
                new Case("disk under the agent's default root", withDisk(kvm("web", 1, "1Gi"),
                        "/var/lib/virtfleet/images/web.qcow2"), List.of(a), Map.of(), "node-a", null),
                new Case("disk outside every host's roots", withDisk(kvm("web", 1, "1Gi"), "/srv/images/web.qcow2"),
                        List.of(a, b), Map.of(), null, "NoHostAllowsPath /srv/images/web.qcow2"),
                new Case("only the host allowing the disk's root", withDisk(kvm("web", 1, "1Gi"),
                        "/srv/images/web.qcow2"), List.of(b, withRoots(a, "/srv/images")), Map.of(), "node-a", null),
                new Case("a draining host gets nothing new", kvm("web", 1, "1Gi"),
                        List.of(b.withDraining(true), a), Map.of(), "node-a", null),
                new Case("all draining", kvm("web", 1, "1Gi"), List.of(a.withDraining(true)), Map.of(), null,
                        "NoSchedulableHost"),
                new Case("a VM on bridge br0 is not placed on a host without it",
                        withNic(kvm("web", 1, "1Gi"), null, "br0"),
                        List.of(networking(b, List.of("default"), List.of("virbr0")),
                                networking(a, List.of("default"), List.of("br0", "virbr0"))), Map.of(), "node-a", null),
                new Case("no host has the bridge", withNic(kvm("web", 1, "1Gi"), null, "br0"),
                        List.of(networking(a, List.of("default"), List.of("virbr0")),
                                networking(b, List.of(), List.of())), Map.of(), null, "NoHostWithNetwork bridge br0"),
                new Case("no host has the libvirt network", withNic(kvm("web", 1, "1Gi"), "storage", null),
                        List.of(networking(a, List.of("default"), List.of())), Map.of(), null,
                        "NoHostWithNetwork network storage"),
                new Case("the network check comes before capacity", withNic(kvm("web", 1, "32Gi"), "storage", null),
                        List.of(networking(a, List.of("default"), List.of())), Map.of(), null,
                        "NoHostWithNetwork network storage"),
                new Case("a host that does not report its networks is not checked",
                        withNic(kvm("web", 1, "1Gi"), null, "br0"), List.of(a), Map.of(), "node-a", null),
                new Case("defaults: 1 CPU and 1Gi when the spec says nothing", kvm("web", 0, null),
                        List.of(host("tiny", 1, "1Gi", "kvm")), Map.of(), "tiny", null));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void chooses(Case c) {
        Decision d = Scheduler.choose(c.vm(), c.hosts(), c.placed(), NOW);
        if (c.expectHost() != null) {
            assertThat(d.isScheduled()).as(d.toString()).isTrue();
            assertThat(d.host()).isEqualTo(c.expectHost());
            assertThat(d.reasonString()).isNull();
        } else {
            assertThat(d.isScheduled()).as(d.toString()).isFalse();
            assertThat(d.reasonString()).isEqualTo(c.expectReason());
            assertThat(d.message()).startsWith(c.expectReason());
        }
        // The same case decided from an incremental per-host tally (what the operator uses) decides the same.
        HostUsage<String> usage = new HostUsage<>();
        c.placed().forEach((host, vms) -> vms.forEach(v -> usage.put(v.getMetadata().getName(), host,
                VmResources.of(v))));
        Decision fromTally = Scheduler.choose(c.vm(), c.hosts(),
                host -> usage.usedOn(host, c.vm().getMetadata().getName()), NOW);
        assertThat(fromTally).isEqualTo(d);
    }

    @Test
    void messageCountsWhatEachHostLacked() {
        Decision d = Scheduler.choose(vm("x", Hypervisor.XEN, 1, "1Gi"),
                List.of(expired(host("a", 4, "4Gi", "kvm")), host("b", 4, "4Gi", "kvm"), host("c", 4, "4Gi", "qemu")),
                Map.of(), NOW);
        assertThat(d.reason()).isEqualTo("NoHostWithDriver");
        assertThat(d.detail()).isEqualTo("xen");
        assertThat(d.message()).isEqualTo("NoHostWithDriver xen: 0/3 hosts fit (1 not ready, 2 without the xen driver)");
    }

    @Test
    void hostsOutsideTheSelectorAreCountedAsSuch() {
        VirtualMachine vm = selecting(kvm("web", 1, "1Gi"), Map.of("pool", "blue"));
        Decision d = Scheduler.choose(vm, List.of(expired(host("other", 4, "4Gi", "kvm")),
                withLabels(expired(host("blue-1", 4, "4Gi", "kvm")), Map.of("pool", "blue"))), Map.of(), NOW);
        assertThat(d.message()).isEqualTo("NoReadyHost: 0/2 hosts fit (1 not matching the selector, 1 not ready)");
    }

    @Test
    void spreadsAFleetOfEqualVms() {
        List<HostView> hosts = List.of(host("a", 16, "16Gi", "kvm"), host("b", 16, "16Gi", "kvm"));
        Map<String, List<VirtualMachine>> placed = new java.util.HashMap<>();
        for (int i = 0; i < 6; i++) {
            VirtualMachine vm = kvm("vm-" + i, 1, "2Gi");
            Decision d = Scheduler.choose(vm, hosts, placed, NOW);
            placed.computeIfAbsent(d.host(), k -> new java.util.ArrayList<>()).add(vm);
        }
        assertThat(placed.get("a")).hasSize(3);
        assertThat(placed.get("b")).hasSize(3);
    }

    @Test
    void hostViewFromHostAndLease() {
        HostView v = HostView.of(hostObject("node-a", 4, "8Gi", "kvm", "qemu"), lease("node-a", NOW.minusSeconds(10), 40));
        assertThat(v.drivers()).containsExactlyInAnyOrder("kvm", "qemu");
        assertThat(v.memoryBytes()).isEqualTo(8L << 30);
        assertThat(v.cpus()).isEqualTo(4);
        assertThat(v.leaseExpiry()).isEqualTo(NOW.plusSeconds(30));
        assertThat(v.isReady(NOW)).isTrue();
        assertThat(v.isReady(NOW.plusSeconds(30))).isFalse();
        assertThat(v.labels()).containsEntry("zone", "a");
        assertThat(v.allowedDiskRoots()).containsExactly("/var/lib/virtfleet");
        assertThat(HostView.of(hostObject("node-a", 4, "8Gi", "kvm"), null).isReady(NOW)).isFalse();
    }

    @Test
    void availableDriversFallsBackToTheCommaList() {
        var status = new io.virtfleet.api.v1alpha1.HostStatus();
        status.availableDrivers = "kvm, qemu";
        assertThat(HostView.availableDrivers(status)).containsExactly("kvm", "qemu");
    }
}
