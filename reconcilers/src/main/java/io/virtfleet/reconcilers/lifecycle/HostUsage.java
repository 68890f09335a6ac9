package io.virtfleet.reconcilers.lifecycle;

import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * What the VMs placed on each host reserve, kept up to date one VM at a time, so that a scheduling decision costs
 * O(hosts) instead of a walk over every VM ({@link Scheduler#choose(io.virtfleet.api.v1alpha1.VirtualMachine,
 * java.util.List, java.util.function.Function, java.time.Instant)}). Keyed by any stable VM key (the operator uses
 * JOSDK's ResourceID). Thread-safe.
 *
 * @param <K> the VM key
 */
public final class HostUsage<K> {
    private record Entry(String host, VmResources resources) {
    }

    private final Map<K, Entry> byVm = new HashMap<>();
    private final Map<String, VmResources> byHost = new HashMap<>();

    /** The VM {@code vm} is on {@code host} (null: on none) and reserves {@code resources}; replaces what was known. */
    public synchronized void put(K vm, String host, VmResources resources) {
        Entry next = host == null ? null : new Entry(host, Objects.requireNonNull(resources, "resources"));
        Entry previous = next == null ? byVm.remove(vm) : byVm.put(vm, next);
        if (Objects.equals(previous, next)) {
            return;
        }
        if (previous != null) {
            add(previous.host(), previous.resources(), -1);
        }
        if (next != null) {
            add(next.host(), next.resources(), 1);
        }
    }

    /** The VM is gone. */
    public void remove(K vm) {
        put(vm, null, null);
    }

    /** What the VMs on {@code host} reserve, not counting {@code self} (the VM being scheduled; may be null). */
    public synchronized VmResources usedOn(String host, K self) {
        VmResources sum = byHost.getOrDefault(host, VmResources.ZERO);
        Entry mine = self == null ? null : byVm.get(self);
        if (mine != null && mine.host().equals(host)) {
            sum = new VmResources(sum.cpus() - mine.resources().cpus(),
                    sum.memoryBytes() - mine.resources().memoryBytes());
        }
        return sum;
    }

    /** The host the tally has for {@code vm}, or null. */
    public synchronized String hostOf(K vm) {
        Entry e = byVm.get(vm);
        return e == null ? null : e.host();
    }

    public synchronized int size() {
        return byVm.size();
    }

    private void add(String host, VmResources r, int sign) {
        VmResources sum = byHost.getOrDefault(host, VmResources.ZERO);
        VmResources next = new VmResources(sum.cpus() + sign * r.cpus(), sum.memoryBytes() + sign * r.memoryBytes());
        if (next.cpus() == 0 && next.memoryBytes() == 0) {
            byHost.remove(host);
        } else {
            byHost.put(host, next);
        }
    }
}
