package io.virtfleet.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The one table a run ends with: every performance target, what was measured, the floor measured in the same run,
 * the ratio to it, the target (itself stated against the floor where it depends on the machine), the margin and
 * met/missed. Pure: built from the scenarios' BENCH fields, so it says nothing a scenario's own line does not.
 */
public final class Targets {
    /** start: P50 ≤ floor P50 + this, at 5 VMs applied 100 ms apart. */
    public static final double START_P50_OVERHEAD_MS = 150;
    /** start: P95 ≤ this × floor P95 + {@link #START_P95_PLUS_MS}, at 20 VMs applied 100 ms apart. */
    public static final double START_P95_FACTOR = 1.2;
    public static final double START_P95_PLUS_MS = 100;
    /** hot-plug: P50 ≤ floor P50 + this. */
    public static final double HOTPLUG_P50_OVERHEAD_MS = 20;
    /** render: seed-004 renders per second per core, at least. */
    public static final double RENDERS_PER_S = 100_000;
    /** scale (10,000 VMs over 500 hosts): restart → full resync within this. */
    public static final double SCALE_RESYNC_S = 10;
    /** scale: steady operator RSS at most. */
    public static final double SCALE_RSS_MIB = 300;
    /** scale: first apply → all Domains rendered within this × the plain client's time for the same writes. */
    public static final double SCALE_RENDER_ALL_FACTOR = 2;
    /** scale: operator API writes per VM at most. */
    public static final double SCALE_WRITES_PER_VM = 3;

    /** One row of the table. {@code met} null: not measured in this run. */
    public record Row(String target, Double measured, Double floor, String unit, String goal, Double limit,
                      boolean atMost, String note, Boolean met) {
        Double ratio() {
            return measured == null || floor == null || floor == 0 ? null : measured / floor;
        }

        /** How far inside (positive) or outside (negative) the limit the measurement is, in the figure's unit. */
        Double margin() {
            return measured == null || limit == null ? null : atMost ? limit - measured : measured - limit;
        }

        String verdict() {
            return met == null ? "not run" + (note == null ? "" : " (" + note + ")") : met ? "met" : "MISSED";
        }
    }

    private Targets() {
    }

    /** The rows for these scenario reports (any order; scenarios not in the run give "not run" rows). */
    public static List<Row> rows(List<Report> reports) {
        Map<String, Report> by = new LinkedHashMap<>();
        for (Report r : reports) {
            by.put(r.scenario(), r);
        }
        List<Row> out = new ArrayList<>();
        Report start = usable(by.get("start"));
        String n = start == null ? "" : " (" + count(start, "n") + " VMs, 100 ms apart)";
        Double sP50 = num(start, "p50_ms");
        Double sF50 = num(start, "floor_p50_ms");
        out.add(row("start: apply → Ready P50" + n, sP50, sF50, "ms", "≤ floor + 150 ms",
                sF50 == null ? null : sF50 + START_P50_OVERHEAD_MS, true, why(by.get("start"))));
        Double sP95 = num(start, "p95_ms");
        Double sF95 = num(start, "floor_p95_ms");
        out.add(row("start: apply → Ready P95" + n, sP95, sF95, "ms", "≤ 1.2 × floor + 100 ms (at 20 VMs)",
                sF95 == null ? null : START_P95_FACTOR * sF95 + START_P95_PLUS_MS, true, why(by.get("start"))));

        Report hot = usable(by.get("hotplug"));
        Double hP50 = num(hot, "p50_ms");
        Double hF50 = num(hot, "floor_p50_ms");
        out.add(row("hot-plug: apply → disk in live XML P50", hP50, hF50, "ms", "≤ floor + 20 ms",
                hF50 == null ? null : hF50 + HOTPLUG_P50_OVERHEAD_MS, true, why(by.get("hotplug"))));

        Report render = usable(by.get("render"));
        out.add(row("render: seed-004 per second per core (CPU time)", num(render, "renders_per_cpu_s"),
                num(render, "floor_jdk_serialize_per_cpu_s"), "/s", "≥ 100,000", render == null ? null
                        : RENDERS_PER_S, false, why(by.get("render"))));

        Report scale = usable(by.get("scale"));
        String size = scale == null ? "" : " (" + count(scale, "vms") + " VMs / " + count(scale, "hosts") + " hosts)";
        out.add(row("scale: restart → full resync" + size, num(scale, "resync_s"), num(scale, "floor_resync_s"),
                "s", "≤ 10 s (at 10,000 VMs)", scale == null ? null : SCALE_RESYNC_S, true, why(by.get("scale"))));
        Double rss = scale == null ? null : max(num(scale, "rss_steady_mib"), num(scale, "rss_after_resync_mib"));
        out.add(row("scale: operator RSS, steady" + size, rss, num(scale, "rss_idle_mib"), "MiB",
                "≤ 300 MiB (at 10,000 VMs)", scale == null ? null : SCALE_RSS_MIB, true, why(by.get("scale"))));
        Double wF = num(scale, "floor_write_domains_s");
        out.add(row("scale: first apply → all Domains rendered" + size, num(scale, "render_all_s"), wF, "s",
                "≤ 2 × floor", wF == null ? null : SCALE_RENDER_ALL_FACTOR * wF, true, why(by.get("scale"))));
        out.add(row("scale: operator API writes per VM" + size, num(scale, "api_writes_per_vm"),
                scale == null ? null : 1.0, "", "≤ 3", scale == null ? null : SCALE_WRITES_PER_VM, true,
                why(by.get("scale"))));
        return out;
    }

    /** The summary report of a run: the targets table, and each row in its BENCH line under "targets". */
    public static void addTo(Report summary, List<Report> reports) {
        List<Row> rows = rows(reports);
        summary.header("target", "measured", "floor", "ratio", "goal", "limit", "margin", "verdict");
        List<Map<String, Object>> json = new ArrayList<>();
        int met = 0;
        int missed = 0;
        for (Row r : rows) {
            summary.row(r.target(), withUnit(r.measured(), r.unit()), withUnit(r.floor(), r.unit()), r.ratio(),
                    r.goal(), withUnit(r.limit(), r.unit()), signed(r.margin(), r.unit()), r.verdict());
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("target", r.target());
            m.put("measured", r.measured() == null ? null : Stats.round(r.measured(), 2));
            m.put("floor", r.floor() == null ? null : Stats.round(r.floor(), 2));
            m.put("ratio", r.ratio() == null ? null : Stats.round(r.ratio(), 3));
            m.put("goal", r.goal());
            m.put("limit", r.limit() == null ? null : Stats.round(r.limit(), 2));
            m.put("margin", r.margin() == null ? null : Stats.round(r.margin(), 2));
            m.put("met", r.met());
            json.add(m);
            if (Boolean.TRUE.equals(r.met())) {
                met++;
            } else if (Boolean.FALSE.equals(r.met())) {
                missed++;
            }
        }
        summary.put("targets", json).put("targets_met", met).put("targets_missed", missed);
        summary.note("floors are measured in the same run on the same machine; where a target depends on the "
                + "machine it is stated against its floor. margin > 0: inside the target");
        summary.note("the start P95 target is stated at 20 VMs and the scale targets at 10,000 VMs over 500 hosts; "
                + "a smaller run (--quick) checks them at its own size");
    }

    private static Row row(String target, Double measured, Double floor, String unit, String goal, Double limit,
                           boolean atMost, String whyNot) {
        Boolean met = measured == null || limit == null ? null : atMost ? measured <= limit : measured >= limit;
        return new Row(target, measured, floor, unit, goal, limit, atMost, met == null ? whyNot : null, met);
    }

    private static Report usable(Report r) {
        return r != null && Report.OK.equals(r.status()) ? r : null;
    }

    private static String why(Report r) {
        if (r == null) {
            return "not in this run";
        }
        Object reason = r.get("reason") != null ? r.get("reason") : r.get("error");
        String text = reason == null ? "" : reason.toString();
        // The scenario's own line has all of it; the table keeps to one readable column.
        return r.status() + (text.isEmpty() ? "" : ": " + (text.length() > 60 ? text.substring(0, 57) + "..." : text));
    }

    private static Double num(Report r, String key) {
        Object v = r == null ? null : r.get(key);
        return v instanceof Number x ? x.doubleValue() : null;
    }

    private static String count(Report r, String key) {
        Double v = num(r, key);
        return v == null ? "?" : String.format("%,d", v.longValue());
    }

    private static Double max(Double a, Double b) {
        return a == null ? b : b == null ? a : Math.max(a, b);
    }

    private static String withUnit(Double v, String unit) {
        return v == null ? null : Report.format(v) + (unit.isEmpty() || unit.startsWith("/") ? unit : " " + unit);
    }

    private static String signed(Double v, String unit) {
        return v == null ? null : (v >= 0 ? "+" : "") + withUnit(v, unit);
    }
}
