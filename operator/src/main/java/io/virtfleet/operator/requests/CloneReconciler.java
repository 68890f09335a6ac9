package io.virtfleet.operator.requests;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.virtfleet.operator.OperatorConfig;
import io.virtfleet.operator.OperatorEventRecorder;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.api.v1alpha1.VirtualMachineClone;
import io.virtfleet.api.v1alpha1.VirtualMachineCloneStatus;
import io.virtfleet.reconcilers.copy.ClonePlans;
import io.virtfleet.reconcilers.copy.PlanChecks;
import io.virtfleet.reconcilers.genid.GenidPolicy;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The operator's side of a VirtualMachineClone: validates it ({@link ClonePlans#validate}: source exists, target name
 * valid and free, disks copyable), writes the disk plan to status.disks with phase Pending and labels it with the
 * source's host, whose agent copies the disks (CopyingDisks → DisksReady). Then creates the target VirtualMachine
 * ({@link ClonePlans#targetSpec}, annotated {@value GenidPolicy#CLONED_FROM_ANNOTATION}) and reports Succeeded once it
 * exists (and runs, when its runStrategy says so). The target is not owned by the clone: deleting the clone keeps it.
 */
@ControllerConfiguration(name = "virtualmachineclone", generationAwareEventProcessing = false)
public class CloneReconciler extends TimedRequestReconciler<VirtualMachineClone> {
    CloneReconciler(OperatorEventRecorder events, OperatorConfig config) {
        super(events, config);
    }

    @Override
    String phase(VirtualMachineClone c) {
        return c.getStatus() != null ? c.getStatus().phase : null;
    }

    @Override
    String leftover(VirtualMachineClone c, String phase) {
        return VirtualMachineCloneStatus.PHASE_COPYING_DISKS.equals(phase) ? "the copies made so far (status.disks)"
                : VirtualMachineCloneStatus.PHASE_DISKS_READY.equals(phase)
                ? "the copies (status.disks; no VM was created)" : "the source VM";
    }

    @Override
    UpdateControl<VirtualMachineClone> handle(KubernetesClient client, VirtualMachineClone c) {
        VirtualMachineCloneStatus st = c.getStatus();
        if (c.getMetadata().getDeletionTimestamp() != null || st != null
                && (VirtualMachineCloneStatus.PHASE_SUCCEEDED.equals(st.phase)
                || VirtualMachineCloneStatus.PHASE_FAILED.equals(st.phase))) {
            return UpdateControl.noUpdate();
        }
        String ns = c.getMetadata().getNamespace();
        String sourceName = c.getSpec() != null ? c.getSpec().source : null;
        String targetName = c.getSpec() != null ? c.getSpec().target : null;
        VirtualMachine source = get(client, ns, sourceName);
        if (st == null || st.phase == null) {
            return validateAndHandOver(client, c, source, get(client, ns, targetName));
        }
        if (VirtualMachineCloneStatus.PHASE_DISKS_READY.equals(st.phase)) {
            return createTarget(client, c, source);
        }
        return UpdateControl.noUpdate(); // Pending / CopyingDisks: the agent's turn
    }

    private UpdateControl<VirtualMachineClone> validateAndHandOver(KubernetesClient client, VirtualMachineClone c,
                                                                   VirtualMachine source, VirtualMachine target) {
        String ns = c.getMetadata().getNamespace();
        List<String> errors = ClonePlans.validate(c.getSpec() != null ? c.getSpec().source : null,
                source != null ? source.getSpec() : null, c.getSpec() != null ? c.getSpec().target : null,
                target != null);
        if (!errors.isEmpty()) {
            if (source != null) {
                events.record(source, "Warning", "CloneFailed", "clone " + c.getMetadata().getName() + ": "
                        + String.join("; ", errors));
            }
            return fail(c, String.join("; ", errors));
        }
        String host = RequestReconcilers.host(RequestReconcilers.domain(client, ns, source.getMetadata().getName()));
        if (host == null) {
            return UpdateControl.<VirtualMachineClone>noUpdate().rescheduleAfter(Duration.ofSeconds(2));
        }
        Map<String, String> disks = ClonePlans.diskMap(ClonePlans.copies(source.getSpec(), ns, c.getSpec().target));
        client.resources(VirtualMachineClone.class).inNamespace(ns).withName(c.getMetadata().getName())
                .editStatus(x -> {
                    VirtualMachineCloneStatus s = new VirtualMachineCloneStatus();
                    s.phase = VirtualMachineCloneStatus.PHASE_PENDING;
                    s.disks = disks;
                    s.host = host;
                    x.setStatus(s);
                    return x;
                });
        RequestReconcilers.label(client, VirtualMachineClone.class, c, host);
        events.record(source, "Normal", "CloneRequested", "clone " + c.getMetadata().getName() + " to "
                + c.getSpec().target + ": " + disks.size() + " disk(s) handed to the agent of host " + host);
        return UpdateControl.noUpdate();
    }

    private UpdateControl<VirtualMachineClone> createTarget(KubernetesClient client, VirtualMachineClone c,
                                                            VirtualMachine source) {
        String ns = c.getMetadata().getNamespace();
        VirtualMachineCloneStatus st = c.getStatus();
        String targetName = c.getSpec().target;
        VirtualMachine target = get(client, ns, targetName);
        if (target == null) {
            if (source == null) {
                return fail(c, "spec.source: VirtualMachine " + c.getSpec().source + " was deleted while its disks "
                        + "were copied; the copies are left at " + st.disks.values());
            }
            List<String> uncopied = ClonePlans.uncopiedWritableDisks(source.getSpec(), st.disks);
            if (!uncopied.isEmpty()) {
                events.record(source, "Warning", "CloneFailed", "clone " + c.getMetadata().getName()
                        + ": writable disks changed during the copy: " + uncopied);
                return fail(c, "spec.source: writable disk(s) " + String.join(", ", uncopied) + " of VirtualMachine "
                        + c.getSpec().source + " were added or changed while its disks were copied and have no "
                        + "copy (the clone would share them with the source): create the clone again; the copies "
                        + "are left at " + st.disks.values());
            }
            // status.host and status.disks are agent-writable: act only on the operator's own plan.
            List<String> untrusted = PlanChecks.problems(st.host, RequestReconcilers.hostLabel(c),
                    RequestReconcilers.host(RequestReconcilers.domain(client, ns, c.getSpec().source)), st.disks,
                    ClonePlans.diskMap(ClonePlans.copies(source.getSpec(), ns, targetName)));
            if (!untrusted.isEmpty()) {
                events.record(source, "Warning", "CloneFailed", "clone " + c.getMetadata().getName()
                        + ": the plan in its status is not the operator's: " + String.join("; ", untrusted));
                return fail(c, "the plan in the status is not the operator's (no VM was created): "
                        + String.join("; ", untrusted));
            }
            target = RequestReconcilers.createOrGet(client, ns, targetName, GenidPolicy.CLONED_FROM_ANNOTATION,
                    source.getMetadata().getName(), ClonePlans.targetSpec(source.getSpec(), st.host, st.disks));
            if (target != null && ours(target, c)) {
                events.record(target, "Normal", "Cloned", "created as a clone of " + source.getMetadata().getName()
                        + " (clone " + c.getMetadata().getName() + ", disks copied with " + st.copyMethod + ")");
                RequestReconcilers.warnIfNoGenid(events, target, source.getSpec().genid, GenidPolicy.Transition.CLONE);
            }
        }
        if (target == null || !ours(target, c)) {
            return fail(c, "spec.target: a VirtualMachine named " + targetName + " was created by someone else "
                    + "while the disks were copied; the copies are left at " + st.disks.values());
        }
        if (RequestReconcilers.notUpYet(target)) {
            return UpdateControl.<VirtualMachineClone>noUpdate().rescheduleAfter(Duration.ofSeconds(2));
        }
        VirtualMachineCloneStatus out = st;
        out.phase = VirtualMachineCloneStatus.PHASE_SUCCEEDED;
        out.genid = target.getStatus() != null ? target.getStatus().genid : null;
        out.completionTime = RequestReconcilers.now();
        out.error = null;
        c.setStatus(out);
        return UpdateControl.patchStatus(c);
    }

    /** The target is this clone's when it says it was cloned from the source and uses the copied disks. */
    private static boolean ours(VirtualMachine target, VirtualMachineClone c) {
        return RequestReconcilers.madeFrom(target, GenidPolicy.CLONED_FROM_ANNOTATION, c.getSpec().source,
                c.getStatus().disks.values());
    }

    private static VirtualMachine get(KubernetesClient client, String ns, String name) {
        return name == null || name.isEmpty() ? null
                : client.resources(VirtualMachine.class).inNamespace(ns).withName(name).get();
    }

    @Override
    UpdateControl<VirtualMachineClone> fail(VirtualMachineClone c, String error) {
        VirtualMachineCloneStatus st = c.getStatus() != null ? c.getStatus() : new VirtualMachineCloneStatus();
        st.phase = VirtualMachineCloneStatus.PHASE_FAILED;
        st.error = error;
        c.setStatus(st);
        return UpdateControl.patchStatus(c);
    }
}
