package io.virtfleet.bench;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.reconcilers.lifecycle.DomainStates;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * When things happened to the VMs of one namespace, as a watching client sees them (System.nanoTime() at the
 * informer event): each Domain's first appearance (the operator scheduled and rendered it), its first
 * {@code status.state=Running} (the agent started it), and each VM's first {@code Ready=True} condition (the operator
 * folded the agent's report into the VM's status: what a user sees).
 */
public final class Timeline implements AutoCloseable {
    public final Map<String, Long> applied = new ConcurrentHashMap<>();
    public final Map<String, Long> domainSeen = new ConcurrentHashMap<>();
    public final Map<String, Long> domainRunning = new ConcurrentHashMap<>();
    public final Map<String, Long> ready = new ConcurrentHashMap<>();
    private final SharedIndexInformer<VirtualMachine> vms;
    private final SharedIndexInformer<Domain> domains;
    private volatile Consumer<Domain> domainListener = d -> { };

    public Timeline(KubernetesClient client, String namespace) {
        vms = inform(client, VirtualMachine.class, namespace, this::seen);
        domains = inform(client, Domain.class, namespace, this::seen);
    }

    /** Informs on one kind in the namespace; adds and updates go to {@code seen}, deletes are of no interest. */
    private static <T extends HasMetadata> SharedIndexInformer<T> inform(KubernetesClient client, Class<T> kind,
                                                                       String namespace, Consumer<T> seen) {
        return client.resources(kind).inNamespace(namespace).inform(new ResourceEventHandler<>() {
            @Override
            public void onAdd(T obj) {
                seen.accept(obj);
            }

            @Override
            public void onUpdate(T old, T obj) {
                seen.accept(obj);
            }

            @Override
            public void onDelete(T obj, boolean unknown) {
            }
        }, 0);
    }

    /** Called with every Domain add/update (the simulated agent acts on these). */
    public void onDomain(Consumer<Domain> listener) {
        domainListener = listener;
    }

    private void seen(VirtualMachine vm) {
        long now = System.nanoTime();
        if (vm.getStatus() != null && isReady(vm)) {
            ready.putIfAbsent(vm.getMetadata().getName(), now);
        }
    }

    public static boolean isReady(VirtualMachine vm) {
        if (vm == null || vm.getStatus() == null || vm.getStatus().conditions == null) {
            return false;
        }
        for (Condition c : vm.getStatus().conditions) {
            if ("Ready".equals(c.getType()) && "True".equals(c.getStatus())) {
                return true;
            }
        }
        return false;
    }

    private void seen(Domain d) {
        long now = System.nanoTime();
        String name = d.getMetadata().getName();
        domainSeen.putIfAbsent(name, now);
        if (d.getStatus() != null && DomainStates.RUNNING.equals(d.getStatus().state)) {
            domainRunning.putIfAbsent(name, now);
        }
        domainListener.accept(d);
    }

    /** Waits until {@code n} VMs are Ready; returns how many are. */
    public int awaitReady(int n, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (ready.size() < n && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        return ready.size();
    }

    public int domainCount() {
        return domains.getStore().list().size();
    }

    public int vmCount() {
        return vms.getStore().list().size();
    }

    /** Milliseconds between two recorded instants of one VM, or NaN. */
    public static double ms(Map<String, Long> from, Map<String, Long> to, String name) {
        Long a = from.get(name);
        Long b = to.get(name);
        return a == null || b == null ? Double.NaN : (b - a) / 1e6;
    }

    @Override
    public void close() {
        vms.stop();
        domains.stop();
    }
}
