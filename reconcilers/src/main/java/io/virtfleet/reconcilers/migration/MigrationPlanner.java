package io.virtfleet.reconcilers.migration;

import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.DomainSpec;
import io.virtfleet.api.v1alpha1.HostSpec;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.reconcilers.lifecycle.Decision;
import io.virtfleet.reconcilers.lifecycle.DomainStates;
import io.virtfleet.reconcilers.lifecycle.HostView;
import io.virtfleet.reconcilers.lifecycle.Scheduler;
import io.virtfleet.reconcilers.validation.DiskPaths;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Whether a VirtualMachineMigration may live-migrate its VM, and where to. Pure.
 *
 * <p>Refused, with the field and the check that failed, unless: the VM exists in the migration's namespace and is not
 * being deleted; it has a Domain on a host whose agent is alive (the source agent drives libvirt's migration — a VM
 * on a lost host is a case for VirtualMachineFailover); libvirt reports it Running and it is meant to run; no other
 * migration of it is in flight; a target fits — the {@link Scheduler} (heartbeat, schedulable, driver, allowed roots,
 * hostSelector, capacity) over every host but the source, {@code spec.targetHost} standing in for
 * {@code spec.nodeName}; the target publishes a migration URI; and every host path of the VM (disks, kernel, initrd)
 * is under a root that source and target both declare shared ({@code Host.spec.sharedDiskRoots}) — libvirt copies
 * memory, not disks, and QEMU on the target opens the same files.
 */
public final class MigrationPlanner {
    /** @param error {@code field: message}, null when the migration goes ahead */
    public record Plan(String error, String sourceHost, String targetHost, String message) {
        public boolean refused() {
            return error != null;
        }

        static Plan refuse(String source, String error) {
            return new Plan(error, source, null, null);
        }
    }

    /**
     * @param hostSpecs the Host objects' specs by name (shared roots, migration URI)
     * @param inFlight  the name of another unfinished migration of this VM, or null
     */
    public record Input(String vmRef, VirtualMachine vm, Domain domain, String targetHost, List<HostView> hosts,
                        Map<String, HostSpec> hostSpecs, Map<String, ? extends Collection<VirtualMachine>> placed,
                        String inFlight, Instant now) {
    }

    private MigrationPlanner() {
    }

    public static Plan plan(Input in) {
        String ref = in.vmRef();
        VirtualMachine vm = in.vm();
        if (vm == null) {
            return Plan.refuse(null, "spec.vmName: VirtualMachine " + ref + " not found (a migration moves a VM of "
                    + "its own namespace)");
        }
        if (vm.getMetadata() != null && vm.getMetadata().getDeletionTimestamp() != null) {
            return Plan.refuse(null, "spec.vmName: VirtualMachine " + ref + " is being deleted");
        }
        Domain domain = in.domain();
        String source = domain != null && domain.getSpec() != null ? domain.getSpec().host : null;
        if (source == null) {
            return Plan.refuse(null, "spec.vmName: VirtualMachine " + ref + " is not running (it has no Domain on a "
                    + "host); only a running VM can be live-migrated");
        }
        String state = domain.getStatus() != null ? domain.getStatus().state : null;
        if (!DomainStates.RUNNING.equals(state)
                || DomainSpec.POWER_STOPPED.equals(DomainStates.powerState(domain.getSpec()))) {
            return Plan.refuse(source, "spec.vmName: VirtualMachine " + ref + " is not running (domain state "
                    + (state == null ? "not reported yet" : state) + " on host " + source + "); only a running VM "
                    + "can be live-migrated");
        }
        if (in.inFlight() != null) {
            return Plan.refuse(source, "spec.vmName: VirtualMachine " + ref + " is already being migrated by "
                    + "VirtualMachineMigration " + in.inFlight() + "; one migration at a time");
        }
        HostView src = in.hosts().stream().filter(h -> source.equals(h.name())).findFirst().orElse(null);
        if (src == null || !src.isReady(in.now())) {
            return Plan.refuse(source, "spec.vmName: host " + source + " of VirtualMachine " + ref + " is not ready "
                    + "(no valid heartbeat); its agent drives a live migration (a VM on a lost host is moved by a "
                    + "VirtualMachineFailover)");
        }
        String target = in.targetHost() == null || in.targetHost().isBlank() ? null : in.targetHost();
        if (source.equals(target)) {
            return Plan.refuse(source, "spec.targetHost: " + target + " is the host the VM runs on");
        }
        List<HostView> others = new ArrayList<>();
        for (HostView h : in.hosts()) {
            if (h != null && !source.equals(h.name())) {
                others.add(h);
            }
        }
        String field = target != null ? "spec.targetHost" : "spec.vmName";
        Decision d = Scheduler.choose(Scheduler.pinnedTo(vm, target), others, in.placed(), in.now());
        if (!d.isScheduled()) {
            return Plan.refuse(source, target != null
                    ? "spec.targetHost: host " + target + " cannot take the VM: " + d.message()
                    : "spec.vmName: no other host can take the VM: " + d.message());
        }
        String to = d.host();
        HostSpec toSpec = in.hostSpecs().get(to);
        if (toSpec == null || toSpec.migrationUri == null || toSpec.migrationUri.isBlank()) {
            return Plan.refuse(source, field + ": host " + to + " accepts no live migrations (Host.spec.migrationUri "
                    + "is not set: its agent runs without --migration-uri)");
        }
        HostSpec fromSpec = in.hostSpecs().get(source);
        List<String> fromShared = fromSpec != null ? fromSpec.sharedDiskRoots : List.of();
        List<String> toShared = toSpec.sharedDiskRoots;
        for (String path : Scheduler.hostPaths(vm.getSpec())) {
            if (!under(path, fromShared) || !under(path, toShared)) {
                return Plan.refuse(source, "spec.vmName: " + path + " is not on storage hosts " + source + " and "
                        + to + " share (Host.spec.sharedDiskRoots: " + source + " " + fromShared + ", " + to + " "
                        + toShared + "); a live migration copies memory, not disks");
            }
        }
        return new Plan(null, source, to, "live migration of " + ref + " from host " + source + " to host " + to);
    }

    private static boolean under(String path, List<String> roots) {
        if (roots == null) {
            return false;
        }
        for (String r : roots) {
            if (DiskPaths.isUnder(path, r)) {
                return true;
            }
        }
        return false;
    }
}
