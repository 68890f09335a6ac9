package io.virtfleet.reconcilers.copy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Whether the operator may act on a clone/restore plan read back from an object's status. Node agents can
 * write these statuses, so before the operator creates a VM from one it re-derives what it planned and compares:
 * a compromised agent must not be able to point the new VM at another host or at another tenant's disk files.
 */
public final class PlanChecks {
    private PlanChecks() {
    }

    /**
     * Field-named reasons not to trust the plan (empty: it is the operator's own).
     *
     * @param statusHost    status.host as read back
     * @param labelHost     the object's {@code virtfleet.io/host} label (set by the operator at hand-over)
     * @param expectedHost  where the work must have happened (the source VM's Domain host, the backup's host)
     * @param disks         status.disks as read back
     * @param expectedDisks the plan re-derived from the current inputs
     */
    public static List<String> problems(String statusHost, String labelHost, String expectedHost,
                                        Map<String, String> disks, Map<String, String> expectedDisks) {
        List<String> out = new ArrayList<>();
        if (statusHost == null || !statusHost.equals(labelHost)) {
            out.add("status.host: " + statusHost + " is not the host the request was handed to (" + labelHost + ")");
        } else if (!statusHost.equals(expectedHost)) {
            out.add("status.host: " + statusHost + " is not the host of the source (" + expectedHost + ")");
        }
        if (!Objects.equals(disks, expectedDisks)) {
            out.add("status.disks: " + disks + " is not the operator's plan " + expectedDisks);
        }
        return out;
    }
}
