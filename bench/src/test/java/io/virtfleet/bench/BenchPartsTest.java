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
}
