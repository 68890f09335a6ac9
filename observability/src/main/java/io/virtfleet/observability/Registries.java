package io.virtfleet.observability;

import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One Prometheus registry per process component (never the global registry: tests run several operators and agents
 * in one JVM, and each must expose only its own series).
 */
public final class Registries {
    private Registries() {
    }

    /** A new Prometheus registry with the JVM's memory, thread, CPU and uptime meters bound. */
    public static PrometheusMeterRegistry prometheus() {
        PrometheusMeterRegistry r = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        new JvmMemoryMetrics().bindTo(r);
        new JvmThreadMetrics().bindTo(r);
        new ProcessorMetrics().bindTo(r);
        new UptimeMetrics().bindTo(r);
        return r;
    }

    /**
     * Replaces {@code gauge}'s rows with one row per value of {@code tag}: every {@code known} value (0 when absent,
     * so a series does not vanish when its count drops to nothing) and every value {@code counts} has, in name order.
     * Values come and go with the objects counted, so the rows are rebuilt (overwritten) on each scrape.
     */
    public static void setCounts(MultiGauge gauge, String tag, Collection<String> known, Map<String, Long> counts) {
        Map<String, Long> all = new TreeMap<>();
        known.forEach(k -> all.put(k, 0L));
        all.putAll(counts);
        List<MultiGauge.Row<?>> rows = new ArrayList<>();
        all.forEach((value, n) -> rows.add(MultiGauge.Row.of(Tags.of(tag, value), n)));
        gauge.register(rows, true);
    }
}
