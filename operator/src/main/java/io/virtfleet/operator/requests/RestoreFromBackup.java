package io.virtfleet.operator.requests;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.virtfleet.operator.OperatorEventRecorder;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.api.v1alpha1.VirtualMachineBackup;
import io.virtfleet.api.v1alpha1.VirtualMachineBackupStatus;
import io.virtfleet.api.v1alpha1.VirtualMachineRestore;
import io.virtfleet.api.v1alpha1.VirtualMachineRestoreStatus;
import io.virtfleet.api.v1alpha1.VirtualMachineSpec;
import io.virtfleet.reconcilers.copy.BackupPlans;
import io.virtfleet.reconcilers.copy.PlanChecks;
import io.virtfleet.reconcilers.genid.GenidPolicy;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A VirtualMachineRestore with {@code backupName}: recreates a VM from a VirtualMachineBackup. Validates
 * ({@link BackupPlans#validateRestore}: backup ready, no VM of the target name, and under a new name the backed-up
 * VM no longer exists: the restored VM keeps its MACs and UUID), writes the plan (file in the backup
 * → disk path, {@link BackupPlans#restoredDisks}) with phase Pending and labels the restore with the backup's host;
 * that host's agent copies the files back (CopyingDisks → DisksReady; refused if a path is occupied). Then creates
 * the VM from the stored spec ({@link BackupPlans#restoredSpec}: genid auto, so a fresh one), annotated
 * {@value GenidPolicy#RESTORED_FROM_BACKUP_ANNOTATION} (its genidHistory starts with BackupRestored), and reports
 * Succeeded once it runs (when its runStrategy runs it).
 */
final class RestoreFromBackup {
    private final OperatorEventRecorder events;

    RestoreFromBackup(OperatorEventRecorder events) {
        this.events = events;
    }

    UpdateControl<VirtualMachineRestore> reconcile(VirtualMachineRestore r, KubernetesClient client) {
        VirtualMachineRestoreStatus st = r.getStatus();
        if (r.getMetadata().getDeletionTimestamp() != null || st != null
                && (VirtualMachineRestoreStatus.PHASE_SUCCEEDED.equals(st.phase)
                || VirtualMachineRestoreStatus.PHASE_FAILED.equals(st.phase))) {
            return UpdateControl.noUpdate();
        }
        String ns = r.getMetadata().getNamespace();
        String backupName = r.getSpec().backupName;
        VirtualMachineBackup backup = client.resources(VirtualMachineBackup.class).inNamespace(ns)
                .withName(backupName).get();
        VirtualMachineBackupStatus bs = backup != null ? backup.getStatus() : null;
        String original = backup != null && backup.getSpec() != null ? backup.getSpec().vmName : null;
        String target = r.getSpec().vmName != null ? r.getSpec().vmName : original;
        if (st == null || st.phase == null) {
            boolean ready = bs != null && Boolean.TRUE.equals(bs.readyToUse);
            if (backup != null && !ready && (bs == null || !VirtualMachineBackupStatus.PHASE_FAILED.equals(bs.phase))) {
                return UpdateControl.<VirtualMachineRestore>noUpdate().rescheduleAfter(Duration.ofSeconds(2));
            }
            List<String> errors = BackupPlans.validateRestore(backupName, backup != null, ready, target,
                    target != null && get(client, ns, target) != null, original,
                    original != null && !original.equals(target) && get(client, ns, original) != null);
            if (!errors.isEmpty()) {
                return fail(r, String.join("; ", errors));
            }
            if (bs.host == null || !bs.host.equals(RequestReconcilers.hostLabel(backup))) {
                return fail(r, "spec.backupName: the backup's status.host " + bs.host + " is not the host it was "
                        + "handed to (" + RequestReconcilers.hostLabel(backup) + ")");
            }
            VirtualMachineSpec stored = BackupPlans.fromJson(bs.vmSpec);
            Map<String, VirtualMachineSpec> existing = new java.util.LinkedHashMap<>();
            for (VirtualMachine v : client.resources(VirtualMachine.class).inNamespace(ns).list().getItems()) {
                existing.put(v.getMetadata().getName(), v.getSpec());
            }
            List<String> clashes = BackupPlans.identityClashes(stored, existing);
            if (!clashes.isEmpty()) {
                return fail(r, String.join("; ", clashes));
            }
            Map<String, String> disks = BackupPlans.restoredDisks(stored, ns, original, target, bs.disks);
            client.resources(VirtualMachineRestore.class).inNamespace(ns).withName(r.getMetadata().getName())
                    .editStatus(x -> {
                        VirtualMachineRestoreStatus s = new VirtualMachineRestoreStatus();
                        s.phase = VirtualMachineRestoreStatus.PHASE_PENDING;
                        s.complete = false;
                        s.host = bs.host;
                        s.disks = disks;
                        s.previousGenid = bs.genid;
                        x.setStatus(s);
                        return x;
                    });
            RequestReconcilers.label(client, VirtualMachineRestore.class, r, bs.host);
            events.record(r, "Normal", "RestoreRequested", "restore of backup " + backupName + " as VM " + target
                    + " handed to the agent of host " + bs.host);
            return UpdateControl.noUpdate();
        }
        if (!VirtualMachineRestoreStatus.PHASE_DISKS_READY.equals(st.phase)) {
            return UpdateControl.noUpdate(); // the agent's turn
        }
        VirtualMachine vm = get(client, ns, target);
        if (vm == null) {
            if (bs == null || bs.vmSpec == null) {
                return fail(r, "spec.backupName: VirtualMachineBackup " + backupName + " was deleted while its disks "
                        + "were copied back; the disks are at " + st.disks.values());
            }
            // status.host and status.disks are agent-writable: act only on the operator's own plan.
            List<String> untrusted = PlanChecks.problems(st.host, RequestReconcilers.hostLabel(r),
                    Objects.equals(bs.host, RequestReconcilers.hostLabel(backup)) ? bs.host : null, st.disks,
                    BackupPlans.restoredDisks(BackupPlans.fromJson(bs.vmSpec), ns, original, target, bs.disks));
            if (!untrusted.isEmpty()) {
                return fail(r, "the plan in the status is not the operator's (no VM was created): "
                        + String.join("; ", untrusted));
            }
            VirtualMachineSpec stored = BackupPlans.fromJson(bs.vmSpec);
            vm = RequestReconcilers.createOrGet(client, ns, target, GenidPolicy.RESTORED_FROM_BACKUP_ANNOTATION,
                    backupName, BackupPlans.restoredSpec(stored, st.host, ns, original, target));
            if (vm != null && ours(vm, r)) {
                events.record(vm, "Normal", "RestoredFromBackup", "recreated from backup " + backupName
                        + " (taken with generation ID " + bs.genid + "); it gets a new generation ID");
                RequestReconcilers.warnIfNoGenid(events, vm, stored.genid, GenidPolicy.Transition.BACKUP_RESTORE);
            }
        }
        if (vm == null || !ours(vm, r)) {
            return fail(r, "spec.vmName: a VirtualMachine named " + target + " was created by someone else while "
                    + "the disks were copied back; the disks are at " + st.disks.values());
        }
        if (RequestReconcilers.notUpYet(vm)) {
            return UpdateControl.<VirtualMachineRestore>noUpdate().rescheduleAfter(Duration.ofSeconds(2));
        }
        st.phase = VirtualMachineRestoreStatus.PHASE_SUCCEEDED;
        st.complete = true;
        st.genid = vm.getStatus() != null ? vm.getStatus().genid : null;
        st.restoreTime = RequestReconcilers.now();
        st.error = null;
        r.setStatus(st);
        return UpdateControl.patchStatus(r);
    }

    private static boolean ours(VirtualMachine vm, VirtualMachineRestore r) {
        return RequestReconcilers.madeFrom(vm, GenidPolicy.RESTORED_FROM_BACKUP_ANNOTATION, r.getSpec().backupName,
                r.getStatus().disks.values());
    }

    private static VirtualMachine get(KubernetesClient client, String ns, String name) {
        return client.resources(VirtualMachine.class).inNamespace(ns).withName(name).get();
    }

    /** Keeps what the status already says (the plan, so the disks copied back can be found). */
    private static UpdateControl<VirtualMachineRestore> fail(VirtualMachineRestore r, String error) {
        return failed(r, r.getStatus() != null ? r.getStatus() : new VirtualMachineRestoreStatus(), error);
    }

    /** {@code st} marked Failed with {@code error}, as {@code r}'s status patch. */
    static UpdateControl<VirtualMachineRestore> failed(VirtualMachineRestore r, VirtualMachineRestoreStatus st,
                                                       String error) {
        st.phase = VirtualMachineRestoreStatus.PHASE_FAILED;
        st.complete = false;
        st.error = error;
        r.setStatus(st);
        return UpdateControl.patchStatus(r);
    }
}
