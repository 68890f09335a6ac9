package io.virtfleet.operator.requests;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.virtfleet.operator.OperatorConfig;
import io.virtfleet.operator.OperatorEventRecorder;
import io.virtfleet.reconcilers.requests.RequestDeadlines;

/**
 * The pass every snapshot, restore, clone and backup request shares: first its {@link RequestDeadlines} verdict (none
 * while it is being deleted); an expired request is failed, with a Warning Event on it; otherwise the kind's own
 * {@link #handle}, asked to come back no later than the deadline, so the deadline holds without further events.
 */
abstract class TimedRequestReconciler<R extends HasMetadata> implements Reconciler<R> {
    final OperatorEventRecorder events;
    final OperatorConfig config;

    TimedRequestReconciler(OperatorEventRecorder events, OperatorConfig config) {
        this.events = events;
        this.config = config;
    }

    /** The request's status.phase; null before it has one. */
    abstract String phase(R request);

    /** What an expiry in {@code phase} leaves behind, for its message ("the partial backup in /x"). */
    abstract String leftover(R request, String phase);

    /** The request marked Failed with {@code error}, as a status patch. */
    abstract UpdateControl<R> fail(R request, String error);

    /** The kind's own pass over a request whose deadline has not passed. */
    abstract UpdateControl<R> handle(KubernetesClient client, R request);

    @Override
    public final UpdateControl<R> reconcile(R request, Context<R> context) {
        String phase = phase(request);
        RequestDeadlines.Verdict deadline = request.getMetadata().getDeletionTimestamp() != null ? null
                : RequestReconcilers.deadline(request, phase, leftover(request, phase), config);
        if (deadline != null && deadline.isExpired()) {
            RequestReconcilers.expired(events, request, deadline);
            return fail(request, deadline.expired());
        }
        return RequestReconcilers.untilDeadline(handle(context.getClient(), request), deadline);
    }
}
