package io.virtfleet.reconcilers.failover;

import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.reconcilers.genid.GenidPolicy;
import io.virtfleet.reconcilers.lifecycle.Decision;
import io.virtfleet.reconcilers.lifecycle.HostView;
import io.virtfleet.reconcilers.lifecycle.Scheduler;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Whether a VirtualMachineFailover may move its VM, and where to. Pure.
 *
 * <p>Refused (nothing changes) unless the VM exists, has a Domain on a host, and that host's heartbeat Lease has
 * expired: a ready host still runs the VM, and moving it would run two copies. The target is chosen by the
 * {@link Scheduler} among the other hosts (spec.targetHost, if given, stands in for spec.nodeName: the pinned host is
 * the lost one); every disk must be under the target's allowed roots — the disks are assumed to be on storage shared
 * by the hosts and mounted at the same path. The VM gets a new generation ID ({@link GenidPolicy.Transition#FAILOVER}):
 * the guest on the new host re-executes from a state the lost host's copy already ran past.
 */
public final class FailoverPlanner {
    /**
     * @param error    the refusal, {@code field: message}; null when the failover goes ahead
     * @param fromHost the VM's current (lost) host, when known
     * @param toHost   where it goes
     * @param genid    the genid decision for the new host (NEW with the value, or NO_DEVICE for spec.genid none)
     */
    public record Plan(String error, String fromHost, String toHost, GenidPolicy.Decision genid, String message) {
        public boolean refused() {
            return error != null;
        }

        static Plan refuse(String fromHost, String error) {
            return new Plan(error, fromHost, null, null, null);
        }
    }

    private FailoverPlanner() {
    }

    public static Plan plan(String vmRef, VirtualMachine vm, Domain domain, String targetHost, List<HostView> hosts,
                            Map<String, ? extends Collection<VirtualMachine>> placed, Instant now) {
        return plan(vmRef, vm, domain, targetHost, hosts, placed, now, null);
    }

    /** @param fresh makes the new genid (tests pass a fixed one); null: random */
    public static Plan plan(String vmRef, VirtualMachine vm, Domain domain, String targetHost, List<HostView> hosts,
                            Map<String, ? extends Collection<VirtualMachine>> placed, Instant now,
                            Supplier<String> fresh) {
        if (vm == null) {
            return Plan.refuse(null, "spec.vmName: VirtualMachine " + vmRef + " not found");
        }
        if (vm.getMetadata() != null && vm.getMetadata().getDeletionTimestamp() != null) {
            return Plan.refuse(null, "spec.vmName: VirtualMachine " + vmRef + " is being deleted");
        }
        String from = domain != null && domain.getSpec() != null ? domain.getSpec().host : null;
        if (from == null) {
            return Plan.refuse(null, "spec.vmName: VirtualMachine " + vmRef + " has no Domain on a host yet; "
                    + "there is nothing to fail over (it is scheduled as usual)");
        }
        HostView lost = hosts.stream().filter(h -> from.equals(h.name())).findFirst().orElse(null);
        if (lost != null && lost.isReady(now)) {
            return Plan.refuse(from, "spec.vmName: host " + from + " of VirtualMachine " + vmRef + " is ready "
                    + "(heartbeat Lease valid until " + lost.leaseExpiry() + "); failover refused: only a VM whose "
                    + "host lost its heartbeat can be failed over");
        }
        if (from.equals(targetHost)) {
            return Plan.refuse(from, "spec.targetHost: " + targetHost + " is the host the VM is on");
        }
        List<HostView> others = new ArrayList<>();
        for (HostView h : hosts) {
            if (h != null && !from.equals(h.name())) {
                others.add(h);
            }
        }
        Decision d = Scheduler.choose(Scheduler.pinnedTo(vm, targetHost), others, placed, now);
        if (!d.isScheduled()) {
            return Plan.refuse(from, (targetHost != null ? "spec.targetHost: host " + targetHost + " cannot take "
                    + "the VM: " : "spec.vmName: no other host can take the VM: ") + d.message());
        }
        String specGenid = vm.getSpec() != null ? vm.getSpec().genid : null;
        String current = domain.getSpec().genid != null ? domain.getSpec().genid
                : vm.getStatus() != null ? vm.getStatus().genid : null;
        GenidPolicy.Decision g = fresh == null
                ? GenidPolicy.decide(specGenid, current, GenidPolicy.Transition.FAILOVER)
                : GenidPolicy.decide(specGenid, current, GenidPolicy.Transition.FAILOVER, fresh);
        return new Plan(null, from, d.host(), g, "failed over from host " + from + " (heartbeat lost) to host "
                + d.host() + ": " + (g.changes() ? "generation ID " + current + " -> " + g.genid() : g.message()));
    }
}
