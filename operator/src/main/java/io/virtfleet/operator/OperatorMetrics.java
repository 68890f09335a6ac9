package io.virtfleet.operator;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The operator's counters and gauges, rendered in the Prometheus text format (version 0.0.4) on {@code /metrics}.
 * Hand-rolled on purpose: a dozen numbers do not justify a metrics library in the image.
 */
public final class OperatorMetrics {
    final AtomicLong reconciliations = new AtomicLong();
    final AtomicLong reconciliationErrors = new AtomicLong();
    final AtomicLong domainApplies = new AtomicLong();
    final AtomicLong domainApplyErrors = new AtomicLong();
    final AtomicLong statusPatches = new AtomicLong();
    final AtomicLong scheduled = new AtomicLong();
    final AtomicLong unschedulable = new AtomicLong();
    final AtomicLong events = new AtomicLong();
    private volatile BooleanSupplier leader = () -> false;
    private volatile Supplier<Map<String, Long>> vmsByStatus = Map::of;
    private volatile Supplier<Map<Boolean, Long>> hostsByReadiness = Map::of;

    void leader(BooleanSupplier s) {
        leader = s;
    }

    void vmsByStatus(Supplier<Map<String, Long>> s) {
        vmsByStatus = s;
    }

    void hostsByReadiness(Supplier<Map<Boolean, Long>> s) {
        hostsByReadiness = s;
    }

    public long reconciliations() {
        return reconciliations.get();
    }

    public long domainApplies() {
        return domainApplies.get();
    }

    public long statusPatches() {
        return statusPatches.get();
    }

    /** The Prometheus text exposition. */
    public String scrape() {
        StringBuilder sb = new StringBuilder();
        gauge(sb, "virtfleet_operator_leader", "1 while this replica holds the leader Lease (or runs without election)",
                leader.getAsBoolean() ? 1 : 0);
        counter(sb, "virtfleet_operator_reconciliations_total", "VirtualMachine reconciliations", reconciliations);
        counter(sb, "virtfleet_operator_reconciliation_errors_total", "reconciliations that threw",
                reconciliationErrors);
        counter(sb, "virtfleet_operator_domain_applies_total", "server-side applies of Domains", domainApplies);
        counter(sb, "virtfleet_operator_domain_apply_errors_total", "failed server-side applies of Domains",
                domainApplyErrors);
        counter(sb, "virtfleet_operator_status_patches_total", "VirtualMachine status writes", statusPatches);
        counter(sb, "virtfleet_operator_events_total", "Kubernetes Events recorded", events);
        sb.append("# HELP virtfleet_operator_scheduling_decisions_total scheduling decisions by result\n")
                .append("# TYPE virtfleet_operator_scheduling_decisions_total counter\n")
                .append("virtfleet_operator_scheduling_decisions_total{result=\"scheduled\"} ").append(scheduled.get())
                .append('\n')
                .append("virtfleet_operator_scheduling_decisions_total{result=\"unschedulable\"} ")
                .append(unschedulable.get()).append('\n');
        sb.append("# HELP virtfleet_operator_virtualmachines VirtualMachines in the cache by status.printableStatus\n")
                .append("# TYPE virtfleet_operator_virtualmachines gauge\n");
        new TreeMap<>(vmsByStatus.get()).forEach((status, n) -> sb.append("virtfleet_operator_virtualmachines{status=\"")
                .append(escape(status)).append("\"} ").append(n).append('\n'));
        sb.append("# HELP virtfleet_operator_hosts Hosts by heartbeat readiness\n")
                .append("# TYPE virtfleet_operator_hosts gauge\n");
        Map<Boolean, Long> hosts = hostsByReadiness.get();
        sb.append("virtfleet_operator_hosts{ready=\"true\"} ").append(hosts.getOrDefault(true, 0L)).append('\n');
        sb.append("virtfleet_operator_hosts{ready=\"false\"} ").append(hosts.getOrDefault(false, 0L)).append('\n');
        return sb.toString();
    }

    private static void counter(StringBuilder sb, String name, String help, AtomicLong v) {
        sb.append("# HELP ").append(name).append(' ').append(help).append('\n')
                .append("# TYPE ").append(name).append(" counter\n")
                .append(name).append(' ').append(v.get()).append('\n');
    }

    private static void gauge(StringBuilder sb, String name, String help, long v) {
        sb.append("# HELP ").append(name).append(' ').append(help).append('\n')
                .append("# TYPE ").append(name).append(" gauge\n")
                .append(name).append(' ').append(v).append('\n');
    }

    private static String escape(String s) {
        return s == null ? "" : s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}
