package io.virtfleet.operator.requests;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.virtfleet.operator.OperatorConfig;
import io.virtfleet.operator.OperatorEventRecorder;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.api.v1alpha1.VirtualMachineSnapshot;
import io.virtfleet.api.v1alpha1.VirtualMachineSnapshotStatus;

import java.time.Duration;

/** Validates a VirtualMachineSnapshot and hands it to the agent of its VM's host (label). */
@ControllerConfiguration(name = "virtualmachinesnapshot", generationAwareEventProcessing = false)
public class SnapshotReconciler extends TimedRequestReconciler<VirtualMachineSnapshot> {
    SnapshotReconciler(OperatorEventRecorder events, OperatorConfig config) {
        super(events, config);
    }

    @Override
    String phase(VirtualMachineSnapshot s) {
        return s.getStatus() != null ? s.getStatus().phase : null;
    }

    @Override
    String leftover(VirtualMachineSnapshot s, String phase) {
        return "the VM";
    }

    @Override
    UpdateControl<VirtualMachineSnapshot> handle(KubernetesClient client, VirtualMachineSnapshot s) {
        VirtualMachineSnapshotStatus st = s.getStatus();
        if (s.getMetadata().getDeletionTimestamp() != null || RequestReconcilers.labelled(s)
                || st != null && RequestReconcilers.PHASE_FAILED.equals(st.phase)) {
            return UpdateControl.noUpdate();
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

    @Override
    UpdateControl<VirtualMachineSnapshot> fail(VirtualMachineSnapshot s, String error) {
        VirtualMachineSnapshotStatus st = new VirtualMachineSnapshotStatus();
        st.readyToUse = false;
        return RequestReconcilers.failed(s, st, error);
    }
}
