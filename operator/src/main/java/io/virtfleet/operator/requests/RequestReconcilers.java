package io.virtfleet.operator.requests;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.Operator;
import io.virtfleet.api.v1alpha1.ApiGroup;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.operator.OperatorEventRecorder;
import io.virtfleet.operator.OperatorConfig;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.virtfleet.reconcilers.requests.RequestDeadlines;

import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

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
        String host = o.getMetadata().getLabels() == null ? null
                : o.getMetadata().getLabels().get(ApiGroup.HOST_LABEL);
        return RequestDeadlines.check(o.getKind(), phase, host, leftover, created, config.clock().instant(),
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

    static String now() {
        return Instant.now().toString();
    }
}
