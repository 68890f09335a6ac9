package io.virtfleet.reconcilers.testing;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.DomainSpec;
import io.virtfleet.api.v1alpha1.Hypervisor;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.api.v1alpha1.VirtualMachineSpec;
import io.virtfleet.reconcilers.lifecycle.HostView;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/** The VM {@code default/web} and the hosts that the failover and migration planner tests move it between. */
public final class Planners {
    public static final String ROOT = "/var/lib/virtfleet";

    private Planners() {
    }

    /** A 4-CPU 8Gi host whose lease runs out 10 s after {@code now} when ready, and ran out 1 s before it otherwise. */
    public static HostView host(String name, boolean ready, Instant now, Set<String> drivers, List<String> roots) {
        return new HostView(name, Map.of(), false, drivers, 4,
                Quantity.getAmountInBytes(new Quantity("8Gi")).longValue(),
                ready ? now.plusSeconds(10) : now.minusSeconds(1), roots, "vf-");
    }

    /** A one-core 256Mi QEMU VM with a root disk under {@link #ROOT}, then {@code tweak}. */
    public static VirtualMachine web(Consumer<VirtualMachineSpec> tweak) {
        VirtualMachine vm = new VirtualMachine();
        vm.setMetadata(new ObjectMetaBuilder().withName("web").withNamespace("default").build());
        VirtualMachineSpec s = new VirtualMachineSpec();
        s.hypervisor = Hypervisor.QEMU;
        s.cpu = new VirtualMachineSpec.Cpu();
        s.cpu.cores = 1;
        s.memory = new Quantity("256Mi");
        s.disks.add(Vms.disk("root", ROOT + "/images/web.qcow2"));
        tweak.accept(s);
        vm.setSpec(s);
        return vm;
    }

    /** The Domain of {@code default/web} on {@code host}. */
    public static Domain webDomain(String host) {
        Domain d = new Domain();
        d.setMetadata(new ObjectMetaBuilder().withName("web").withNamespace("default").build());
        d.setSpec(new DomainSpec());
        d.getSpec().host = host;
        return d;
    }
}
