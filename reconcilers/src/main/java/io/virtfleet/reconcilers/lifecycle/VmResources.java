package io.virtfleet.reconcilers.lifecycle;

import io.fabric8.kubernetes.api.model.Quantity;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.api.v1alpha1.VirtualMachineSpec;

/**
 * What a VM reserves on its host for scheduling: virtual CPUs and guest memory. There is no overcommit: the sum over
 * the VMs placed on a host may not exceed the host's physical CPUs and memory.
 */
public record VmResources(int cpus, long memoryBytes) {
    /** vCPUs of a VM whose spec.cpu.cores is absent. Keep in step with the renderer's default. */
    public static final int DEFAULT_CPUS = 1;
    /** Memory of a VM whose spec.memory is absent. Keep in step with the renderer's default. */
    public static final long DEFAULT_MEMORY_BYTES = 1024L * 1024 * 1024;

    public static final VmResources ZERO = new VmResources(0, 0);

    public static VmResources of(VirtualMachine vm) {
        return vm == null ? ZERO : of(vm.getSpec());
    }

    public static VmResources of(VirtualMachineSpec spec) {
        int cpus = DEFAULT_CPUS;
        long memory = DEFAULT_MEMORY_BYTES;
        if (spec != null) {
            if (spec.cpu != null && spec.cpu.cores != null && spec.cpu.cores > 0) {
                cpus = spec.cpu.cores;
            }
            Long m = bytes(spec.memory);
            if (m != null && m > 0) {
                memory = m;
            }
        }
        return new VmResources(cpus, memory);
    }

    private static Long bytes(Quantity q) {
        return HostView.bytes(q);
    }

    public VmResources plus(VmResources o) {
        return new VmResources(cpus + o.cpus, memoryBytes + o.memoryBytes);
    }
}
