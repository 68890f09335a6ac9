package io.virtfleet.reconcilers.lifecycle;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * What {@link RunStrategyPolicy} wants the Domain to say, and what to tell users.
 *
 * @param powerState        Domain spec.powerState: Running or Stopped
 * @param restartGeneration Domain spec.restartGeneration; a value higher than the current one asks the agent to
 *                          (re)start the domain
 * @param stopReason        why powerState is Stopped ({@link LifecycleAnnotations.StopReason}), null when Running
 * @param handledRequest    the request value to record as handled (null: none yet)
 * @param autoRestartCount  automatic restarts in the current back-off window
 * @param lastAutoRestart   when the last automatic restart was asked for (null: never)
 * @param retryAfter        reconcile again after this long (a restart waits out its back-off); null: no need
 * @param notes             events to record
 */
public record PowerPlan(String powerState, long restartGeneration, String stopReason, String handledRequest,
                        int autoRestartCount, Instant lastAutoRestart, Duration retryAfter, List<Note> notes) {
    public PowerPlan {
        notes = notes == null ? List.of() : List.copyOf(notes);
    }
}
