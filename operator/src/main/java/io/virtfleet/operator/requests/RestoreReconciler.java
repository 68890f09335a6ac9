package io.virtfleet.operator.requests;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.virtfleet.operator.OperatorConfig;
import io.virtfleet.operator.OperatorEventRecorder;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.api.v1alpha1.VirtualMachineRestore;
import io.virtfleet.api.v1alpha1.VirtualMachineRestoreStatus;
import io.virtfleet.api.v1alpha1.VirtualMachineSnapshot;
import io.virtfleet.reconcilers.genid.GenidPolicy;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Validates a VirtualMachineRestore of a snapshot, chooses its new generation ID once and records it on the restore
 * ({@link #chooseGenid}), waits until the VirtualMachine reconciler has pinned that genid in the VM's Domain, marks
 * the Domain with the reason of the change ({@link GenidPolicy#CHANGE_REASON_ANNOTATION}: SnapshotRestored, so
 * genidHistory says why), and hands the restore to the agent of the VM's host (label), which reverts with exactly that
 * genid. Once the agent reports it done, records an Event on the VM.
 */
@ControllerConfiguration(name = "virtualmachinerestore", generationAwareEventProcessing = false)
public class RestoreReconciler extends TimedRequestReconciler<VirtualMachineRestore> {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(RestoreReconciler.class);
    /** One lock per VM while a restore's genid is chosen (JOSDK reconciles different restores concurrently). */
    private static final Map<String, Object> CHOOSING = new ConcurrentHashMap<>();
    private final RestoreFromBackup fromBackup;

    RestoreReconciler(OperatorEventRecorder events, OperatorConfig config) {
        super(events, config);
        this.fromBackup = new RestoreFromBackup(events);
    }

    private static boolean fromABackup(VirtualMachineRestore r) {
        return r.getSpec() != null && r.getSpec().backupName != null;
    }

    @Override
    String phase(VirtualMachineRestore r) {
        return r.getStatus() != null ? r.getStatus().phase : null;
    }

    @Override
    String leftover(VirtualMachineRestore r, String phase) {
        if (!fromABackup(r)) {
            return "the VM (not reverted)";
        }
        return VirtualMachineRestoreStatus.PHASE_COPYING_DISKS.equals(phase) ? "the disks copied so far (status.disks)"
                : VirtualMachineRestoreStatus.PHASE_DISKS_READY.equals(phase)
                ? "the copied disks (status.disks; no VM was created)" : "the backup";
    }

    @Override
    UpdateControl<VirtualMachineRestore> handle(KubernetesClient client, VirtualMachineRestore r) {
        return fromABackup(r) ? fromBackup.reconcile(r, client) : fromSnapshot(r, client);
    }

    private UpdateControl<VirtualMachineRestore> fromSnapshot(VirtualMachineRestore r,
                                                              KubernetesClient client) {
        VirtualMachineRestoreStatus st = r.getStatus();
        String ns = r.getMetadata().getNamespace();
        String vmName = r.getSpec() != null ? r.getSpec().vmName : null;
        if (st != null && RequestReconcilers.PHASE_SUCCEEDED.equals(st.phase)
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
        if (r.getMetadata().getDeletionTimestamp() != null || RequestReconcilers.labelled(r) || st != null
                && !RequestReconcilers.PHASE_PENDING.equals(st.phase)) {
            return UpdateControl.noUpdate();
        }
        VirtualMachine vm = vmName == null ? null
                : client.resources(VirtualMachine.class).inNamespace(ns).withName(vmName).get();
        if (vm == null) {
            return fail(r, "spec.vmName: VirtualMachine " + ns + "/" + vmName + " not found");
        }
        String snapName = r.getSpec().snapshotName;
        VirtualMachineSnapshot snap = snapName == null ? null
                : client.resources(VirtualMachineSnapshot.class).inNamespace(ns).withName(snapName).get();
        if (snap == null) {
            return fail(r, "spec.snapshotName: VirtualMachineSnapshot " + ns + "/" + snapName + " not found");
        }
        if (snap.getSpec() == null || !vmName.equals(snap.getSpec().vmName)) {
            return fail(r, "spec.snapshotName: VirtualMachineSnapshot " + snapName + " is a snapshot of "
                    + (snap.getSpec() != null ? snap.getSpec().vmName : null) + ", not of " + vmName);
        }
        if (snap.getStatus() == null || !Boolean.TRUE.equals(snap.getStatus().readyToUse)) {
            if (snap.getStatus() != null && RequestReconcilers.PHASE_FAILED.equals(snap.getStatus().phase)) {
                return fail(r, "spec.snapshotName: VirtualMachineSnapshot " + snapName + " failed: "
                        + snap.getStatus().error);
            }
            return UpdateControl.<VirtualMachineRestore>noUpdate().rescheduleAfter(Duration.ofSeconds(2));
        }
        Domain d = RequestReconcilers.domain(client, ns, vmName);
        String host = RequestReconcilers.host(d);
        if (host == null) {
            return UpdateControl.<VirtualMachineRestore>noUpdate().rescheduleAfter(Duration.ofSeconds(2));
        }
        if (st == null) {
            return chooseGenid(r, vm, d, client);
        }
        // Hand over only once the VirtualMachine reconciler (the one writer of Domain.spec.genid) has pinned the
        // recorded genid: every definition the agent makes from the Domain after the revert then carries it.
        long pinned = d.getSpec().genidGeneration == null ? 0L : d.getSpec().genidGeneration;
        if (st.genidGeneration != null && pinned < st.genidGeneration) {
            return UpdateControl.<VirtualMachineRestore>noUpdate().rescheduleAfter(Duration.ofSeconds(1));
        }
        RequestReconcilers.label(client, VirtualMachineRestore.class, r, host);
        events.record(vm, "Normal", "RestoreRequested", "restore of snapshot " + snapName
                + " handed to the agent of host " + host + (st.genid != null ? " (new generation ID " + st.genid
                + ")" : ""));
        return UpdateControl.noUpdate();
    }

    /**
     * Marks the VM's Domain with the reason of the coming change, then chooses the restore's generation ID once and
     * records it on the restore (status Pending: genid, previousGenid, genidGeneration one above the VM's newest), so a retry or a restarted operator reuses it. Restores of one VM
     * are serialized: a restore waits while another of the same VM has a recorded genid and is not finished, so no two
     * get the same generation.
     */
    private UpdateControl<VirtualMachineRestore> chooseGenid(VirtualMachineRestore r, VirtualMachine vm, Domain d,
                                                             KubernetesClient client) {
        String ns = r.getMetadata().getNamespace();
        String vmName = r.getSpec().vmName;
        synchronized (CHOOSING.computeIfAbsent(ns + "/" + vmName, k -> new Object())) {
            List<VirtualMachineRestore> all = client.resources(VirtualMachineRestore.class).inNamespace(ns).list()
                    .getItems().stream().filter(x -> RequestReconcilers.ofThisVm(x, vm)
                            && x.getSpec().backupName == null && !x.getMetadata().getUid().equals(
                                    r.getMetadata().getUid())).toList();
            for (VirtualMachineRestore other : all) {
                if (other.getStatus() != null && RequestReconcilers.PHASE_PENDING.equals(other.getStatus().phase)
                        && other.getMetadata().getDeletionTimestamp() == null) {
                    LOG.info("restore {}/{} waits for restore {} of the same VM to finish", ns,
                            r.getMetadata().getName(), other.getMetadata().getName());
                    return UpdateControl.<VirtualMachineRestore>noUpdate().rescheduleAfter(Duration.ofSeconds(2));
                }
            }
            GenidPolicy.Stamp current = io.virtfleet.operator.VirtualMachineReconciler.renderGenid(vm, d, List.of());
            for (VirtualMachineRestore other : all) {
                if (other.getStatus() != null && !RequestReconcilers.PHASE_FAILED.equals(other.getStatus().phase)) {
                    current = GenidPolicy.newest(current, GenidPolicy.Stamp.of(other.getStatus().genid,
                            other.getStatus().genidGeneration), false);
                }
            }
            GenidPolicy.Decision decision = GenidPolicy.decide(vm.getSpec() != null ? vm.getSpec().genid : null,
                    current != null ? current.genid() : null, GenidPolicy.Transition.SNAPSHOT_REVERT);
            VirtualMachineRestoreStatus planned = new VirtualMachineRestoreStatus();
            planned.phase = RequestReconcilers.PHASE_PENDING;
            planned.complete = false;
            planned.previousGenid = current != null ? current.genid() : null;
            planned.vmUid = vm.getMetadata().getUid();
            if (decision.changes()) {
                planned.genid = decision.genid();
                planned.genidGeneration = (current != null ? current.generation() : 0L) + 1;
            } else {
                events.record(vm, "Warning", "NoGenid", decision.message());
            }
            // The reason first: the agent may report the pinned genid before it reverts, and genidHistory takes
            // the reason from the Domain when it sees the new genid.
            client.resources(Domain.class).inNamespace(ns).withName(vmName).edit(x -> {
                Map<String, String> a = x.getMetadata().getAnnotations() == null ? new HashMap<>()
                        : new HashMap<>(x.getMetadata().getAnnotations());
                a.put(GenidPolicy.CHANGE_REASON_ANNOTATION, GenidPolicy.REASON_SNAPSHOT_RESTORED);
                x.getMetadata().setAnnotations(a);
                return x;
            });
            client.resources(VirtualMachineRestore.class).inNamespace(ns).withName(r.getMetadata().getName())
                    .editStatus(x -> {
                        x.setStatus(planned);
                        return x;
                    });
            LOG.info("restore {}/{} of {}: generation ID {} -> {} (genidGeneration {})", ns,
                    r.getMetadata().getName(), vmName, planned.previousGenid, planned.genid, planned.genidGeneration);
        }
        return UpdateControl.noUpdate();
    }

    private static String annotation(VirtualMachineRestore r, String key) {
        return r.getMetadata().getAnnotations() == null ? null : r.getMetadata().getAnnotations().get(key);
    }

    /** A fresh status: a refused revert of a snapshot leaves nothing to keep. */
    @Override
    UpdateControl<VirtualMachineRestore> fail(VirtualMachineRestore r, String error) {
        return RestoreFromBackup.failed(r, new VirtualMachineRestoreStatus(), error);
    }
}
