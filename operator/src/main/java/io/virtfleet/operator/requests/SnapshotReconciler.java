package io.virtfleet.operator.requests;

import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.virtfleet.operator.OperatorConfig;
import io.virtfleet.operator.OperatorEventRecorder;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.api.v1alpha1.VirtualMachineSnapshot;
import io.virtfleet.api.v1alpha1.VirtualMachineSnapshotStatus;
import io.virtfleet.reconcilers.requests.RequestDeadlines;

import java.time.Duration;

/** Validates a VirtualMachineSnapshot and hands it to the agent of its VM's host (label). */
@ControllerConfiguration(name = "virtualmachinesnapshot", generationAwareEventProcessing = false)
public class SnapshotReconciler implements Reconciler<VirtualMachineSnapshot> {
    private final OperatorEventRecorder events;

    private final OperatorConfig config;

    SnapshotReconciler(OperatorEventRecorder events, OperatorConfig config) {
        this.events = events;
        this.config = config;
    }

    @Override
    public UpdateControl<VirtualMachineSnapshot> reconcile(VirtualMachineSnapshot s,
                                                           Context<VirtualMachineSnapshot> context) {
        var client = context.getClient();
        VirtualMachineSnapshotStatus st = s.getStatus();
        RequestDeadlines.Verdict deadline = s.getMetadata().getDeletionTimestamp() != null ? null
                : RequestReconcilers.deadline(s, st != null ? st.phase : null, "the VM", config);
        if (deadline != null && deadline.isExpired()) {
            RequestReconcilers.expired(events, s, deadline);
            return fail(s, deadline.expired());
        }
        if (s.getMetadata().getDeletionTimestamp() != null || RequestReconcilers.labelled(s)
                || st != null && RequestReconcilers.PHASE_FAILED.equals(st.phase)) {
            return RequestReconcilers.untilDeadline(UpdateControl.noUpdate(), deadline);
        }
        String ns = s.getMetadata().getNamespace();
        String vmName = s.getSpec() != null ? s.getSpec().vmName : null;
        VirtualMachine vm = vmName == null ? null
                : client.resources(VirtualMachine.class).inNamespace(ns).withName(vmName).get();
        if (vm == null) {
            return fail(s, "VirtualMachine " + ns + "/" + vmName + " not found (a snapshot's VM must be in its "
                    + "namespace)");
        }
        Domain d = RequestReconcilers.domain(client, ns, vmName);
        String host = RequestReconcilers.host(d);
        if (host == null) {
            return UpdateControl.<VirtualMachineSnapshot>noUpdate().rescheduleAfter(Duration.ofSeconds(2));
        }
        RequestReconcilers.label(client, VirtualMachineSnapshot.class, s, host);
        events.record(vm, "Normal", "SnapshotRequested", "snapshot " + s.getMetadata().getName()
                + " handed to the agent of host " + host);
        return UpdateControl.noUpdate();
    }

    private static UpdateControl<VirtualMachineSnapshot> fail(VirtualMachineSnapshot s, String error) {
        VirtualMachineSnapshotStatus st = new VirtualMachineSnapshotStatus();
        st.phase = RequestReconcilers.PHASE_FAILED;
        st.readyToUse = false;
        st.error = error;
        s.setStatus(st);
        return UpdateControl.patchStatus(s);
    }
}
