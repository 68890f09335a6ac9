package io.virtfleet.operator;

import io.javaoperatorsdk.operator.api.monitoring.Metrics;
import io.javaoperatorsdk.operator.monitoring.micrometer.MicrometerMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.virtfleet.observability.Registries;
import io.virtfleet.reconcilers.genid.GenidPolicy;
import io.virtfleet.reconcilers.lifecycle.PrintableStatus;

import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The operator's meters, in its own Micrometer Prometheus registry (one per operator, never the global one), exposed
 * on {@code /metrics}. JOSDK's {@link MicrometerMetrics} ({@link #josdk()}) counts and times the reconciliations
 * of every controller ({@code operator_sdk_reconciliations_{started,success,failed}_total},
 * {@code operator_sdk_controllers_execution_reconcile_seconds}, tagged with the resource's {@code kind}) in the same
 * registry, so virtfleet does not count them again; the {@code virtfleet_operator_*} series are what JOSDK cannot
 * see:
 * <ul>
 * <li>{@code virtfleet_operator_leader} gauge, 1 while this replica reconciles</li>
 * <li>{@code virtfleet_operator_domain_applies_total}, {@code …_domain_apply_errors_total},
 * {@code …_status_patches_total}, {@code …_events_total}</li>
 * <li>{@code virtfleet_operator_scheduling_decisions_total{result=scheduled|unschedulable}}</li>
 * <li>{@code virtfleet_operator_virtualmachines{status=<printableStatus>}} gauge (every known status, 0 included)</li>
 * <li>{@code virtfleet_operator_hosts{ready=true|false}} gauge</li>
 * <li>{@code virtfleet_operator_genid_changes_total{reason}}: every change of a VM's generation ID the operator
 * records in {@code status.genidHistory} (the first genid, Created, is not a change)</li>
 * </ul>
 * The counters stay plain {@link AtomicLong}s the reconciler increments (read by function counters), so the hot path
 * does not look meters up.
 */
public final class OperatorMetrics {
    private static final List<String> STATUSES = List.of(PrintableStatus.PENDING, PrintableStatus.SCHEDULING,
            PrintableStatus.STARTING, PrintableStatus.RUNNING, PrintableStatus.PAUSED, PrintableStatus.STOPPING,
            PrintableStatus.STOPPED, PrintableStatus.FAILED, PrintableStatus.MIGRATING, PrintableStatus.UNKNOWN);
    /** Exported at 0 before the first change, so a rate() has a start. */
    private static final List<String> GENID_REASONS = List.of(GenidPolicy.REASON_SNAPSHOT_RESTORED,
            GenidPolicy.REASON_BACKUP_RESTORED, GenidPolicy.REASON_CLONED, GenidPolicy.REASON_IMPORTED,
            GenidPolicy.REASON_FAILOVER, GenidPolicy.REASON_EXTERNAL);

    final AtomicLong domainApplies = new AtomicLong();
    final AtomicLong domainApplyErrors = new AtomicLong();
    final AtomicLong statusPatches = new AtomicLong();
    final AtomicLong scheduled = new AtomicLong();
    final AtomicLong unschedulable = new AtomicLong();
    final AtomicLong events = new AtomicLong();
    private volatile BooleanSupplier leader = () -> false;
    private volatile Supplier<Map<String, Long>> vmsByStatus = Map::of;
    private volatile Supplier<Map<Boolean, Long>> hostsByReadiness = Map::of;

    private final PrometheusMeterRegistry registry;
    private final MultiGauge vms;
    private final MicrometerMetrics josdk;

    public OperatorMetrics() {
        this(Registries.prometheus());
    }

    OperatorMetrics(PrometheusMeterRegistry registry) {
        this.registry = registry;
        Gauge.builder("virtfleet.operator.leader", this, m -> m.leader.getAsBoolean() ? 1 : 0)
                .description("1 while this replica holds the leader Lease (or runs without election)")
                .register(registry);
        counter("virtfleet.operator.domain.applies", "server-side applies of Domains", domainApplies, Tags.empty());
        counter("virtfleet.operator.domain.apply.errors", "failed server-side applies of Domains", domainApplyErrors,
                Tags.empty());
        counter("virtfleet.operator.status.patches", "VirtualMachine status writes", statusPatches, Tags.empty());
        counter("virtfleet.operator.events", "Kubernetes Events recorded", events, Tags.empty());
        counter("virtfleet.operator.scheduling.decisions", "scheduling decisions by result", scheduled,
                Tags.of("result", "scheduled"));
        counter("virtfleet.operator.scheduling.decisions", "scheduling decisions by result", unschedulable,
                Tags.of("result", "unschedulable"));
        vms = MultiGauge.builder("virtfleet.operator.virtualmachines")
                .description("VirtualMachines in the cache by status.printableStatus").register(registry);
        refreshVms();
        for (boolean ready : new boolean[]{true, false}) {
            Gauge.builder("virtfleet.operator.hosts", this,
                            m -> m.hostsByReadiness.get().getOrDefault(ready, 0L).doubleValue())
                    .description("Hosts by heartbeat readiness").tag("ready", String.valueOf(ready))
                    .register(registry);
        }
        for (String reason : GENID_REASONS) {
            genidCounter(reason);
        }
        josdk = MicrometerMetrics.withoutPerResourceMetrics(registry);
    }

    private Counter genidCounter(String reason) {
        return Counter.builder("virtfleet.operator.genid.changes")
                .description("VM generation ID changes recorded in status.genidHistory, by reason")
                .tag("reason", reason).register(registry);
    }

    /** A VM's status now records a genid change with this reason (SnapshotRestored, Failover, ...). */
    void genidChanged(String reason) {
        genidCounter(reason == null ? GenidPolicy.REASON_EXTERNAL : reason).increment();
    }

    /** Count of {@link #genidChanged} for one reason (tests). */
    public double genidChanges(String reason) {
        return genidCounter(reason).count();
    }

    private void counter(String name, String help, AtomicLong value, Tags tags) {
        FunctionCounter.builder(name, value, AtomicLong::doubleValue).description(help).tags(tags).register(registry);
    }

    void leader(BooleanSupplier s) {
        leader = s;
    }

    void vmsByStatus(Supplier<Map<String, Long>> s) {
        vmsByStatus = s;
    }

    void hostsByReadiness(Supplier<Map<Boolean, Long>> s) {
        hostsByReadiness = s;
    }

    /** JOSDK's metrics on this registry (reconciliation counts, durations, failures), for the operator's config. */
    Metrics josdk() {
        return josdk;
    }

    /** The registry behind {@code /metrics} (tests, embedding). */
    public MeterRegistry registry() {
        return registry;
    }

    /** VirtualMachine reconciliations JOSDK started ({@code operator_sdk_reconciliations_started_total}). */
    public long reconciliations() {
        return (long) registry.find("operator.sdk.reconciliations.started").tag("kind", "VirtualMachine").counters()
                .stream().mapToDouble(Counter::count).sum();
    }

    public long domainApplies() {
        return domainApplies.get();
    }

    public long statusPatches() {
        return statusPatches.get();
    }

    /** The Prometheus text exposition (what {@code /metrics} serves). */
    public String scrape() {
        refreshVms();
        return registry.scrape();
    }

    /** Statuses come and go with the VMs: the gauge's rows are rebuilt from the cache on each scrape. */
    private synchronized void refreshVms() {
        Registries.setCounts(vms, "status", STATUSES, vmsByStatus.get());
    }
}
