package io.virtfleet.operator;

import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.reconcilers.lifecycle.HostUsage;
import io.virtfleet.reconcilers.lifecycle.VmResources;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * Which host each VM is on, as this process knows it. The truth is the Domain's spec.host (and the VM's status.host),
 * but both reach the informer caches a moment after they are written; scheduling decisions are remembered here at
 * once ("assumed", as kube-scheduler calls it) so two VMs scheduled back to back see each other and a VM is never
 * placed twice.
 *
 * <p>It also keeps what each host's VMs reserve ({@link HostUsage}): seeded from the VM cache once, before the first
 * scheduling decision, then updated by every reconcile of a VM ({@link #observe}) and by its deletion, so that a
 * decision no longer walks every VM (which made a burst of N new VMs cost O(N²)). A VM whose spec changed counts with
 * its new size from its own reconcile on, as the informer cache's copy reached the old walk a moment after the write.
 */
final class Placements {
    private final Map<ResourceID, String> assumed = new ConcurrentHashMap<>();
    private final HostUsage<ResourceID> usage = new HostUsage<>();
    private volatile boolean seeded;

    /** The VM's host: its Domain's spec.host, else this process's decision, else status.host; null when none. */
    String hostOf(VirtualMachine vm, Domain domain) {
        if (domain != null && domain.getSpec() != null && domain.getSpec().host != null) {
            return domain.getSpec().host;
        }
        String a = assumed.get(ResourceID.fromResource(vm));
        if (a != null) {
            return a;
        }
        return vm.getStatus() != null ? vm.getStatus().host : null;
    }

    /** The VMs this process placed on {@code host} (its own decisions, whatever the caches show yet). */
    java.util.List<ResourceID> assumedOn(String host) {
        java.util.List<ResourceID> out = new java.util.ArrayList<>();
        assumed.forEach((id, h) -> {
            if (h.equals(host)) {
                out.add(id);
            }
        });
        return out;
    }

    void assume(VirtualMachine vm, String host) {
        ResourceID id = ResourceID.fromResource(vm);
        assumed.put(id, host);
        usage.put(id, host, VmResources.of(vm));
    }

    /** A reconcile saw {@code vm} on {@code host} (null: none yet): its reservation counts there from now on. */
    void observe(VirtualMachine vm, String host) {
        usage.put(ResourceID.fromResource(vm), host, VmResources.of(vm));
    }

    void forget(ResourceID id) {
        assumed.remove(id);
        usage.remove(id);
    }

    /**
     * What each host's VMs reserve, not counting {@code vm}; the first call counts every cached VM once (VMs the
     * operator has not reconciled since it started still hold their hosts).
     */
    Function<String, VmResources> usage(VirtualMachine vm, Stream<VirtualMachine> cached,
                                        Function<ResourceID, Domain> domains) {
        if (!seeded) {
            synchronized (this) {
                if (!seeded) {
                    cached.forEach(v -> {
                        ResourceID id = ResourceID.fromResource(v);
                        if (usage.hostOf(id) == null) {
                            usage.put(id, hostOf(v, domains.apply(id)), VmResources.of(v));
                        }
                    });
                    seeded = true;
                }
            }
        }
        ResourceID self = ResourceID.fromResource(vm);
        return host -> usage.usedOn(host, self);
    }
}
