package io.virtfleet.agent;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.virtfleet.observability.Registries;

import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * The node agent's meters, in its own Micrometer Prometheus registry (one per agent: several agents may share a JVM),
 * served on {@code /metrics} with {@code --metrics-port}:
 * <ul>
 * <li>{@code virtfleet_agent_libvirt_call_seconds{op,result}} — a timer per libvirt operation ({@code define},
 * {@code start}, {@code shutdown}, {@code destroy}, {@code suspend}, {@code resume}, {@code undefine},
 * {@code detach}, {@code inspect}, {@code list}, {@code capabilities}, …), result {@code ok|error}</li>
 * <li>{@code virtfleet_agent_lifecycle_actions_total{action,result}} — define/start/shutdown/destroy/suspend/
 * resume/undefine issued to libvirt</li>
 * <li>{@code virtfleet_agent_domains{state}} — this host's Domains by the state the agent last reported</li>
 * <li>{@code virtfleet_agent_libvirt_connected}, {@code virtfleet_agent_libvirt_connections_total}</li>
 * <li>{@code virtfleet_agent_hotplug_operations_total{op,result}} — {@link #hotplug(String, String)}</li>
 * <li>{@code virtfleet_agent_genid_changes_total} — {@link #genidChanged()}</li>
 * </ul>
 * Code that has a {@link io.virtfleet.agent.libvirt.LibvirtConnection} reaches this through
 * {@code libvirt.metrics()}.
 */
public final class AgentMetrics {
    /** {@code Domain.status.state} values (plus {@code Unknown}: no status yet), always exported, 0 included. */
    static final List<String> STATES = List.of("Running", "Paused", "Shutoff", "Crashed", "ShuttingDown", "Blocked",
            "PMSuspended", "NotDefined", "Unknown");
    /** Hot-plug operations and results exported at 0 before the first one. */
    public static final List<String> HOTPLUG_OPS = List.of("attach", "detach", "update");
    public static final String OK = "ok";
    public static final String ERROR = "error";

    private final PrometheusMeterRegistry registry;
    private final MultiGauge domains;
    private final Counter genid;
    private volatile Supplier<Map<String, Long>> domainStates = Map::of;
    private volatile BooleanSupplier connected = () -> false;
    private volatile LongSupplier connections = () -> 0;

    /** Meters in a registry of their own, without the JVM's (for a LibvirtConnection used on its own). */
    public AgentMetrics() {
        this(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    }

    public AgentMetrics(PrometheusMeterRegistry registry) {
        this.registry = registry;
        domains = MultiGauge.builder("virtfleet.agent.domains")
                .description("Domains of this host by the libvirt state the agent last reported").register(registry);
        refreshDomains();
        Gauge.builder("virtfleet.agent.libvirt.connected", this, m -> m.connected.getAsBoolean() ? 1 : 0)
                .description("1 while the agent has a connection to libvirtd").register(registry);
        FunctionCounter.builder("virtfleet.agent.libvirt.connections", this, m -> m.connections.getAsLong())
                .description("connections established to libvirtd (1 + reconnects)").register(registry);
        for (String op : HOTPLUG_OPS) {
            hotplugCounter(op, OK);
            hotplugCounter(op, ERROR);
        }
        genid = Counter.builder("virtfleet.agent.genid.changes")
                .description("VM generation IDs changed by the agent (restore, clone, failover)").register(registry);
    }

    private Counter hotplugCounter(String op, String result) {
        return Counter.builder("virtfleet.agent.hotplug.operations")
                .description("device hot-plug operations by op (attach, detach, update) and result (ok, error)")
                .tags("op", op, "result", result).register(registry);
    }

    /** One hot-plug operation: {@code op} attach|detach|update, {@code result} {@link #OK}|{@link #ERROR}. */
    public void hotplug(String op, String result) {
        hotplugCounter(op, result).increment();
    }

    /** The agent gave a domain a new generation ID. */
    public void genidChanged() {
        genid.increment();
    }

    /** A lifecycle action issued to libvirt. */
    public void lifecycle(String action, String result) {
        Counter.builder("virtfleet.agent.lifecycle.actions")
                .description("lifecycle actions issued to libvirt by action and result").tags("action", action,
                        "result", result).register(registry).increment();
    }

    /** The timer of one libvirt operation. */
    public Timer libvirtCall(String op, String result) {
        return Timer.builder("virtfleet.agent.libvirt.call").description("libvirt API calls by operation")
                .tags("op", op, "result", result).register(registry);
    }

    void domainStates(Supplier<Map<String, Long>> s) {
        domainStates = s;
    }

    void libvirt(BooleanSupplier connected, LongSupplier connections) {
        this.connected = connected;
        this.connections = connections;
    }

    public MeterRegistry registry() {
        return registry;
    }

    /** The Prometheus text exposition (what {@code /metrics} serves). */
    public String scrape() {
        refreshDomains();
        return registry.scrape();
    }

    private synchronized void refreshDomains() {
        Registries.setCounts(domains, "state", STATES, domainStates.get());
    }
}
