package io.virtfleet.operator;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.DeletionPropagation;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.PrimaryUpdateAndCacheUtils;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.IndexerResourceCache;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.Mappers;
import io.virtfleet.api.v1alpha1.ApiGroup;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.DomainSpec;
import io.virtfleet.api.v1alpha1.DomainStatus;
import io.virtfleet.api.v1alpha1.HostSpec;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.api.v1alpha1.VirtualMachineRestore;
import io.virtfleet.api.v1alpha1.VirtualMachineRestoreStatus;
import io.virtfleet.api.v1alpha1.VirtualMachineSpec;
import io.virtfleet.api.v1alpha1.VirtualMachineStatus;
import io.virtfleet.operator.requests.RequestReconcilers;
import io.virtfleet.reconcilers.genid.GenidPolicy;
import io.virtfleet.reconcilers.lifecycle.Decision;
import io.virtfleet.reconcilers.lifecycle.DomainStates;
import io.virtfleet.reconcilers.lifecycle.HostView;
import io.virtfleet.reconcilers.lifecycle.LifecycleAnnotations;
import io.virtfleet.reconcilers.lifecycle.Note;
import io.virtfleet.reconcilers.lifecycle.PowerPlan;
import io.virtfleet.reconcilers.lifecycle.RunStrategyPolicy;
import io.virtfleet.reconcilers.lifecycle.Scheduler;
import io.virtfleet.reconcilers.lifecycle.StatusFolder;
import io.virtfleet.reconcilers.lifecycle.XmlFingerprint;
import io.virtfleet.reconcilers.render.DomainRenderer;
import io.virtfleet.reconcilers.render.DomainXml;
import io.virtfleet.reconcilers.render.Guids;
import io.virtfleet.reconcilers.render.HostInfo;
import io.virtfleet.reconcilers.render.Identity;
import io.virtfleet.reconcilers.render.InvalidVirtualMachineException;
import io.virtfleet.reconcilers.render.RenderOptions;
import io.virtfleet.reconcilers.validation.DiskClaims;
import io.virtfleet.reconcilers.validation.FieldError;
import io.virtfleet.reconcilers.validation.ValidationContext;
import io.virtfleet.reconcilers.validation.VirtualMachineValidator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The VirtualMachine controller: validate, schedule, render, apply the owned Domain, fold the agent's report into the
 * VM's status. Each pass reads only caches and writes at most the Domain (server-side apply, field manager
 * {@value ApiGroup#OPERATOR_FIELD_MANAGER}) and the VM's status subresource; it never writes a VM's spec or metadata
 * (except removing the {@value ApiGroup#VM_FINALIZER} finalizer earlier versions added, from a VM being deleted).
 *
 * <p>No finalizer on the VM: a VM's deletion deletes its Domain (on the delete event, which JOSDK hands to
 * {@link #reconcile} with {@code triggerReconcilerOnAllEvents}, and by {@link #sweepOrphanDomains} for a VM that
 * went while the operator was down); the Domain keeps the agent's finalizer until the libvirt domain is undefined.
 *
 * <p>Generation-aware filtering is off: the request annotation ({@link LifecycleAnnotations#REQUEST}) changes
 * metadata only, and must still wake the controller.
 */
@ControllerConfiguration(name = VirtualMachineReconciler.NAME, triggerReconcilerOnAllEvents = true,
        generationAwareEventProcessing = false, fieldManager = ApiGroup.OPERATOR_FIELD_MANAGER)
public class VirtualMachineReconciler implements Reconciler<VirtualMachine> {
    public static final String NAME = "virtualmachine";
    /** Event reasons the reconciler itself records (the rest come from the lifecycle package). */
    public static final String DELETING = "Deleting";
    public static final String DOMAIN_CONFLICT = "DomainConflict";

    private static final Logger LOG = LoggerFactory.getLogger(VirtualMachineReconciler.class);
    private static final Duration WAIT_FOR_DOMAIN_DELETION = Duration.ofSeconds(2);
    private static final Duration APPLY_RETRY = Duration.ofSeconds(10);
    /** After a conditional apply lost to a newer Domain: its own event normally comes first. */
    private static final Duration STALE_RETRY = Duration.ofMillis(500);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** VM cache index: status.host, "" when none. */
    private static final String VMS_BY_STATUS_HOST = "virtfleet-status-host";
    /** VM cache index: DiskClaims.indexKeys (the host files a VM uses). */
    private static final String VMS_BY_DISK_USE = "virtfleet-disk-use";
    /** Domain cache index: spec.host. */
    private static final String DOMAINS_BY_SPEC_HOST = "virtfleet-spec-host";

    private final OperatorConfig config;
    private final OperatorEventRecorder events;
    private final OperatorMetrics metrics;
    private final Placements placements = new Placements();
    private final CloudInitGrants cloudInitGrants = new CloudInitGrants();
    private final Object scheduleLock = new Object();
    /**
     * New VMs whose first status waits for the agent's report (until {@code until}), with the Events of the pass that
     * created the Domain. In memory only: a restarted operator writes what it knows at its first pass.
     */
    private final Map<ResourceID, Deferred> deferred = new ConcurrentHashMap<>();

    private record Deferred(Instant until, List<Note> notes) {
    }
    private volatile InformerEventSource<Domain, VirtualMachine> domains;
    private volatile InformerEventSource<VirtualMachineRestore, VirtualMachine> restores;
    private volatile HostWatch hostWatch;
    private volatile IndexerResourceCache<VirtualMachine> vms;

    public VirtualMachineReconciler(OperatorConfig config, OperatorEventRecorder events, OperatorMetrics metrics) {
        this.config = config;
        this.events = events;
        this.metrics = metrics;
        metrics.vmsByStatus(this::vmsByStatus);
        metrics.hostsByReadiness(this::hostsByReadiness);
    }

    private Map<String, Long> vmsByStatus() {
        Map<String, Long> out = new HashMap<>();
        if (vms != null) {
            vms.list().forEach(vm -> out.merge(vm.getStatus() != null && vm.getStatus().printableStatus != null
                    ? vm.getStatus().printableStatus : "None", 1L, Long::sum));
        }
        return out;
    }

    private Map<Boolean, Long> hostsByReadiness() {
        Map<Boolean, Long> out = new HashMap<>();
        if (hostWatch != null) {
            Instant now = config.clock().instant();
            for (HostView h : hostWatch.views()) {
                out.merge(h.isReady(now), 1L, Long::sum);
            }
        }
        return out;
    }

    @Override
    public List<EventSource<?, VirtualMachine>> prepareEventSources(EventSourceContext<VirtualMachine> context) {
        vms = context.getPrimaryCache();
        // Indexes instead of walks over every VM: a reconcile looks up the VMs that share its host files, a host's
        // change the VMs on it. Indexers must be in place before the informer starts (JOSDK starts it after this).
        vms.addIndexers(Map.of(
                VMS_BY_STATUS_HOST, vm -> List.of(vm.getStatus() != null && vm.getStatus().host != null
                        ? vm.getStatus().host : ""),
                VMS_BY_DISK_USE, DiskClaims::indexKeys));
        domains = new InformerEventSource<>(InformerEventSourceConfiguration.from(Domain.class, VirtualMachine.class)
                .withName("domains")
                .withSecondaryToPrimaryMapper(Mappers.fromOwnerReferences(VirtualMachine.class))
                // A Domain appearing needs no reconcile of its VM: only the VM's own reconcile creates one (it has
                // just run), and at start-up JOSDK reconciles every VM anyway. fabric8 delivers the initial list's
                // adds asynchronously, so without this most VMs were reconciled twice after a restart.
                .withOnAddFilter(d -> false)
                // Cached without managedFields and without the domain XML (CachedDomainSpec: its digest and
                // fingerprint are what this reconciler reads).
                .withItemStore(PrunedItemStore.<Domain>forNamespaces(config.namespaces(), CachedDomainSpec::prune))
                .withInformerListLimit(VirtfleetOperator.INFORMER_LIST_PAGE)
                .build(), context);
        domains.addIndexers(Map.of(DOMAINS_BY_SPEC_HOST, d -> d.getSpec() != null && d.getSpec().host != null
                ? List.of(d.getSpec().host) : List.of()));
        // A restore's status carries the generation ID the operator chose for it; this reconciler is the one writer
        // of Domain.spec.genid and pins it from there (restoreStamps).
        restores = new InformerEventSource<>(InformerEventSourceConfiguration
                .from(VirtualMachineRestore.class, VirtualMachine.class)
                .withName("restores")
                .withSecondaryToPrimaryMapper(r -> r.getSpec() == null || r.getSpec().vmName == null ? Set.of()
                        : Set.of(new ResourceID(r.getSpec().vmName, r.getMetadata().getNamespace())))
                .build(), context);
        hostWatch = new HostWatch(context.getClient(), config.clock(), this::affectedBy);
        return List.of(domains, restores, hostWatch);
    }

    /**
     * VMs waiting for a host, and those placed on {@code host}. The candidates come from the indexes (status.host
     * empty or {@code host}, a Domain on {@code host}, this process's own decisions for {@code host}); each is then
     * tested exactly as {@link Placements#hostOf} decides, so the answer equals a walk over every VM.
     */
    private Set<ResourceID> affectedBy(String host) {
        Set<ResourceID> out = new HashSet<>();
        if (vms == null) {
            return out;
        }
        Map<ResourceID, VirtualMachine> candidates = new HashMap<>();
        for (String key : List.of("", host)) {
            for (VirtualMachine vm : vms.byIndex(VMS_BY_STATUS_HOST, key)) {
                candidates.put(ResourceID.fromResource(vm), vm);
            }
        }
        if (domains != null) {
            for (Domain d : domains.byIndex(DOMAINS_BY_SPEC_HOST, host)) {
                OwnerReference owner = DomainObjects.controller(d);
                if (owner != null) {
                    ResourceID id = new ResourceID(owner.getName(), d.getMetadata().getNamespace());
                    vms.get(id).ifPresent(vm -> candidates.put(id, vm));
                }
            }
        }
        for (ResourceID id : placements.assumedOn(host)) {
            vms.get(id).ifPresent(vm -> candidates.put(id, vm));
        }
        candidates.forEach((id, vm) -> {
            String h = placements.hostOf(vm, domain(id));
            if (h == null || h.equals(host)) {
                out.add(id);
            }
        });
        return out;
    }

    /** The cached VMs that can conflict with {@code vm}'s host files (DiskClaims.lookupKeys), from the index. */
    private List<VirtualMachine> diskClaimCandidates(VirtualMachine vm) {
        if (vms == null) {
            return List.of();
        }
        List<String> keys = DiskClaims.lookupKeys(vm);
        if (keys.isEmpty()) {
            return List.of();
        }
        Map<ResourceID, VirtualMachine> out = new HashMap<>();
        for (String key : keys) {
            for (VirtualMachine other : vms.byIndex(VMS_BY_DISK_USE, key)) {
                out.putIfAbsent(ResourceID.fromResource(other), other);
            }
        }
        return List.copyOf(out.values());
    }

    private Domain domain(ResourceID id) {
        return domains == null ? null : domains.get(id).orElse(null);
    }

    @Override
    public UpdateControl<VirtualMachine> reconcile(VirtualMachine vm, Context<VirtualMachine> context) {
        Instant now = config.clock().instant();
        ResourceID id = ResourceID.fromResource(vm);
        if (context.isPrimaryResourceDeleted() || vm.isMarkedForDeletion()) {
            return deleted(vm, context);
        }
        List<Note> notes = new ArrayList<>();
        Domain domain = domain(id);
        // Keeps the per-host tally the scheduler reads current (this VM's size and host as of this pass).
        placements.observe(vm, placements.hostOf(vm, domain));

        // A Domain of the same name that is not this VM's (a previous VM of that name, or someone else's object).
        if (domain != null && !DomainObjects.ownedBy(domain, vm)) {
            return blockedByForeignDomain(vm, context, domain, now);
        }
        if (domain != null && domain.isMarkedForDeletion()) {
            VirtualMachineStatus next = StatusFolder.fold(StatusFolder.input(vm, now)
                    .host(placements.hostOf(vm, domain)).domain(domain).uuid(uuid(vm, domain))
                    .applyError("Domain " + domain.getMetadata().getName() + " is being deleted; it is re-created "
                            + "once it is gone"));
            return finish(vm, context, next, notes, WAIT_FOR_DOMAIN_DELETION);
        }

        String host = placements.hostOf(vm, domain);
        HostView hostView = host != null ? hostWatch.view(host) : null;
        String uuid = uuid(vm, domain);

        // Syntax and consistency first; disk roots are checked against the host once there is one.
        List<String> errors = messages(VirtualMachineValidator.validate(vm,
                new ValidationContext(host != null ? roots(hostView) : List.of("/"))));
        // Namespace isolation: host files another namespace's earlier VM uses (re-checked: that VM may go away).
        List<String> claims = messages(DiskClaims.conflicts(vm, diskClaimCandidates(vm)));
        errors.addAll(claims);
        if (!errors.isEmpty()) {
            VirtualMachineStatus next = StatusFolder.fold(StatusFolder.input(vm, now).validationErrors(errors)
                    .host(host).hostLost(host != null ? hostWatch.lost(host, now) : null).domain(domain).uuid(uuid)
                    .restartChanges(restartChanges(domain)));
            return finish(vm, context, next, notes, claims.isEmpty() ? null : config.pendingRetry());
        }

        Decision decision = null;
        if (host == null) {
            synchronized (scheduleLock) {
                host = placements.hostOf(vm, domain);
                if (host == null) {
                    decision = Scheduler.choose(vm, hostWatch.views(),
                            placements.usage(vm, vms.list(), this::domain), now);
                    if (decision.isScheduled()) {
                        host = decision.host();
                        placements.assume(vm, host);
                        metrics.scheduled.incrementAndGet();
                    } else {
                        metrics.unschedulable.incrementAndGet();
                    }
                }
            }
            if (host == null) {
                VirtualMachineStatus next = StatusFolder.fold(StatusFolder.input(vm, now).decision(decision)
                        .uuid(uuid));
                return finish(vm, context, next, notes, config.pendingRetry());
            }
            hostView = hostWatch.view(host);
        }
        String lost = hostWatch.lost(host, now);

        // Render for the host.
        DomainXml rendered = null;
        String renderError = null;
        // Xen and OpenVZ guests have no genid device (Platform.supportsGenid): nothing is chosen or pinned for them,
        // so neither the Domain nor the VM's status shows a generation ID the guest never sees.
        GenidPolicy.Stamp genidStamp = hasGenidDevice(vm) ? renderGenid(vm, domain, restoreStamps(vm)) : null;
        if (genidStamp == null && domain == null && hasGenidDevice(vm)
                && GenidPolicy.mode(vm.getSpec() != null ? vm.getSpec().genid : null) == GenidPolicy.Mode.AUTO) {
            // The first genid of a new VM (spec.genid auto) is chosen here, once, and pinned with the Domain's first
            // apply: no second apply to pin what libvirt would generate for <genid/>, and no window in which a
            // redefine could make libvirt generate another. A crash before the apply only loses an unused value.
            genidStamp = new GenidPolicy.Stamp(Guids.newGuid(), 0);
        }
        String genid = genidStamp != null ? genidStamp.genid() : null;
        try {
            HostSpec hostSpec = hostWatch.spec(host);
            HostInfo hostInfo = new HostInfo(host, roots(hostView), hostView != null ? hostView.domainPrefix() : null,
                    hostSpec != null ? hostSpec.consoleLogDir : null, null,
                    hostSpec != null ? hostSpec.guestChannelDir : null);
            rendered = DomainRenderer.render(vm, hostInfo, new RenderOptions(uuid, genid));
        } catch (InvalidVirtualMachineException e) {
            errors = messages(e.errors());
        } catch (IllegalArgumentException e) {
            renderError = e.getMessage();
        }
        if (rendered == null || lost != null) {
            // Nothing is applied: an invalid change leaves the previous Domain alone, and a lost host's Domain is
            // frozen (its agent would act on nothing, and what it reports is stale).
            VirtualMachineStatus next = StatusFolder.fold(StatusFolder.input(vm, now).validationErrors(errors)
                    .renderError(renderError).host(host).decision(decision).hostLost(lost).domain(domain).uuid(uuid)
                    .restartChanges(lost == null ? restartChanges(domain) : List.of()));
            return finish(vm, context, next, notes, null);
        }

        // What should run, and the Domain that says so.
        DomainStatus ds = domain != null ? domain.getStatus() : null;
        String request = vm.getMetadata().getAnnotations() != null
                ? vm.getMetadata().getAnnotations().get(LifecycleAnnotations.REQUEST) : null;
        // A host that drains stops the VMs that asked for it (evictionStrategy Stop); they start after the undrain.
        boolean evict = hostView != null && hostView.draining()
                && vm.getSpec().evictionStrategy == io.virtfleet.api.v1alpha1.EvictionStrategy.Stop;
        PowerPlan plan = RunStrategyPolicy.decide(new RunStrategyPolicy.Input(vm.getSpec().runStrategy,
                domain != null ? domain.getSpec() : null, ds, DomainObjects.annotations(domain), request, now, evict));
        DomainSpec spec = new DomainSpec();
        spec.host = host;
        spec.powerState = plan.powerState();
        spec.uuid = rendered.uuid();
        spec.domainXml = rendered.xml();
        spec.genid = genid != null ? genid : explicitGenid(vm.getSpec());
        spec.genidGeneration = genidStamp != null && genidStamp.generation() > 0 ? genidStamp.generation() : null;
        spec.restartGeneration = plan.restartGeneration();
        spec.shutdownTimeoutSeconds = config.shutdownTimeoutSeconds();
        spec.disks = io.virtfleet.reconcilers.render.CreatedDisks.forDomain(vm.getSpec());
        spec.cloudInit = vm.getSpec().cloudInit;
        Map<String, String> annotations = new HashMap<>();
        putIfNotNull(annotations, LifecycleAnnotations.LAST_HANDLED_REQUEST, plan.handledRequest());
        putIfNotNull(annotations, LifecycleAnnotations.STOP_REASON, plan.stopReason());
        if (plan.autoRestartCount() > 0) {
            annotations.put(LifecycleAnnotations.AUTO_RESTART_COUNT, Integer.toString(plan.autoRestartCount()));
        }
        if (plan.lastAutoRestart() != null) {
            annotations.put(LifecycleAnnotations.LAST_AUTO_RESTART, plan.lastAutoRestart().toString());
        }
        putIfNotNull(annotations, LifecycleAnnotations.BOOT_FINGERPRINT, bootFingerprint(domain, spec, rendered.xml()));
        Domain desired = DomainObjects.desired(vm, spec, annotations);

        Domain current = domain;
        String applyError = null;
        try {
            // Before the Domain: its agent reads the Secrets as soon as it sees it.
            cloudInitGrants.ensure(context.getClient(), vm, host);
        } catch (IllegalStateException e) {
            applyError = e.getMessage();
            LOG.warn("{}", applyError);
        }
        if (applyError == null && !DomainObjects.upToDate(desired, domain)) {
            if (domain != null) {
                // Conditional on the Domain this pass decided from: a cache older than the Domain (a migration or
                // failover re-pointed it a moment ago) must not apply the old host back (an apply carrying
                // metadata.resourceVersion is refused with 409 when the object changed since). The change that
                // made it newer reconciles this VM again.
                desired.getMetadata().setResourceVersion(domain.getMetadata().getResourceVersion());
            }
            try {
                metrics.domainApplies.incrementAndGet();
                current = context.getClient().resource(desired).fieldManager(ApiGroup.OPERATOR_FIELD_MANAGER)
                        .forceConflicts().serverSideApply();
                if (domain == null) {
                    domains.handleRecentResourceCreate(id, current);
                } else {
                    domains.handleRecentResourceUpdate(id, current, domain);
                }
                notes.addAll(plan.notes());
            } catch (KubernetesClientException e) {
                if (e.getCode() == 409 && domain != null) {
                    LOG.debug("Domain {} changed since the cached copy this pass used; deciding again", id);
                    return UpdateControl.<VirtualMachine>noUpdate().rescheduleAfter(STALE_RETRY);
                }
                metrics.domainApplyErrors.incrementAndGet();
                applyError = "server-side apply of Domain " + id + " failed: " + e.getMessage();
                LOG.warn("{}", applyError);
            }
        } else {
            notes.addAll(plan.notes());
        }

        VirtualMachineStatus next = StatusFolder.fold(StatusFolder.input(vm, now).host(host).decision(decision)
                .domain(current).uuid(uuid).applyError(applyError).restartChanges(restartChanges(current)));
        Duration again = applyError != null ? APPLY_RETRY : plan.retryAfter();

        // A new VM whose Domain this pass created: its status would only say Scheduled/Starting, and the agent's
        // Running report usually follows within moments. Waiting for it makes one status write (host, Scheduled,
        // Running) of two; after the grace, what is known is written. Anything else is written at once.
        Deferred waiting = deferred.get(id);
        boolean quiet = applyError == null && startingQuietly(next);
        Duration grace = config.startGrace();
        if (quiet && !grace.isZero() && domain == null && current != null
                && (vm.getStatus() == null || vm.getStatus().host == null)) {
            deferred.put(id, new Deferred(now.plus(grace), List.copyOf(notes)));
            return UpdateControl.<VirtualMachine>noUpdate().rescheduleAfter(grace);
        }
        if (waiting != null) {
            if (quiet && now.isBefore(waiting.until())) {
                List<Note> more = new ArrayList<>(waiting.notes());
                more.addAll(notes);
                deferred.put(id, new Deferred(waiting.until(), more));
                return UpdateControl.<VirtualMachine>noUpdate().rescheduleAfter(Duration.between(now, waiting.until()));
            }
            deferred.remove(id);
            List<Note> all = new ArrayList<>(waiting.notes());
            all.addAll(notes);
            if (StatusFolder.startedAtOnce(vm.getStatus(), next)) {
                // One Started Event naming the host tells the start; the policy's Starting is part of it.
                all.removeIf(n -> RunStrategyPolicy.STARTING.equals(n.reason()));
            }
            notes = all;
        }
        return finish(vm, context, next, notes, again);
    }

    /** The status only says the VM is being scheduled or started: no failure, nothing the user must see now. */
    private static boolean startingQuietly(VirtualMachineStatus s) {
        if (!io.virtfleet.reconcilers.lifecycle.PrintableStatus.SCHEDULING.equals(s.printableStatus)
                && !io.virtfleet.reconcilers.lifecycle.PrintableStatus.STARTING.equals(s.printableStatus)) {
            return false;
        }
        return s.conditions == null || s.conditions.stream().noneMatch(c -> StatusFolder.FAILURE.equals(c.getType())
                && "True".equals(c.getStatus()));
    }

    /** A Domain of this name exists and is not controlled by this VM. */
    private UpdateControl<VirtualMachine> blockedByForeignDomain(VirtualMachine vm, Context<VirtualMachine> context,
                                                                 Domain domain, Instant now) {
        OwnerReference controller = DomainObjects.controller(domain);
        String message;
        if (domain.isMarkedForDeletion()) {
            message = "waiting for Domain " + domain.getMetadata().getName() + " of a previous VirtualMachine of this "
                    + "name to be deleted";
        } else if (controller != null && "VirtualMachine".equals(controller.getKind())
                && ApiGroup.API_VERSION.equals(controller.getApiVersion())
                && vm.getMetadata().getName().equals(controller.getName())) {
            // Left behind by a VirtualMachine of the same name that no longer exists (names are unique, so it is
            // gone): nobody else will clean it up when the cluster runs no garbage collector.
            message = "deleting Domain " + domain.getMetadata().getName() + " left by a previous VirtualMachine of "
                    + "this name (uid " + controller.getUid() + ")";
            try {
                context.getClient().resource(domain).withPropagationPolicy(DeletionPropagation.BACKGROUND).delete();
            } catch (KubernetesClientException e) {
                message = message + ": " + e.getMessage();
            }
        } else {
            message = "Domain " + domain.getMetadata().getName() + " exists and is not controlled by this "
                    + "VirtualMachine; delete it or rename the VM";
            events.record(vm, Note.warning(DOMAIN_CONFLICT, message));
        }
        VirtualMachineStatus next = StatusFolder.fold(StatusFolder.input(vm, now).uuid(uuid(vm, null))
                .applyError(message));
        return finish(vm, context, next, List.of(), WAIT_FOR_DOMAIN_DELETION);
    }

    /** Writes the status when it changed, records events, and asks to come back after {@code again} (if any). */
    private UpdateControl<VirtualMachine> finish(VirtualMachine vm, Context<VirtualMachine> context,
                                                 VirtualMachineStatus next, List<Note> notes, Duration again) {
        VirtualMachineStatus previous = vm.getStatus();
        List<Note> all = new ArrayList<>(notes);
        all.addAll(StatusFolder.transitions(previous, next));
        if (!sameJson(previous, next)) {
            VirtualMachine fresh = new VirtualMachine();
            fresh.setMetadata(new ObjectMetaBuilder().withName(vm.getMetadata().getName())
                    .withNamespace(vm.getMetadata().getNamespace()).build());
            fresh.setStatus(next);
            PrimaryUpdateAndCacheUtils.ssaPatchStatusAndCacheResource(vm, fresh, context);
            metrics.statusPatches.incrementAndGet();
            List<String> changes = GenidPolicy.newChanges(previous != null ? previous.genidHistory : null,
                    next.genidHistory);
            changes.forEach(metrics::genidChanged);
            // Every genid change gets an Event (the guest was told it is a copy: users should see why); a snapshot
            // restore has its own, richer one from RestoreReconciler (which snapshot, old -> new).
            for (String reason : changes) {
                if (!GenidPolicy.REASON_SNAPSHOT_RESTORED.equals(reason)) {
                    all.add(Note.normal("GenidChanged", "generation ID is now " + next.genid + " (" + reason + ")"));
                }
            }
        }
        for (Note n : all) {
            events.record(vm, n);
            metrics.events.incrementAndGet();
        }
        UpdateControl<VirtualMachine> control = UpdateControl.noUpdate();
        if (again != null && !again.isNegative() && !again.isZero()) {
            control.rescheduleAfter(again);
        }
        return control;
    }

    /**
     * The VM is gone (its delete event) or being deleted (another finalizer holds it): delete its Domain and forget
     * what is remembered about it. The Domain's agent finalizer keeps the Domain until the agent has shut the guest
     * down (up to spec.shutdownTimeoutSeconds) and undefined the libvirt domain; a VM of the same name created
     * meanwhile waits for it (blockedByForeignDomain). A VM still carrying the finalizer earlier versions added gets it
     * removed, else its deletion would never complete.
     */
    private UpdateControl<VirtualMachine> deleted(VirtualMachine vm, Context<VirtualMachine> context) {
        ResourceID id = ResourceID.fromResource(vm);
        KubernetesClient client = context.getClient();
        Domain domain = domain(id);
        boolean retry = false;
        if (domain != null && DomainObjects.ownedBy(domain, vm) && !domain.isMarkedForDeletion()) {
            retry = !deleteDomain(client, domain, vm);
        }
        if (!context.isPrimaryResourceDeleted() && vm.hasFinalizer(ApiGroup.VM_FINALIZER)) {
            try {
                client.resources(VirtualMachine.class).inNamespace(vm.getMetadata().getNamespace())
                        .withName(vm.getMetadata().getName()).edit(x -> {
                            if (x.getMetadata().getFinalizers() != null) {
                                x.getMetadata().getFinalizers().removeIf(ApiGroup.VM_FINALIZER::equals);
                            }
                            return x;
                        });
            } catch (KubernetesClientException e) {
                if (e.getCode() != 404) {
                    LOG.warn("cannot remove finalizer {} from VM {}: {}", ApiGroup.VM_FINALIZER, id, e.getMessage());
                    retry = true;
                }
            }
        }
        if (context.isPrimaryResourceDeleted()) {
            deferred.remove(id);
            placements.forget(id);
            cloudInitGrants.forget(vm);
            return UpdateControl.noUpdate();
        }
        UpdateControl<VirtualMachine> control = UpdateControl.noUpdate();
        return retry ? control.rescheduleAfter(APPLY_RETRY) : control;
    }

    /** Deletes the Domain of a VM that is gone or going; false when the API server refused (retry later). */
    private boolean deleteDomain(KubernetesClient client, Domain domain, VirtualMachine vm) {
        String host = domain.getSpec() != null ? domain.getSpec().host : null;
        try {
            client.resource(domain).withPropagationPolicy(DeletionPropagation.BACKGROUND).delete();
        } catch (KubernetesClientException e) {
            if (e.getCode() == 404) {
                return true;
            }
            LOG.warn("cannot delete Domain {}/{} of a deleted VM: {}", domain.getMetadata().getNamespace(),
                    domain.getMetadata().getName(), e.getMessage());
            return false;
        }
        if (vm != null) {
            events.record(vm, Note.normal(DELETING, "deleting Domain " + domain.getMetadata().getName()
                    + (host != null ? "; the agent of host " + host + " shuts the domain down and undefines it" : "")));
        }
        return true;
    }

    /**
     * Deletes the Domains whose controlling VirtualMachine is not in the VM cache, after a look at the API server
     * confirms it is gone: a VM deleted while the operator was down never gets a delete event, and the cluster may run
     * no garbage collector (the ownerReference alone deletes nothing then). Called once the caches have synced and
     * periodically; returns how many Domains it deleted.
     */
    public int sweepOrphanDomains(KubernetesClient client) {
        if (domains == null || vms == null) {
            return 0;
        }
        Set<String> uids = new HashSet<>();
        vms.list().forEach(vm -> uids.add(vm.getMetadata().getUid()));
        int deleted = 0;
        for (Domain d : domains.list(d -> !d.isMarkedForDeletion()).toList()) {
            OwnerReference owner = DomainObjects.controller(d);
            if (owner == null || !"VirtualMachine".equals(owner.getKind())
                    || !ApiGroup.API_VERSION.equals(owner.getApiVersion()) || uids.contains(owner.getUid())) {
                continue;
            }
            try {
                VirtualMachine live = client.resources(VirtualMachine.class)
                        .inNamespace(d.getMetadata().getNamespace()).withName(owner.getName()).get();
                if (live != null && owner.getUid().equals(live.getMetadata().getUid())) {
                    continue; // the cache has not seen it yet
                }
            } catch (KubernetesClientException e) {
                LOG.warn("cannot read VM {}/{} of Domain {}: {}", d.getMetadata().getNamespace(), owner.getName(),
                        d.getMetadata().getName(), e.getMessage());
                continue;
            }
            LOG.info("deleting Domain {}/{}: its VirtualMachine (uid {}) is gone", d.getMetadata().getNamespace(),
                    d.getMetadata().getName(), owner.getUid());
            if (deleteDomain(client, d, null)) {
                deleted++;
            }
        }
        return deleted;
    }

    /**
     * spec.firmware.uuid, else the one the Domain was created with, else the one in status, else derived from the
     * VM's namespace, name and uid. Stored in status and the Domain, never in the spec.
     */
    static String uuid(VirtualMachine vm, Domain domain) {
        VirtualMachineSpec spec = vm.getSpec();
        if (spec != null && spec.firmware != null && Guids.isGuid(spec.firmware.uuid)) {
            return Guids.normalize(spec.firmware.uuid);
        }
        if (domain != null && domain.getSpec() != null && Guids.isGuid(domain.getSpec().uuid)) {
            return Guids.normalize(domain.getSpec().uuid);
        }
        if (vm.getStatus() != null && Guids.isGuid(vm.getStatus().uuid)) {
            return Guids.normalize(vm.getStatus().uuid);
        }
        return Identity.uuidFor(vm);
    }

    /**
     * The genid to render, with its genidGeneration: of the one pinned in the Domain, the one the agent reports libvirt
     * has (or, with no report, the VM's status), and those the operator recorded on this VM's restores, the newest
     * generation ({@link GenidPolicy#newest}): a stale report or a lagging cache can never bring an older genid back.
     * Once libvirt reports a genid it generated for {@code <genid/>}, exactly that value is rendered, so a redefine
     * never makes libvirt generate another. null before that, and for genid none: the renderer follows spec.genid.
     */
    private static boolean hasGenidDevice(VirtualMachine vm) {
        if (vm.getSpec() == null) {
            return false;
        }
        try {
            io.virtfleet.reconcilers.platform.Platform p = io.virtfleet.reconcilers.platform.Platform.of(vm.getSpec());
            return p == null || p.supportsGenid();
        } catch (RuntimeException e) {
            return true; // an invalid spec: validation reports it; the genid rules stay as they were
        }
    }

    public static GenidPolicy.Stamp renderGenid(VirtualMachine vm, Domain domain, List<GenidPolicy.Stamp> restores) {
        if (vm.getSpec() != null && VirtualMachineValidator.GENID_NONE.equals(vm.getSpec().genid)) {
            return null;
        }
        GenidPolicy.Stamp pinned = domain != null && domain.getSpec() != null
                ? GenidPolicy.Stamp.of(domain.getSpec().genid, domain.getSpec().genidGeneration) : null;
        DomainStatus ds = domain != null ? domain.getStatus() : null;
        GenidPolicy.Stamp observed = ds != null ? nonNil(GenidPolicy.Stamp.of(ds.genid, ds.genidGeneration)) : null;
        if (observed == null && vm.getStatus() != null) {
            observed = nonNil(GenidPolicy.Stamp.of(vm.getStatus().genid, vm.getStatus().genidGeneration));
        }
        // A report that predates the Domain's spec (status.observedGeneration behind metadata.generation) does not
        // win a tie: e.g. after a failover the Domain carries the new host's genid and the status is the lost host's.
        boolean current = ds == null || ds.observedGeneration == null || domain.getMetadata().getGeneration() == null
                || ds.observedGeneration >= domain.getMetadata().getGeneration();
        GenidPolicy.Stamp out = GenidPolicy.newest(pinned, observed, current);
        for (GenidPolicy.Stamp r : restores) {
            out = GenidPolicy.newest(out, r, false);
        }
        return out;
    }

    static GenidPolicy.Stamp renderGenid(VirtualMachine vm, Domain domain) {
        return renderGenid(vm, domain, List.of());
    }

    private static GenidPolicy.Stamp nonNil(GenidPolicy.Stamp s) {
        return s == null || Guids.isNil(s.genid()) ? null : s;
    }

    /**
     * The generation IDs the operator recorded on this VM's restores that have not failed; restores of an earlier VM
     * of the same name do not count (a new VM must never start on a generation ID a deleted one had).
     */
    private List<GenidPolicy.Stamp> restoreStamps(VirtualMachine vm) {
        if (restores == null) {
            return List.of();
        }
        List<GenidPolicy.Stamp> out = new ArrayList<>();
        restores.list(vm.getMetadata().getNamespace(), r -> RequestReconcilers.ofThisVm(r, vm)
                && r.getStatus() != null && !VirtualMachineRestoreStatus.PHASE_FAILED.equals(r.getStatus().phase)
                && r.getStatus().genidGeneration != null).forEach(r -> {
                    GenidPolicy.Stamp st = GenidPolicy.Stamp.of(r.getStatus().genid, r.getStatus().genidGeneration);
                    if (st != null) {
                        out.add(st);
                    }
                });
        return out;
    }

    private static String explicitGenid(VirtualMachineSpec spec) {
        return spec != null && Guids.isGuid(spec.genid) ? Guids.normalize(spec.genid) : null;
    }

    /**
     * The fingerprint of the XML the domain runs with: kept while it runs; the new XML's whenever the next start
     * will use it (no domain yet, not running, or a (re)start pending).
     */
    private static String bootFingerprint(Domain domain, DomainSpec next, String xml) {
        String fresh;
        try {
            // The Domain already holds this XML (the usual pass, and every one after a restart): its cached
            // fingerprint, no parse.
            fresh = domain != null && DomainObjects.hasXml(domain.getSpec())
                    && DomainObjects.sha256(xml).equals(DomainObjects.xmlDigest(domain.getSpec()))
                    ? DomainObjects.xmlFingerprint(domain.getSpec()) : XmlFingerprint.of(xml);
        } catch (IllegalArgumentException e) {
            return null;
        }
        if (domain == null) {
            return fresh;
        }
        DomainStatus status = domain.getStatus();
        boolean active = status != null && DomainStates.isActive(status.state);
        String kept = DomainObjects.annotations(domain).get(LifecycleAnnotations.BOOT_FINGERPRINT);
        if (!active || kept == null || DomainStates.startPending(next, status)) {
            return fresh;
        }
        return kept;
    }

    /** What changed since the running domain started, per the Domain's boot fingerprint. */
    static List<String> restartChanges(Domain domain) {
        if (domain == null || !DomainObjects.hasXml(domain.getSpec())) {
            return List.of();
        }
        DomainStatus status = domain.getStatus();
        if (status == null || !DomainStates.isActive(status.state) || DomainStates.startPending(domain.getSpec(), status)) {
            return List.of();
        }
        try {
            return XmlFingerprint.changed(DomainObjects.annotations(domain).get(LifecycleAnnotations.BOOT_FINGERPRINT),
                    DomainObjects.xmlFingerprint(domain.getSpec()));
        } catch (IllegalArgumentException e) {
            return List.of();
        }
    }

    private static List<String> roots(HostView host) {
        if (host == null || host.allowedDiskRoots().isEmpty()) {
            return List.of(HostSpec.DEFAULT_ALLOWED_ROOT);
        }
        return host.allowedDiskRoots();
    }

    private static List<String> messages(List<FieldError> errors) {
        List<String> out = new ArrayList<>();
        for (FieldError e : errors) {
            out.add(e.toString());
        }
        return out;
    }

    private static void putIfNotNull(Map<String, String> m, String k, String v) {
        if (v != null) {
            m.put(k, v);
        }
    }

    private static boolean sameJson(Object a, Object b) {
        if (a == null || b == null) {
            return a == b;
        }
        return JSON.valueToTree(a).equals(JSON.valueToTree(b));
    }
}
