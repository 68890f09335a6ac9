package io.virtfleet.reconcilers.lifecycle;

import io.fabric8.kubernetes.api.model.Condition;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Objects;

/** Kubernetes-style conditions: lastTransitionTime moves only when a condition's status changes. */
public final class Conditions {
    public static final String TRUE = "True";
    public static final String FALSE = "False";
    public static final String UNKNOWN = "Unknown";

    private static final DateTimeFormatter RFC3339 = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss'Z'")
            .withZone(ZoneOffset.UTC);

    private Conditions() {
    }

    /** The condition of this type in {@code conditions}, or null. */
    public static Condition find(List<Condition> conditions, String type) {
        if (conditions == null) {
            return null;
        }
        for (Condition c : conditions) {
            if (c != null && type.equals(c.getType())) {
                return c;
            }
        }
        return null;
    }

    public static boolean isTrue(List<Condition> conditions, String type) {
        Condition c = find(conditions, type);
        return c != null && TRUE.equals(c.getStatus());
    }

    /**
     * A condition with the given values; its lastTransitionTime is the previous one's when the status did not
     * change, else {@code now} (whole seconds, RFC 3339).
     */
    public static Condition next(Condition previous, String type, String status, String reason, String message,
                                 Long observedGeneration, Instant now) {
        Condition c = new Condition();
        c.setType(type);
        c.setStatus(status);
        c.setReason(reason);
        c.setMessage(message == null ? "" : message);
        c.setObservedGeneration(observedGeneration);
        boolean same = previous != null && Objects.equals(previous.getStatus(), status)
                && previous.getLastTransitionTime() != null;
        c.setLastTransitionTime(same ? previous.getLastTransitionTime() : format(now));
        return c;
    }

    public static String format(Instant t) {
        return RFC3339.format(t.truncatedTo(ChronoUnit.SECONDS));
    }
}
