package io.virtfleet.operator.migration;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.virtfleet.api.v1alpha1.ApiGroup;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.DomainMigration;
import io.virtfleet.api.v1alpha1.Host;
import io.virtfleet.api.v1alpha1.HostCpu;
import io.virtfleet.api.v1alpha1.HostSpec;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.api.v1alpha1.VirtualMachineMigration;
import io.virtfleet.api.v1alpha1.VirtualMachineMigrationStatus;
import io.virtfleet.api.v1alpha1.VirtualMachineMigrationStatus.Transfer;
import io.virtfleet.operator.ClusterReads;
import io.virtfleet.operator.OperatorEventRecorder;
import io.virtfleet.operator.OperatorConfig;
import io.virtfleet.reconcilers.genid.GenidPolicy;
import io.virtfleet.reconcilers.lifecycle.HostView;
import io.virtfleet.reconcilers.lifecycle.LifecycleAnnotations;
import io.virtfleet.reconcilers.lifecycle.XmlFingerprint;
import io.virtfleet.reconcilers.migration.MigrationPlanner;
import io.virtfleet.reconcilers.render.DomainRenderer;
import io.virtfleet.reconcilers.render.HostInfo;
import io.virtfleet.reconcilers.render.RenderOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Live migration, the operator's side: validate and choose the target ({@link MigrationPlanner}), hand the migration
 * to the source host's agent by marking the Domain ({@code spec.migration}), and re-point the Domain to the target
 * once the agent reports that libvirt finished. The hand-over is a small state machine whose every step is recorded
 * before the next one acts, so a restart of the operator or of either agent at any point resumes it:
 *
 * <ol>
 *   <li>Planning (no phase yet, or {@code Scheduling} while a conflicting write makes it retry): nothing changed
 *       yet; a refusal ends in {@code Failed} and nothing changes.</li>
 *   <li>{@code Migrating}: {@code Domain.spec.migration = {id: <uid>, targetHost, targetUri, targetDomainXml}}
 *       (an optimistic update: a second migration of the same VM loses and is refused). The source agent records
 *       {@code status.transfer.state} Starting before it asks libvirt, then Running, then Completed (libvirt says
 *       the domain runs on the target and is undefined on the source) or Failed/Aborted (it still runs on the
 *       source).</li>
 *   <li>Completed: one update of the Domain — {@code spec.host} and the host label name the target, its XML is the
 *       target's, {@code spec.migration} is removed, annotated {@value #MIGRATED_BY} (a retried pass completes
 *       instead of starting over) — then {@code Succeeded}. Failed/Aborted: {@code spec.migration} is removed, then
 *       {@code Failed}.</li>
 * </ol>
 *
 * <p>The generation ID is left alone ({@code Domain.spec.genid} stays pinned): libvirt's ABI stability check requires
 * the same genid on both sides, and the guest is not copied — it keeps running. Deleting an unfinished migration sets
 * {@code spec.migration.cancel}; the agent aborts the libvirt job and the finalizer goes once it reported the outcome
 * (if libvirt had already finished, the VM is re-pointed: it runs on the target).
 *
 * <p>Status is written with JSON merge patches of the operator's fields only, so the agent's {@code transfer} and
 * {@code progress} (written the same way) are never overwritten by a stale copy.
 */
@ControllerConfiguration(name = "virtualmachinemigration", generationAwareEventProcessing = false)
public class MigrationController implements Reconciler<VirtualMachineMigration>, Cleaner<VirtualMachineMigration> {
    /** Domain annotation: the migration (uid) that re-pointed it. */
    public static final String MIGRATED_BY = "virtfleet.io/migrated-by";
    /** Field manager of the Domain writes (spec.migration), apart from the VM controller's server-side apply. */
    public static final String FIELD_MANAGER = "virtfleet-migration";
    private static final Logger LOG = LoggerFactory.getLogger(MigrationController.class);
    private static final Duration POLL = Duration.ofSeconds(5);

    private final OperatorEventRecorder events;
    private final Clock clock;

    MigrationController(OperatorEventRecorder events, Clock clock) {
        this.events = events;
        this.clock = clock;
    }

    /** Registers the controller (leader-elected with the rest). */
    public static void register(Operator op, OperatorConfig config, OperatorEventRecorder events) {
        op.register(new MigrationController(events, config.clock()), o -> {
            if (!config.namespaces().isEmpty()) {
                o.settingNamespaces(config.namespaces());
            }
        });
    }

    @Override
    public UpdateControl<VirtualMachineMigration> reconcile(VirtualMachineMigration m,
                                                            Context<VirtualMachineMigration> context) {
        VirtualMachineMigrationStatus st = m.getStatus();
        String phase = st != null ? st.phase : null;
        if (VirtualMachineMigrationStatus.SUCCEEDED.equals(phase) || VirtualMachineMigrationStatus.FAILED.equals(phase)) {
            return UpdateControl.noUpdate();
        }
        KubernetesClient client = context.getClient();
        String ns = m.getMetadata().getNamespace();
        String uid = m.getMetadata().getUid();
        String vmName = m.getSpec() != null ? m.getSpec().vmName : null;
        Domain domain = vmName == null ? null
                : client.resources(Domain.class).inNamespace(ns).withName(vmName).get();
        // Following a migration needs the VM only for its Events, read after the status is written (one round trip
        // fewer before Succeeded).
        java.util.function.Supplier<VirtualMachine> vmLater = () -> vmName == null ? null
                : client.resources(VirtualMachine.class).inNamespace(ns).withName(vmName).get();

        // Already handed over (or finished) by this migration: follow the agent.
        if (domain != null && uid.equals(ClusterReads.annotations(domain).get(MIGRATED_BY))) {
            return succeeded(client, m, vmLater, ClusterReads.annotations(domain).get("virtfleet.io/migrated-from"),
                    domain.getSpec().host, st);
        }
        if (domain != null && domain.getSpec() != null && domain.getSpec().migration != null
                && uid.equals(domain.getSpec().migration.id)) {
            return follow(client, m, vmLater, domain, st);
        }
        VirtualMachine vm = vmLater.get();
        // No separate Scheduling write before planning: this pass ends in Migrating or Failed, and a write of its own
        // would cost a round trip to the apiserver (and another reconciliation) on every migration's critical path.
        // Scheduling is recorded only when a pass ends without a decision (a conflicting write: retried).

        List<HostView> views = new ArrayList<>();
        Map<String, HostSpec> specs = new HashMap<>();
        Map<String, HostCpu> cpus = new HashMap<>();
        Map<String, Lease> leases = new HashMap<>();
        for (Lease l : client.leases().inNamespace(ApiGroup.SYSTEM_NAMESPACE).list().getItems()) {
            leases.put(l.getMetadata().getName(), l);
        }
        for (Host h : client.resources(Host.class).list().getItems()) {
            views.add(HostView.of(h, leases.get(ApiGroup.leaseName(h.getMetadata().getName()))));
            if (h.getSpec() != null) {
                specs.put(h.getMetadata().getName(), h.getSpec());
            }
            if (h.getStatus() != null && h.getStatus().cpu != null) {
                cpus.put(h.getMetadata().getName(), h.getStatus().cpu);
            }
        }
        String inFlight = inFlight(client, m, domain);
        MigrationPlanner.Plan plan = MigrationPlanner.plan(new MigrationPlanner.Input(ns + "/" + vmName, vm, domain,
                m.getSpec() != null ? m.getSpec().targetHost : null, views, specs, ClusterReads.vmsByHost(client), inFlight,
                clock.instant(), cpus));
        if (plan.refused()) {
            return fail(client, m, vm, plan.sourceHost(), null, plan.error(), "MigrationRefused");
        }
        String to = plan.targetHost();
        HostView toView = views.stream().filter(h -> to.equals(h.name())).findFirst().orElseThrow();
        HostSpec hs = specs.get(to);
        String xml;
        // A live migration keeps the generation ID (GenidPolicy: the guest is not copied, and libvirt's ABI check
        // requires the same genid on both sides).
        String current = domain.getSpec().genid != null ? domain.getSpec().genid
                : vm.getStatus() != null ? vm.getStatus().genid : null;
        GenidPolicy.Decision genid = GenidPolicy.decide(vm.getSpec().genid, current,
                GenidPolicy.Transition.LIVE_MIGRATION);
        try {
            // Same uuid, same genid: only what is per host (name prefix, ownership mark, console and channel paths)
            // differs from what runs now.
            xml = DomainRenderer.render(vm, new HostInfo(to, toView.allowedDiskRoots().isEmpty()
                            ? List.of(HostSpec.DEFAULT_ALLOWED_ROOT) : toView.allowedDiskRoots(), toView.domainPrefix(),
                            hs.consoleLogDir, null, hs.guestChannelDir),
                    new RenderOptions(domain.getSpec().uuid, genid.genid())).xml();
        } catch (IllegalArgumentException e) {
            return fail(client, m, vm, plan.sourceHost(), to, "spec.vmName: the VM cannot be rendered for host " + to
                    + ": " + e.getMessage(), "MigrationRefused");
        }
        String from = plan.sourceHost();
        try {
            client.resources(Domain.class).inNamespace(ns).withName(vmName).edit(d -> {
                if (d.getSpec() == null || !from.equals(d.getSpec().host)) {
                    throw new IllegalStateException("the Domain moved to host "
                            + (d.getSpec() != null ? d.getSpec().host : null) + " meanwhile");
                }
                if (d.getSpec().migration != null && !uid.equals(d.getSpec().migration.id)) {
                    throw new IllegalStateException("VirtualMachineMigration " + d.getSpec().migration.name
                            + " started meanwhile");
                }
                DomainMigration dm = new DomainMigration();
                dm.id = uid;
                dm.name = m.getMetadata().getName();
                dm.targetHost = to;
                dm.targetUri = hs.migrationUri;
                dm.targetDomainXml = xml;
                d.getSpec().migration = dm;
                return d;
            });
        } catch (KubernetesClientException e) {
            if (e.getCode() == 409) {
                // Optimistic: someone wrote the Domain between read and write; the next pass decides again.
                if (phase == null) {
                    patchStatus(client, m, Map.of("phase", VirtualMachineMigrationStatus.SCHEDULING));
                }
                return UpdateControl.<VirtualMachineMigration>noUpdate().rescheduleAfter(Duration.ofMillis(200));
            }
            return fail(client, m, vm, from, to, "spec.vmName: the Domain of " + vmName + " could not be marked for "
                    + "migration: " + e.getMessage(), "MigrationFailed");
        } catch (IllegalStateException e) {
            return fail(client, m, vm, from, to, "spec.vmName: " + e.getMessage(), "MigrationRefused");
        }
        patchMigrating(client, m, from, to);
        LOG.info("migration {}/{}: {}", ns, m.getMetadata().getName(), plan.message());
        events.record(m, "Normal", "Migrating", plan.message());
        if (vm != null) {
            events.record(vm, "Normal", "Migrating", plan.message() + " (VirtualMachineMigration "
                    + m.getMetadata().getName() + ")");
        }
        return UpdateControl.<VirtualMachineMigration>noUpdate().rescheduleAfter(POLL);
    }

    /** Status phase Migrating, with both hosts and the start time (now). */
    private void patchMigrating(KubernetesClient client, VirtualMachineMigration m, String from, String to) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("phase", VirtualMachineMigrationStatus.MIGRATING);
        s.put("sourceHost", from);
        s.put("targetHost", to);
        s.put("startTime", clock.instant().toString());
        patchStatus(client, m, s);
    }

    /** The Domain carries this migration: act on what the source agent reported. */
    private UpdateControl<VirtualMachineMigration> follow(KubernetesClient client, VirtualMachineMigration m,
                                                          java.util.function.Supplier<VirtualMachine> vm,
                                                          Domain domain, VirtualMachineMigrationStatus st) {
        String uid = m.getMetadata().getUid();
        Transfer t = st != null && st.transfer != null && uid.equals(st.transfer.id) ? st.transfer : null;
        String from = domain.getSpec().host;
        String to = domain.getSpec().migration.targetHost;
        if (st == null || !VirtualMachineMigrationStatus.MIGRATING.equals(st.phase)) {
            // Marked in a pass that did not get to write the status.
            patchMigrating(client, m, from, to);
        }
        if (t != null && Transfer.COMPLETED.equals(t.state)) {
            try {
                repoint(client, domain, uid);
            } catch (KubernetesClientException | IllegalStateException e) {
                LOG.warn("migration {}/{}: cannot re-point Domain to host {} yet: {}", m.getMetadata().getNamespace(),
                        m.getMetadata().getName(), to, e.getMessage());
                return UpdateControl.<VirtualMachineMigration>noUpdate().rescheduleAfter(Duration.ofSeconds(1));
            }
            return succeeded(client, m, vm, from, to, st);
        }
        if (t != null && (Transfer.FAILED.equals(t.state) || Transfer.ABORTED.equals(t.state))) {
            try {
                clearMigration(client, domain, uid);
            } catch (KubernetesClientException e) {
                return UpdateControl.<VirtualMachineMigration>noUpdate().rescheduleAfter(Duration.ofSeconds(1));
            }
            String why = Transfer.ABORTED.equals(t.state)
                    ? "cancelled: the libvirt migration job was aborted; the VM keeps running on host " + from
                    : "libvirt could not migrate the VM to host " + to + ": " + t.message + "; the VM keeps running "
                    + "on host " + from;
            return fail(client, m, vm.get(), from, to, why, "MigrationFailed");
        }
        return UpdateControl.<VirtualMachineMigration>noUpdate().rescheduleAfter(POLL);
    }

    /** The one update that moves the VM: only after libvirt said it runs on the target. */
    static void repoint(KubernetesClient client, Domain domain, String uid) {
        // The Domain this pass just read, written back with its resourceVersion (one round trip); only if it changed
        // meanwhile (409) read again and retry.
        Domain copy = client.getKubernetesSerialization().clone(domain);
        try {
            client.resource(repointed(copy, uid)).update();
            return;
        } catch (KubernetesClientException e) {
            if (e.getCode() != 409) {
                throw e;
            }
        }
        client.resources(Domain.class).inNamespace(domain.getMetadata().getNamespace())
                .withName(domain.getMetadata().getName()).edit(d -> repointed(d, uid));
    }

    /** {@code d} re-pointed to the target of migration {@code uid} (unchanged if it already was). */
    private static Domain repointed(Domain d, String uid) {
        if (uid.equals(ClusterReads.annotations(d).get(MIGRATED_BY))) {
            return d;
        }
        if (d.getSpec() == null || d.getSpec().migration == null || !uid.equals(d.getSpec().migration.id)) {
            throw new IllegalStateException("the Domain no longer carries this migration");
        }
        DomainMigration dm = d.getSpec().migration;
        String from = d.getSpec().host;
        String oldXml = d.getSpec().domainXml;
        d.getSpec().host = dm.targetHost;
        d.getSpec().domainXml = dm.targetDomainXml;
        d.getSpec().migration = null;
        Map<String, String> labels = d.getMetadata().getLabels() == null ? new HashMap<>()
                : new HashMap<>(d.getMetadata().getLabels());
        labels.put(ApiGroup.HOST_LABEL, dm.targetHost);
        d.getMetadata().setLabels(labels);
        Map<String, String> a = new HashMap<>(ClusterReads.annotations(d));
        a.put(MIGRATED_BY, uid);
        a.put("virtfleet.io/migrated-from", from);
        // The domain did not restart: what it booted with moved along, rewritten for the target (its name
        // and per-host paths). A change that was already waiting for a restart keeps being reported.
        String boot = a.get(LifecycleAnnotations.BOOT_FINGERPRINT);
        try {
            if (boot != null && oldXml != null && dm.targetDomainXml != null
                    && XmlFingerprint.changed(boot, XmlFingerprint.of(oldXml)).isEmpty()) {
                a.put(LifecycleAnnotations.BOOT_FINGERPRINT, XmlFingerprint.of(dm.targetDomainXml));
            }
        } catch (IllegalArgumentException e) {
            LOG.warn("Domain {}: cannot fingerprint the XML: {}", d.getMetadata().getName(), e.getMessage());
        }
        d.getMetadata().setAnnotations(a);
        return d;
    }

    private static void clearMigration(KubernetesClient client, Domain domain, String uid) {
        client.resources(Domain.class).inNamespace(domain.getMetadata().getNamespace())
                .withName(domain.getMetadata().getName()).edit(d -> {
                    if (d.getSpec() != null && d.getSpec().migration != null && uid.equals(d.getSpec().migration.id)) {
                        d.getSpec().migration = null;
                    }
                    return d;
                });
    }

    @Override
    public DeleteControl cleanup(VirtualMachineMigration m, Context<VirtualMachineMigration> context) {
        KubernetesClient client = context.getClient();
        String uid = m.getMetadata().getUid();
        String vmName = m.getSpec() != null ? m.getSpec().vmName : null;
        Domain domain = vmName == null ? null : client.resources(Domain.class)
                .inNamespace(m.getMetadata().getNamespace()).withName(vmName).get();
        if (domain == null || domain.getSpec() == null || domain.getSpec().migration == null
                || !uid.equals(domain.getSpec().migration.id)) {
            return DeleteControl.defaultDelete();
        }
        VirtualMachineMigrationStatus st = m.getStatus();
        Transfer t = st != null && st.transfer != null && uid.equals(st.transfer.id) ? st.transfer : null;
        try {
            if (t != null && Transfer.COMPLETED.equals(t.state)) {
                // Too late to cancel: libvirt finished, the VM runs on the target.
                repoint(client, domain, uid);
                events.record(m, "Normal", "Migrated", "deleted after libvirt finished: the VM runs on host "
                        + domain.getSpec().migration.targetHost);
                return DeleteControl.defaultDelete();
            }
            if (t == null || Transfer.FAILED.equals(t.state) || Transfer.ABORTED.equals(t.state)) {
                if (t == null && VirtualMachineMigrationStatus.MIGRATING.equals(st != null ? st.phase : null)
                        && !Boolean.TRUE.equals(domain.getSpec().migration.cancel)) {
                    // Handed over, the agent has not reported yet: it may be asking libvirt right now.
                    markCancel(client, domain, uid);
                    return DeleteControl.noFinalizerRemoval().rescheduleAfter(Duration.ofMillis(500));
                }
                if (t == null && Boolean.TRUE.equals(domain.getSpec().migration.cancel)) {
                    return DeleteControl.noFinalizerRemoval().rescheduleAfter(Duration.ofMillis(500));
                }
                clearMigration(client, domain, uid);
                String msg = "VirtualMachineMigration " + m.getMetadata().getName() + " cancelled: "
                        + (t == null ? "libvirt was not asked" : t.state + ": " + t.message)
                        + "; the VM keeps running on host " + domain.getSpec().host;
                LOG.info("migration {}/{}: {}", m.getMetadata().getNamespace(), m.getMetadata().getName(), msg);
                events.record(m, "Normal", "MigrationCancelled", msg);
                VirtualMachine vm = client.resources(VirtualMachine.class).inNamespace(m.getMetadata().getNamespace())
                        .withName(vmName).get();
                if (vm != null) {
                    events.record(vm, "Normal", "MigrationCancelled", msg);
                }
                return DeleteControl.defaultDelete();
            }
            if (!Boolean.TRUE.equals(domain.getSpec().migration.cancel)) {
                markCancel(client, domain, uid);
                events.record(m, "Normal", "MigrationCancelling", "deleted while migrating: aborting the libvirt job "
                        + "on host " + domain.getSpec().host);
            }
        } catch (KubernetesClientException | IllegalStateException e) {
            LOG.warn("migration {}/{}: cancel: {}", m.getMetadata().getNamespace(), m.getMetadata().getName(),
                    e.getMessage());
        }
        return DeleteControl.noFinalizerRemoval().rescheduleAfter(Duration.ofMillis(500));
    }

    private static void markCancel(KubernetesClient client, Domain domain, String uid) {
        client.resources(Domain.class).inNamespace(domain.getMetadata().getNamespace())
                .withName(domain.getMetadata().getName()).edit(d -> {
                    if (d.getSpec() != null && d.getSpec().migration != null && uid.equals(d.getSpec().migration.id)) {
                        d.getSpec().migration.cancel = true;
                    }
                    return d;
                });
    }

    private UpdateControl<VirtualMachineMigration> succeeded(KubernetesClient client, VirtualMachineMigration m,
                                                             java.util.function.Supplier<VirtualMachine> vmLater,
                                                             String from, String to,
                                                             VirtualMachineMigrationStatus st) {
        Long downtime = st != null && st.transfer != null ? st.transfer.downtimeMs : null;
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("phase", VirtualMachineMigrationStatus.SUCCEEDED);
        s.put("sourceHost", from);
        s.put("targetHost", to);
        s.put("endTime", clock.instant().toString());
        if (downtime != null) {
            s.put("downtimeMs", downtime);
        }
        patchStatus(client, m, s);
        String msg = "live-migrated from host " + from + " to host " + to
                + (downtime != null ? " (downtime " + downtime + " ms)" : "") + "; same boot, same generation ID";
        LOG.info("migration {}/{}: {}", m.getMetadata().getNamespace(), m.getMetadata().getName(), msg);
        events.record(m, "Normal", "Migrated", msg);
        VirtualMachine vm = vmLater.get();
        if (vm != null) {
            events.record(vm, "Normal", "Migrated", msg + " (VirtualMachineMigration " + m.getMetadata().getName()
                    + ")");
        }
        return UpdateControl.noUpdate();
    }

    private UpdateControl<VirtualMachineMigration> fail(KubernetesClient client, VirtualMachineMigration m,
                                                        VirtualMachine vm, String from, String to, String error,
                                                        String reason) {
        LOG.warn("migration {}/{} failed: {}", m.getMetadata().getNamespace(), m.getMetadata().getName(), error);
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("phase", VirtualMachineMigrationStatus.FAILED);
        if (from != null) {
            s.put("sourceHost", from);
        }
        if (to != null) {
            s.put("targetHost", to);
        }
        s.put("endTime", clock.instant().toString());
        s.put("error", error);
        patchStatus(client, m, s);
        events.record(m, "Warning", reason, error);
        if (vm != null) {
            events.record(vm, "Warning", reason, "VirtualMachineMigration " + m.getMetadata().getName() + ": "
                    + error);
        }
        return UpdateControl.noUpdate();
    }

    /** A JSON merge patch of the operator's status fields only (the agent owns transfer and progress). */
    private static void patchStatus(KubernetesClient client, VirtualMachineMigration m, Map<String, Object> fields) {
        String json = client.getKubernetesSerialization().asJson(Map.of("status", fields));
        client.resources(VirtualMachineMigration.class).inNamespace(m.getMetadata().getNamespace())
                .withName(m.getMetadata().getName()).subresource("status")
                .patch(PatchContext.of(PatchType.JSON_MERGE), json);
    }

    /** Another unfinished migration of the same VM (the Domain's, else one already Migrating), or null. */
    private static String inFlight(KubernetesClient client, VirtualMachineMigration m, Domain domain) {
        if (domain != null && domain.getSpec() != null && domain.getSpec().migration != null
                && !m.getMetadata().getUid().equals(domain.getSpec().migration.id)) {
            return domain.getSpec().migration.name;
        }
        String vmName = m.getSpec().vmName;
        for (VirtualMachineMigration o : client.resources(VirtualMachineMigration.class)
                .inNamespace(m.getMetadata().getNamespace()).list().getItems()) {
            if (!o.getMetadata().getUid().equals(m.getMetadata().getUid()) && o.getSpec() != null
                    && vmName.equals(o.getSpec().vmName) && o.getStatus() != null
                    && VirtualMachineMigrationStatus.MIGRATING.equals(o.getStatus().phase)) {
                return o.getMetadata().getName();
            }
        }
        return null;
    }
}
