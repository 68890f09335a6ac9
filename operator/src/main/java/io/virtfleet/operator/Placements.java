package io.virtfleet.operator;

import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.VirtualMachine;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * Which host each VM is on, as this process knows it. The truth is the Domain's spec.host (and the VM's status.host),
 * but both reach the informer caches a moment after they are written; scheduling decisions are remembered here at
 * once ("assumed", as kube-scheduler calls it) so two VMs scheduled back to back see each other and a VM is never
 * placed twice.
 */
final class Placements {
    private final Map<ResourceID, String> assumed = new ConcurrentHashMap<>();

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

    void assume(VirtualMachine vm, String host) {
        assumed.put(ResourceID.fromResource(vm), host);
    }

    void forget(ResourceID id) {
        assumed.remove(id);
    }

    /** VMs by host, for capacity accounting. */
    Map<String, List<VirtualMachine>> placedByHost(Stream<VirtualMachine> vms,
                                                   Function<ResourceID, Domain> domains) {
        Map<String, List<VirtualMachine>> out = new HashMap<>();
        vms.forEach(vm -> {
            String host = hostOf(vm, domains.apply(ResourceID.fromResource(vm)));
            if (host != null) {
                out.computeIfAbsent(host, h -> new ArrayList<>()).add(vm);
            }
        });
        return out;
    }
}
