package io.virtfleet.operator.requests;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.virtfleet.operator.OperatorConfig;
import io.virtfleet.operator.OperatorEventRecorder;
import io.virtfleet.api.v1alpha1.Host;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.api.v1alpha1.VirtualMachineBackup;
import io.virtfleet.api.v1alpha1.VirtualMachineBackupStatus;
import io.virtfleet.reconcilers.copy.BackupPlans;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Validates a VirtualMachineBackup ({@link BackupPlans#validateBackup}: VM exists, destination under the host's
 * allowed roots, disks copyable), writes the plan (status.location, disks, the VM's spec) with phase Pending and
 * labels it with the VM's host; that host's agent copies the disks and writes the files (InProgress → Succeeded).
 */
@ControllerConfiguration(name = "virtualmachinebackup", generationAwareEventProcessing = false)
public class BackupReconciler extends TimedRequestReconciler<VirtualMachineBackup> {
    BackupReconciler(OperatorEventRecorder events, OperatorConfig config) {
        super(events, config);
    }

    @Override
    String phase(VirtualMachineBackup b) {
        return b.getStatus() != null ? b.getStatus().phase : null;
    }

    @Override
    String leftover(VirtualMachineBackup b, String phase) {
        return VirtualMachineBackupStatus.PHASE_IN_PROGRESS.equals(phase) ? "the partial backup in "
                + b.getStatus().location : "the VM";
    }

    /** Keeps what the status already says (the location of a partial backup). */
    @Override
    UpdateControl<VirtualMachineBackup> fail(VirtualMachineBackup b, String error) {
        VirtualMachineBackupStatus st = b.getStatus() != null ? b.getStatus() : new VirtualMachineBackupStatus();
        st.readyToUse = false;
        return RequestReconcilers.failed(b, st, error);
    }

    @Override
    UpdateControl<VirtualMachineBackup> handle(KubernetesClient client, VirtualMachineBackup b) {
        if (b.getMetadata().getDeletionTimestamp() != null || RequestReconcilers.labelled(b) || b.getStatus() != null) {
            return UpdateControl.noUpdate();
        }
        String ns = b.getMetadata().getNamespace();
        String name = b.getMetadata().getName();
        String vmName = b.getSpec() != null ? b.getSpec().vmName : null;
        String destination = b.getSpec() != null ? b.getSpec().destination : null;
        VirtualMachine vm = vmName == null ? null
                : client.resources(VirtualMachine.class).inNamespace(ns).withName(vmName).get();
        String host = vm == null ? null : RequestReconcilers.host(RequestReconcilers.domain(client, ns, vmName));
        if (vm != null && host == null) {
            return UpdateControl.<VirtualMachineBackup>noUpdate().rescheduleAfter(Duration.ofSeconds(2));
        }
        Host h = host == null ? null : client.resources(Host.class).withName(host).get();
        List<String> roots = h != null && h.getSpec() != null ? h.getSpec().allowedDiskRoots : List.of();
        List<String> errors = BackupPlans.validateBackup(vmName, vm != null ? vm.getSpec() : null, destination, roots,
                name);
        if (!errors.isEmpty()) {
            if (vm != null) {
                events.record(vm, "Warning", "BackupFailed", "backup " + name + ": " + String.join("; ", errors));
            }
            return fail(b, String.join("; ", errors));
        }
        String location = BackupPlans.location(destination, name);
        Map<String, String> disks = BackupPlans.backupFiles(vm.getSpec(), location);
        String spec = BackupPlans.toJson(vm.getSpec());
        client.resources(VirtualMachineBackup.class).inNamespace(ns).withName(name).editStatus(x -> {
            VirtualMachineBackupStatus s = new VirtualMachineBackupStatus();
            s.phase = VirtualMachineBackupStatus.PHASE_PENDING;
            s.readyToUse = false;
            s.location = location;
            s.host = host;
            s.disks = disks;
            s.vmSpec = spec;
            x.setStatus(s);
            return x;
        });
        RequestReconcilers.label(client, VirtualMachineBackup.class, b, host);
        events.record(vm, "Normal", "BackupRequested", "backup " + name + " to " + location
                + " handed to the agent of host " + host);
        return UpdateControl.noUpdate();
    }
}
