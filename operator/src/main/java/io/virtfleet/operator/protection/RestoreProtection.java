package io.virtfleet.operator.protection;

import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.api.v1alpha1.VirtualMachineRestore;
import io.virtfleet.api.v1alpha1.VirtualMachineRestoreStatus;
import io.virtfleet.api.v1alpha1.VirtualMachineSnapshot;
import io.virtfleet.reconcilers.genid.GenidPolicy;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * Validates a VirtualMachineRestore, marks the VM's Domain with the reason of the coming genid change
 * ({@link GenidPolicy#CHANGE_REASON_ANNOTATION}: SnapshotRestored, so genidHistory says why), and hands it to the
 * agent of the VM's host (label). Once the agent reports it done, records an Event on the VM.
 */
@ControllerConfiguration(name = "virtualmachinerestore", generationAwareEventProcessing = false)
public class RestoreProtection implements Reconciler<VirtualMachineRestore> {
    private final io.virtfleet.operator.EventRecorder events;
    private final BackupRestore fromBackup;

    RestoreProtection(io.virtfleet.operator.EventRecorder events) {
        this.events = events;
        this.fromBackup = new BackupRestore(events);
    }

    @Override
    public UpdateControl<VirtualMachineRestore> reconcile(VirtualMachineRestore r,
                                                          Context<VirtualMachineRestore> context) {
        var client = context.getClient();
        if (r.getSpec() != null && r.getSpec().backupName != null) {
            return fromBackup.reconcile(r, client);
        }
        VirtualMachineRestoreStatus st = r.getStatus();
        String ns = r.getMetadata().getNamespace();
        String vmName = r.getSpec() != null ? r.getSpec().vmName : null;
        if (st != null && Protection.PHASE_SUCCEEDED.equals(st.phase)
                && !"true".equals(annotation(r, "virtfleet.io/event-recorded"))) {
            VirtualMachine vm = client.resources(VirtualMachine.class).inNamespace(ns).withName(vmName).get();
            if (vm != null) {
                events.record(vm, "Normal", "GenidChanged", st.genid == null
                        ? GenidPolicy.decide("none", null, GenidPolicy.Transition.SNAPSHOT_REVERT).message()
                        : "restored from snapshot " + r.getSpec().snapshotName + ": generation ID " + st.previousGenid
                        + " -> " + st.genid + " (" + GenidPolicy.REASON_SNAPSHOT_RESTORED + ")");
            }
            client.resources(VirtualMachineRestore.class).inNamespace(ns).withName(r.getMetadata().getName())
                    .edit(x -> {
                        Map<String, String> a = x.getMetadata().getAnnotations() == null ? new HashMap<>()
                                : new HashMap<>(x.getMetadata().getAnnotations());
                        a.put("virtfleet.io/event-recorded", "true");
                        x.getMetadata().setAnnotations(a);
                        return x;
                    });
            return UpdateControl.noUpdate();
        }
        if (r.getMetadata().getDeletionTimestamp() != null || Protection.labelled(r) || st != null) {
            return UpdateControl.noUpdate();
        }
        VirtualMachine vm = vmName == null ? null
                : client.resources(VirtualMachine.class).inNamespace(ns).withName(vmName).get();
        if (vm == null) {
            return fail(r, "VirtualMachine " + ns + "/" + vmName + " not found");
        }
        String snapName = r.getSpec().snapshotName;
        VirtualMachineSnapshot snap = snapName == null ? null
                : client.resources(VirtualMachineSnapshot.class).inNamespace(ns).withName(snapName).get();
        if (snap == null) {
            return fail(r, "VirtualMachineSnapshot " + ns + "/" + snapName + " not found");
        }
        if (snap.getSpec() == null || !vmName.equals(snap.getSpec().vmName)) {
            return fail(r, "VirtualMachineSnapshot " + snapName + " is a snapshot of "
                    + (snap.getSpec() != null ? snap.getSpec().vmName : null) + ", not of " + vmName);
        }
        if (snap.getStatus() == null || !Boolean.TRUE.equals(snap.getStatus().readyToUse)) {
            if (snap.getStatus() != null && Protection.PHASE_FAILED.equals(snap.getStatus().phase)) {
                return fail(r, "VirtualMachineSnapshot " + snapName + " failed: " + snap.getStatus().error);
            }
            return UpdateControl.<VirtualMachineRestore>noUpdate().rescheduleAfter(Duration.ofSeconds(2));
        }
        Domain d = Protection.domain(client, ns, vmName);
        String host = Protection.host(d);
        if (host == null) {
            return UpdateControl.<VirtualMachineRestore>noUpdate().rescheduleAfter(Duration.ofSeconds(2));
        }
        if (GenidPolicy.mode(vm.getSpec() != null ? vm.getSpec().genid : null) == GenidPolicy.Mode.NONE) {
            events.record(vm, "Warning", "NoGenid", GenidPolicy.decide("none", null,
                    GenidPolicy.Transition.SNAPSHOT_REVERT).message());
        }
        client.resources(Domain.class).inNamespace(ns).withName(vmName).edit(x -> {
            Map<String, String> a = x.getMetadata().getAnnotations() == null ? new HashMap<>()
                    : new HashMap<>(x.getMetadata().getAnnotations());
            a.put(GenidPolicy.CHANGE_REASON_ANNOTATION, GenidPolicy.REASON_SNAPSHOT_RESTORED);
            x.getMetadata().setAnnotations(a);
            return x;
        });
        Protection.label(client, VirtualMachineRestore.class, r, host);
        events.record(vm, "Normal", "RestoreRequested", "restore of snapshot " + snapName
                + " handed to the agent of host " + host);
        return UpdateControl.noUpdate();
    }

    private static String annotation(VirtualMachineRestore r, String key) {
        return r.getMetadata().getAnnotations() == null ? null : r.getMetadata().getAnnotations().get(key);
    }

    private static UpdateControl<VirtualMachineRestore> fail(VirtualMachineRestore r, String error) {
        VirtualMachineRestoreStatus st = new VirtualMachineRestoreStatus();
        st.phase = Protection.PHASE_FAILED;
        st.complete = false;
        st.error = error;
        r.setStatus(st);
        return UpdateControl.patchStatus(r);
    }
}
