package io.virtfleet.bench;

import org.junit.jupiter.api.Test;

import javax.xml.parsers.DocumentBuilderFactory;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The arithmetic and formats the figures rest on. */
class BenchPartsTest {
    @Test
    void nearestRankPercentilesAndSlope() {
        List<Integer> v = List.of(5, 1, 4, 2, 3, 10, 9, 8, 7, 6);
        assertThat(Stats.percentile(v, 50)).isEqualTo(5.0);
        assertThat(Stats.percentile(v, 95)).isEqualTo(10.0);
        assertThat(Stats.percentile(v, 10)).isEqualTo(1.0);
        assertThat(Stats.percentile(List.of(), 50)).isNaN();
        assertThat(Stats.median(List.of(1, 2, 3, 4))).isEqualTo(2.5);
        assertThat(Stats.slope(List.of(0, 1, 2, 3), List.of(10.0, 12.0, 14.0, 16.0))).isEqualTo(2.0);
        assertThat(Stats.slope(List.of(1), List.of(1))).isNaN();
    }

    @Test
    void operatorRequestsAreTheApiserversMinusTheBenchsOwn() {
        Map<String, Long> before = Map.of("APPLY domains", 10L, "POST events", 5L);
        Map<String, Long> after = Map.of("APPLY domains", 30L, "POST events", 8L, "LIST domains", 1L,
                "APPLY leases", 40L, "APPLY virtualmachines", 7L);
        Map<String, Long> delta = ApiCounter.only(ApiCounter.delta(before, after),
                ControllerScale.OPERATOR_RESOURCES);
        assertThat(delta).containsOnlyKeys("APPLY domains", "POST events", "LIST domains", "APPLY virtualmachines");
        Map<String, Long> ops = ApiCounter.minus(delta, Map.of("APPLY virtualmachines", 5L, "GET domains", 9L));
        assertThat(ops).containsEntry("APPLY domains", 20L).containsEntry("APPLY virtualmachines", 2L);
        assertThat(ApiCounter.sum(ops)).isEqualTo(20 + 3 + 1 + 2);
        assertThat(ApiCounter.writes(ops)).isEqualTo(20 + 3 + 2);
    }

    @Test
    void benchLineRoundTripsWithNaNsAsNull() {
        Report r = new Report("x", "title").put("a", 1.5).put("b", Double.NaN).put("c", List.of(1.0, Double.NaN));
        Map<String, Object> m = Report.parse(Report.PREFIX + r.json());
        assertThat(m).containsEntry("scenario", "x").containsEntry("status", "ok").containsEntry("a", 1.5)
                .containsEntry("b", null);
        assertThat(m.get("c")).isEqualTo(java.util.Arrays.asList(1.0, null));
    }

    @Test
    void svgIsWellFormedXml() throws Exception {
        String svg = Svg.render("t <&>", "x", "y", List.of(Svg.cdf("a", List.of(3, 1, 2)), Svg.vline("v", 2.5),
                new Svg.Series("s", List.of(new double[] {0, 0}, new double[] {5, 5000}), false, false)), null);
        var doc = DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
        assertThat(doc.getDocumentElement().getTagName()).isEqualTo("svg");
        assertThat(Svg.nice(5250)).isEqualTo(6000.0);
        assertThat(Svg.nice(617)).isEqualTo(800.0);
    }

    @Test
    void theTargetsTableJudgesEachFigureAgainstItsFloorFromTheSameRun() {
        Report start = new Report("start", "t").put("n", 5).put("p50_ms", 1000.0).put("floor_p50_ms", 900.0)
                .put("p95_ms", 1500.0).put("floor_p95_ms", 1000.0);
        Report hot = new Report("hotplug", "t").put("p50_ms", 40.0).put("floor_p50_ms", 15.0);
        Report render = new Report("render", "t").put("renders_per_cpu_s", 120_000.0)
                .put("floor_jdk_serialize_per_cpu_s", 20_000.0);
        Report scale = new Report("scale", "t").put("vms", 2000).put("hosts", 80).put("resync_s", 8.0)
                .put("floor_resync_s", 4.0).put("rss_steady_mib", 280.0).put("rss_after_resync_mib", 310.0)
                .put("rss_idle_mib", 200.0).put("render_all_s", 30.0).put("floor_write_domains_s", 10.0)
                .put("api_writes_per_vm", 3.0);
        Map<String, Targets.Row> rows = new java.util.LinkedHashMap<>();
        for (Targets.Row r : Targets.rows(List.of(render, start, hot, scale))) {
            rows.put(r.target().replaceAll(" \\(.*", ""), r);
        }
        assertThat(rows).hasSize(8);
        assertThat(rows.get("start: apply → Ready P50").met()).isTrue(); // 1000 <= 900 + 150
        assertThat(rows.get("start: apply → Ready P50").margin()).isEqualTo(50.0);
        assertThat(rows.get("start: apply → Ready P95").met()).isFalse(); // 1500 > 1.2 * 1000 + 100
        assertThat(rows.get("start: apply → Ready P95").ratio()).isEqualTo(1.5);
        assertThat(rows.get("hot-plug: apply → disk in live XML P50").met()).isFalse(); // 40 > 15 + 20
        assertThat(rows.get("render: seed-004 per second per core").met()).isTrue();
        assertThat(rows.get("scale: restart → full resync").met()).isTrue();
        assertThat(rows.get("scale: operator RSS, steady").measured()).isEqualTo(310.0); // the larger reading
        assertThat(rows.get("scale: operator RSS, steady").met()).isFalse();
        assertThat(rows.get("scale: first apply → all Domains rendered").met()).isFalse(); // 30 > 2 * 10
        assertThat(rows.get("scale: operator API writes per VM").met()).isTrue();

        // A skipped scenario is "not run", with its reason, never met or missed.
        Report skipped = new Report("hotplug", "t").status(Report.SKIPPED).put("reason", "no libvirt");
        Targets.Row h = Targets.rows(List.of(skipped)).stream().filter(r -> r.target().startsWith("hot-plug"))
                .findFirst().orElseThrow();
        assertThat(h.met()).isNull();
        assertThat(h.verdict()).isEqualTo("not run (skipped: no libvirt)");

        Report summary = new Report("summary", "t");
        Targets.addTo(summary, List.of(render, start, hot, scale));
        assertThat(summary.get("targets_met")).isEqualTo(4);
        assertThat(summary.get("targets_missed")).isEqualTo(4);
    }
}
