package io.virtfleet.reconcilers.lifecycle;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.virtfleet.api.v1alpha1.ApiGroup;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.DomainSpec;
import io.virtfleet.api.v1alpha1.DomainStatus;
import io.virtfleet.api.v1alpha1.Host;
import io.virtfleet.api.v1alpha1.HostSpec;
import io.virtfleet.api.v1alpha1.HostStatus;
import io.virtfleet.api.v1alpha1.Hypervisor;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.api.v1alpha1.VirtualMachineSpec;

import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

final class Fixtures {
    static final Instant NOW = Instant.parse("2026-01-01T12:00:00Z");

    private Fixtures() {
    }

    static VirtualMachine vm(String name, Hypervisor hv, int cores, String memory) {
        VirtualMachine vm = new VirtualMachine();
        vm.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace("default").withGeneration(1L).build());
        VirtualMachineSpec spec = new VirtualMachineSpec();
        spec.hypervisor = hv;
        spec.cpu = new VirtualMachineSpec.Cpu();
        spec.cpu.cores = cores;
        spec.memory = memory == null ? null : new Quantity(memory);
        vm.setSpec(spec);
        return vm;
    }

    /** A ready host (Lease renewed 5 s ago for 40 s) with the given drivers. */
    static HostView host(String name, int cpus, String memory, String... drivers) {
        return new HostView(name, Map.of(), false, java.util.Set.of(drivers), cpus,
                Quantity.getAmountInBytes(new Quantity(memory)).longValue(), NOW.plusSeconds(35), List.of(), null);
    }

    static HostView withLabels(HostView h, Map<String, String> labels) {
        return new HostView(h.name(), labels, h.unschedulable(), h.drivers(), h.cpus(), h.memoryBytes(),
                h.leaseExpiry(), h.allowedDiskRoots(), h.domainPrefix());
    }

    static HostView unschedulable(HostView h) {
        return new HostView(h.name(), h.labels(), true, h.drivers(), h.cpus(), h.memoryBytes(), h.leaseExpiry(),
                h.allowedDiskRoots(), h.domainPrefix());
    }

    static HostView expired(HostView h) {
        return new HostView(h.name(), h.labels(), h.unschedulable(), h.drivers(), h.cpus(), h.memoryBytes(),
                NOW.minusSeconds(1), h.allowedDiskRoots(), h.domainPrefix());
    }

    static Host hostObject(String name, int cpus, String memory, String... available) {
        Host h = new Host();
        h.setMetadata(new ObjectMetaBuilder().withName(name).withLabels(Map.of("zone", "a")).build());
        h.setSpec(new HostSpec());
        h.getSpec().allowedDiskRoots.add("/var/lib/virtfleet");
        h.getSpec().domainPrefix = "vf-";
        h.setStatus(new HostStatus());
        h.getStatus().cpus = cpus;
        h.getStatus().memory = new Quantity(memory);
        for (String d : available) {
            h.getStatus().drivers.add(new HostStatus.HypervisorDriver(d, "qemu:///system", true, "8.0", null));
        }
        h.getStatus().drivers.add(new HostStatus.HypervisorDriver("xen", "xen:///system", false, null, "no xen"));
        return h;
    }

    static Lease lease(String host, Instant renew, int seconds) {
        return new LeaseBuilder().withNewMetadata().withName(ApiGroup.leaseName(host))
                .withNamespace(ApiGroup.SYSTEM_NAMESPACE).endMetadata()
                .withNewSpec().withHolderIdentity(host).withLeaseDurationSeconds(seconds)
                .withRenewTime(renew.atZone(ZoneOffset.UTC)).endSpec().build();
    }

    static DomainSpec spec(String powerState, long gen) {
        DomainSpec s = new DomainSpec();
        s.host = "node-a";
        s.powerState = powerState;
        s.restartGeneration = gen;
        return s;
    }

    static DomainStatus status(String state, String reason, Long observed) {
        DomainStatus s = new DomainStatus();
        s.state = state;
        s.reason = reason;
        s.observedRestartGeneration = observed;
        s.id = DomainStates.isActive(state) ? 5 : -1;
        return s;
    }

    static Domain domain(DomainSpec spec, DomainStatus status, Map<String, String> annotations) {
        Domain d = new Domain();
        d.setMetadata(new ObjectMetaBuilder().withName("web-1").withNamespace("default")
                .withAnnotations(annotations == null ? null : new HashMap<>(annotations)).build());
        d.setSpec(spec);
        d.setStatus(status);
        return d;
    }
}
