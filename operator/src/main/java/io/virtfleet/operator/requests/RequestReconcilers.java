package io.virtfleet.operator.requests;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.javaoperatorsdk.operator.Operator;
import io.virtfleet.api.v1alpha1.ApiGroup;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.PointInTimeCopyStatus;
import io.virtfleet.api.v1alpha1.RunStrategy;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.api.v1alpha1.VirtualMachineRestore;
import io.virtfleet.api.v1alpha1.VirtualMachineSpec;
import io.virtfleet.operator.OperatorEventRecorder;
import io.virtfleet.operator.OperatorConfig;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.virtfleet.reconcilers.genid.GenidPolicy;
import io.virtfleet.reconcilers.requests.RequestDeadlines;

import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The operator's side of snapshots, restores, clones and backups. The node agent owns libvirt, so the operator only
 * validates a request and routes it: it labels the object {@code virtfleet.io/host=<host of the VM's Domain>}, and the
 * agent of that host (which watches objects with its label) takes/reverts/deletes the libvirt snapshot and writes the
 * status. Bad requests (VM missing, snapshot of another VM, not ready) get {@code status.phase: Failed} and an
 * {@code error} here, without reaching an agent.
 */
public final class RequestReconcilers {
    public static final String PHASE_FAILED = "Failed";
    public static final String PHASE_PENDING = "Pending";
    public static final String PHASE_SUCCEEDED = "Succeeded";

    private RequestReconcilers() {
    }

    /**
     * Whether {@code r} is a restore of this very VM, not of an earlier VM of the same name: references are by name
     * (a restore names its VM), and a VM deleted and created again (by a user, a clone or a restore from a backup)
     * is a new object with a new uid. Recorded restores say whose genid they chose ({@code status.vmUid}); one
     * recorded before that field existed counts when it was not created before the VM (its
     * {@code metadata.creationTimestamp}, RFC 3339, second precision: an earlier VM's restore was created while that
     * VM existed, so before this one).
     */
    public static boolean ofThisVm(VirtualMachineRestore r, VirtualMachine vm) {
        if (r.getSpec() == null || !vm.getMetadata().getName().equals(r.getSpec().vmName)) {
            return false;
        }
        String uid = vm.getMetadata().getUid();
        if (r.getStatus() != null && r.getStatus().vmUid != null && uid != null) {
            return r.getStatus().vmUid.equals(uid);
        }
        String restoreCreated = r.getMetadata().getCreationTimestamp();
        String vmCreated = vm.getMetadata().getCreationTimestamp();
        return restoreCreated == null || vmCreated == null
                || !Instant.parse(restoreCreated).isBefore(Instant.parse(vmCreated));
    }

    /** Registers the snapshot, restore, backup, clone and failover controllers (leader-elected with the rest). */
    public static void register(Operator op, OperatorConfig config, OperatorEventRecorder events) {
        for (io.javaoperatorsdk.operator.api.reconciler.Reconciler<?> r : List.of(new SnapshotReconciler(events, config),
                new RestoreReconciler(events, config), new BackupReconciler(events, config),
                new CloneReconciler(events, config),
                new FailoverReconciler(events, config.clock()))) {
            registerIn(op, config, r);
        }
    }

    private static <R extends HasMetadata> void registerIn(Operator op, OperatorConfig config,
            io.javaoperatorsdk.operator.api.reconciler.Reconciler<R> r) {
        op.register(r, o -> {
            if (!config.namespaces().isEmpty()) {
                o.settingNamespaces(config.namespaces());
            }
        });
    }

    static Domain domain(KubernetesClient client, String namespace, String vmName) {
        return vmName == null ? null : client.resources(Domain.class).inNamespace(namespace).withName(vmName).get();
    }

    static String host(Domain d) {
        return d == null || d.getSpec() == null ? null : d.getSpec().host;
    }

    static boolean labelled(HasMetadata o) {
        return o.getMetadata().getLabels() != null && o.getMetadata().getLabels().containsKey(ApiGroup.HOST_LABEL);
    }

    /** The host the request was handed to ({@value ApiGroup#HOST_LABEL}); null before. */
    static String hostLabel(HasMetadata o) {
        Map<String, String> labels = o.getMetadata().getLabels();
        return labels == null ? null : labels.get(ApiGroup.HOST_LABEL);
    }

    /** Adds the host label (a metadata-only edit of a user-owned request object; never its spec). */
    static <T extends HasMetadata> void label(KubernetesClient client, Class<T> type, T o, String host) {
        client.resources(type).inNamespace(o.getMetadata().getNamespace()).withName(o.getMetadata().getName())
                .edit(x -> {
                    Map<String, String> labels = x.getMetadata().getLabels() == null ? new HashMap<>()
                            : new HashMap<>(x.getMetadata().getLabels());
                    labels.put(ApiGroup.HOST_LABEL, host);
                    x.getMetadata().setLabels(labels);
                    return x;
                });
    }

    /**
     * The deadline verdict of a request ({@link RequestDeadlines}, from its creation time and the host label it was
     * handed over with); null for a finished one.
     */
    static RequestDeadlines.Verdict deadline(HasMetadata o, String phase, String leftover, OperatorConfig config) {
        Instant created;
        try {
            created = o.getMetadata().getCreationTimestamp() == null ? null
                    : Instant.parse(o.getMetadata().getCreationTimestamp());
        } catch (java.time.format.DateTimeParseException e) {
            created = null;
        }
        return RequestDeadlines.check(o.getKind(), phase, hostLabel(o), leftover, created, config.clock().instant(),
                config.requestDeadlines());
    }

    /** Records the expiry on the request as a Warning Event (the status says it too). */
    static void expired(OperatorEventRecorder events, HasMetadata o, RequestDeadlines.Verdict v) {
        events.record(o, "Warning", "DeadlineExceeded", v.expired());
    }

    /** {@code c}, asked to come back no later than the request's deadline (so it is enforced without events). */
    static <R extends HasMetadata> UpdateControl<R> untilDeadline(UpdateControl<R> c, RequestDeadlines.Verdict v) {
        if (v == null || v.recheckAfter() == null) {
            return c;
        }
        long current = c.getScheduleDelay().orElse(Long.MAX_VALUE);
        if (v.recheckAfter().toMillis() < current) {
            c.rescheduleAfter(v.recheckAfter());
        }
        return c;
    }

    /**
     * Creates the VM a clone or restore makes, annotated {@code annotation=value}; on a 409 (an earlier pass made it,
     * or someone else did: the caller tells them apart with {@link #madeFrom}) the one that exists.
     */
    static VirtualMachine createOrGet(KubernetesClient client, String ns, String name, String annotation, String value,
                                      VirtualMachineSpec spec) {
        VirtualMachine vm = new VirtualMachine();
        vm.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(ns)
                .withAnnotations(Map.of(annotation, value)).build());
        vm.setSpec(spec);
        try {
            return client.resource(vm).create();
        } catch (KubernetesClientException e) {
            if (e.getCode() != 409) {
                throw e; // retried by JOSDK
            }
            return client.resources(VirtualMachine.class).inNamespace(ns).withName(name).get();
        }
    }

    /** The Warning a VM made with genid none gets: its guest cannot tell it is a copy ({@link GenidPolicy#decide}). */
    static void warnIfNoGenid(OperatorEventRecorder events, VirtualMachine vm, String genid,
                              GenidPolicy.Transition transition) {
        if (GenidPolicy.mode(genid) == GenidPolicy.Mode.NONE) {
            events.record(vm, "Warning", "NoGenid", GenidPolicy.decide("none", null, transition).message());
        }
    }

    /** {@code vm} is the one a request made: annotated {@code annotation=value} and using every disk of its plan. */
    static boolean madeFrom(VirtualMachine vm, String annotation, String value, Collection<String> plannedDisks) {
        Map<String, String> a = vm.getMetadata().getAnnotations();
        if (a == null || !Objects.equals(a.get(annotation), value)) {
            return false;
        }
        List<String> paths = vm.getSpec() == null ? List.of() : vm.getSpec().disks.stream()
                .filter(d -> d.volume != null).map(d -> d.volume.path).toList();
        return paths.containsAll(plannedDisks);
    }

    /**
     * A VM a clone or restore created is not up yet: its runStrategy starts it, and it does not run with its genid
     * reported (unless it has none), so its status.genid would not be the one the guest sees.
     */
    static boolean notUpYet(VirtualMachine vm) {
        RunStrategy rs = vm.getSpec().runStrategy;
        boolean shouldRun = rs == null || rs == RunStrategy.Always || rs == RunStrategy.RerunOnFailure
                || rs == RunStrategy.Once;
        boolean running = vm.getStatus() != null && "Running".equals(vm.getStatus().printableStatus)
                && (vm.getStatus().genid != null || GenidPolicy.mode(vm.getSpec().genid) == GenidPolicy.Mode.NONE);
        return shouldRun && !running;
    }

    /** {@code st} marked Failed with {@code error}, as {@code request}'s status patch (a snapshot or a backup). */
    static <R extends CustomResource<?, S>, S extends PointInTimeCopyStatus> UpdateControl<R> failed(R request, S st,
                                                                                                   String error) {
        st.phase = PointInTimeCopyStatus.PHASE_FAILED;
        st.error = error;
        request.setStatus(st);
        return UpdateControl.patchStatus(request);
    }

    static String now() {
        return Instant.now().toString();
    }
}
