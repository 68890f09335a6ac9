package io.virtfleet.operator.requests;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.virtfleet.api.v1alpha1.ApiGroup;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.DomainSpec;
import io.virtfleet.api.v1alpha1.Host;
import io.virtfleet.api.v1alpha1.HostSpec;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.api.v1alpha1.VirtualMachineFailover;
import io.virtfleet.api.v1alpha1.VirtualMachineFailoverStatus;
import io.virtfleet.operator.ClusterReads;
import io.virtfleet.operator.OperatorEventRecorder;
import io.virtfleet.reconcilers.failover.FailoverPlanner;
import io.virtfleet.reconcilers.genid.GenidPolicy;
import io.virtfleet.reconcilers.lifecycle.HostView;
import io.virtfleet.reconcilers.render.DomainRenderer;
import io.virtfleet.reconcilers.render.HostInfo;
import io.virtfleet.reconcilers.render.RenderOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * DR failover: moves a VM whose host lost its heartbeat to another host, with a new genid.
 *
 * <p>Validation and the choice of host are {@link FailoverPlanner}'s. Going ahead re-points the VM's Domain in one
 * update: {@code spec.host} and the {@value ApiGroup#HOST_LABEL} label name the new host (so its agent picks it up
 * and the lost host's agent, when it comes back, finds its libvirt domain assigned elsewhere and fences it:
 * destroy + undefine, never start), the XML is rendered for the new host with the new genid pinned in
 * {@code spec.genid}, {@code restartGeneration} is bumped so the new host starts it (the lost host's status says it
 * already ran the old one), and {@link GenidPolicy#CHANGE_REASON_ANNOTATION} says {@code Failover} so genidHistory
 * records why. The VirtualMachine controller then follows the Domain's host as for any VM (a VM never moves
 * otherwise). Acted on once: a request with a phase is done.
 */
@ControllerConfiguration(name = "virtualmachinefailover", generationAwareEventProcessing = false)
public class FailoverReconciler implements Reconciler<VirtualMachineFailover> {
    /** Domain annotation: the failover request (ns/name/uid) that re-pointed it, so a retried pass completes. */
    public static final String FAILED_OVER_BY = "virtfleet.io/failed-over-by";
    private static final Logger LOG = LoggerFactory.getLogger(FailoverReconciler.class);

    private final OperatorEventRecorder events;
    private final Clock clock;

    FailoverReconciler(OperatorEventRecorder events, Clock clock) {
        this.events = events;
        this.clock = clock;
    }

    @Override
    public UpdateControl<VirtualMachineFailover> reconcile(VirtualMachineFailover f,
                                                           Context<VirtualMachineFailover> context) {
        if (f.getMetadata().getDeletionTimestamp() != null
                || f.getStatus() != null && f.getStatus().phase != null) {
            return UpdateControl.noUpdate();
        }
        KubernetesClient client = context.getClient();
        String ns = f.getMetadata().getNamespace();
        String vmName = f.getSpec() != null ? f.getSpec().vmName : null;
        String target = f.getSpec() != null && f.getSpec().targetHost != null && !f.getSpec().targetHost.isBlank()
                ? f.getSpec().targetHost : null;
        String marker = ns + "/" + f.getMetadata().getName() + "/" + f.getMetadata().getUid();
        VirtualMachine vm = vmName == null ? null
                : client.resources(VirtualMachine.class).inNamespace(ns).withName(vmName).get();
        Domain domain = RequestReconcilers.domain(client, ns, vmName);
        if (domain != null && domain.getSpec() != null
                && marker.equals(ClusterReads.annotations(domain).get(FAILED_OVER_BY))) {
            // Re-pointed by this request in a pass that did not get to write the status.
            return succeeded(f, ClusterReads.annotations(domain).get("virtfleet.io/failed-over-from"), domain.getSpec().host,
                    domain.getSpec().genid, null);
        }
        List<HostView> hosts = ClusterReads.hostViews(client);
        FailoverPlanner.Plan plan = FailoverPlanner.plan(ns + "/" + vmName, vm, domain, target, hosts,
                ClusterReads.vmsByHost(client), clock.instant());
        if (plan.refused()) {
            return fail(f, vm, plan.fromHost(), plan.error());
        }
        String to = plan.toHost();
        Host toHost = client.resources(Host.class).withName(to).get();
        HostView toView = hosts.stream().filter(h -> to.equals(h.name())).findFirst().orElseThrow();
        HostSpec hs = toHost != null ? toHost.getSpec() : null;
        String genid = plan.genid().changes() ? plan.genid().genid() : null;
        String xml;
        try {
            xml = DomainRenderer.render(vm, new HostInfo(to, toView.allowedDiskRoots().isEmpty()
                    ? List.of(HostSpec.DEFAULT_ALLOWED_ROOT) : toView.allowedDiskRoots(), toView.domainPrefix(),
                    hs != null ? hs.consoleLogDir : null, null, hs != null ? hs.guestChannelDir : null),
                    new RenderOptions(domain.getSpec().uuid, genid)).xml();
        } catch (IllegalArgumentException e) {
            return fail(f, vm, plan.fromHost(), "spec.vmName: the VM cannot be rendered for host " + to + ": "
                    + e.getMessage());
        }
        String from = plan.fromHost();
        // The failover's genid gets the next genidGeneration, so no report of the lost host can bring the old back.
        io.virtfleet.reconcilers.genid.GenidPolicy.Stamp before =
                io.virtfleet.operator.VirtualMachineReconciler.renderGenid(vm, domain, List.of());
        Long nextGeneration = genid == null ? null : (before != null ? before.generation() : 0L) + 1;
        String previousGenid = domain.getSpec().genid != null ? domain.getSpec().genid
                : vm.getStatus() != null ? vm.getStatus().genid : null;
        try {
            client.resources(Domain.class).inNamespace(ns).withName(vmName).edit(d -> {
                if (d.getSpec() == null || !from.equals(d.getSpec().host)) {
                    throw new IllegalStateException("the Domain moved to host "
                            + (d.getSpec() != null ? d.getSpec().host : null) + " meanwhile");
                }
                DomainSpec s = d.getSpec();
                s.host = to;
                s.domainXml = xml;
                s.genid = genid;
                if (nextGeneration != null) {
                    s.genidGeneration = nextGeneration;
                }
                if (!DomainSpec.POWER_STOPPED.equals(s.powerState)) {
                    s.restartGeneration = (s.restartGeneration == null ? 0 : s.restartGeneration) + 1;
                }
                Map<String, String> labels = d.getMetadata().getLabels() == null ? new HashMap<>()
                        : new HashMap<>(d.getMetadata().getLabels());
                labels.put(ApiGroup.HOST_LABEL, to);
                d.getMetadata().setLabels(labels);
                Map<String, String> a = new HashMap<>(ClusterReads.annotations(d));
                a.put(GenidPolicy.CHANGE_REASON_ANNOTATION, GenidPolicy.REASON_FAILOVER);
                a.put(FAILED_OVER_BY, marker);
                a.put("virtfleet.io/failed-over-from", from);
                d.getMetadata().setAnnotations(a);
                return d;
            });
        } catch (KubernetesClientException | IllegalStateException e) {
            return fail(f, vm, from, "spec.vmName: the Domain of " + vmName + " could not be re-pointed to host "
                    + to + ": " + e.getMessage());
        }
        LOG.warn("failover {}/{}: VM {} moved from lost host {} to host {} (genid {} -> {})", ns,
                f.getMetadata().getName(), vmName, from, to, previousGenid, genid);
        events.record(vm, "Normal", "FailedOver", plan.message());
        events.record(f, "Normal", "FailedOver", plan.message());
        if (!plan.genid().changes()) {
            events.record(vm, "Warning", "NoGenid", plan.genid().message());
        }
        return succeeded(f, from, to, genid, previousGenid);
    }

    private UpdateControl<VirtualMachineFailover> succeeded(VirtualMachineFailover f, String from, String to,
                                                            String genid, String previousGenid) {
        VirtualMachineFailoverStatus st = new VirtualMachineFailoverStatus();
        st.phase = RequestReconcilers.PHASE_SUCCEEDED;
        st.fromHost = from;
        st.toHost = to;
        st.genid = genid;
        st.previousGenid = previousGenid;
        st.failoverTime = clock.instant().toString();
        f.setStatus(st);
        return UpdateControl.patchStatus(f);
    }

    private UpdateControl<VirtualMachineFailover> fail(VirtualMachineFailover f, VirtualMachine vm, String from,
                                                       String error) {
        LOG.warn("failover {}/{} refused: {}", f.getMetadata().getNamespace(), f.getMetadata().getName(), error);
        events.record(f, "Warning", "FailoverRefused", error);
        if (vm != null) {
            events.record(vm, "Warning", "FailoverRefused", "failover " + f.getMetadata().getName() + ": " + error);
        }
        VirtualMachineFailoverStatus st = new VirtualMachineFailoverStatus();
        st.phase = RequestReconcilers.PHASE_FAILED;
        st.fromHost = from;
        st.error = error;
        f.setStatus(st);
        return UpdateControl.patchStatus(f);
    }
}
