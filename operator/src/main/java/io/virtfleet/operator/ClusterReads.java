package io.virtfleet.operator;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.virtfleet.api.v1alpha1.ApiGroup;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.Host;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.reconcilers.lifecycle.HostView;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Fresh reads from the apiserver (not the informer caches) for the controllers that move a VM between hosts
 * (failover, migration): they decide once per request, so they read what is there now.
 */
public final class ClusterReads {
    private ClusterReads() {
    }

    /** Every Host with its heartbeat Lease (in {@value ApiGroup#SYSTEM_NAMESPACE}), as the scheduler sees them. */
    public static List<HostView> hostViews(KubernetesClient client) {
        Map<String, Lease> leases = new HashMap<>();
        for (Lease l : client.leases().inNamespace(ApiGroup.SYSTEM_NAMESPACE).list().getItems()) {
            leases.put(l.getMetadata().getName(), l);
        }
        List<HostView> out = new ArrayList<>();
        for (Host h : client.resources(Host.class).list().getItems()) {
            out.add(HostView.of(h, leases.get(ApiGroup.leaseName(h.getMetadata().getName()))));
        }
        return out;
    }

    /** VMs by the host their Domain is on (capacity accounting, as the scheduler sees it). */
    public static Map<String, List<VirtualMachine>> vmsByHost(KubernetesClient client) {
        Map<String, String> hostOf = new HashMap<>();
        for (Domain d : client.resources(Domain.class).inAnyNamespace().list().getItems()) {
            if (d.getSpec() != null && d.getSpec().host != null) {
                hostOf.put(d.getMetadata().getNamespace() + "/" + d.getMetadata().getName(), d.getSpec().host);
            }
        }
        Map<String, List<VirtualMachine>> out = new HashMap<>();
        for (VirtualMachine vm : client.resources(VirtualMachine.class).inAnyNamespace().list().getItems()) {
            String h = hostOf.get(vm.getMetadata().getNamespace() + "/" + vm.getMetadata().getName());
            if (h != null) {
                out.computeIfAbsent(h, k -> new ArrayList<>()).add(vm);
            }
        }
        return out;
    }

    /** A Domain's annotations, never null. */
    public static Map<String, String> annotations(Domain d) {
        return DomainObjects.annotations(d);
    }
}
