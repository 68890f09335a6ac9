package io.virtfleet.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every scenario once at the tiny size (real control plane, real libvirtd, the operator in a child JVM): each must
 * print its BENCH line and not fail. Benchmarks are not pass/fail on figures, so no figure is checked — only that
 * the line is there, parses, and carries the scenario's main keys; and that nothing of the run is left in libvirt.
 */
class BenchSmokeTest {
    @TempDir
    Path out;

    @Test
    @Timeout(value = 170, unit = TimeUnit.SECONDS)
    void everyScenarioPrintsItsBenchLine() throws Exception {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream console = new PrintStream(buf, true, StandardCharsets.UTF_8);
        int code = Bench.run(console, "--tiny", "--out", out.toString());
        String text = buf.toString(StandardCharsets.UTF_8);
        System.out.println(text);

        Map<String, Map<String, Object>> lines = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            if (line.startsWith(Report.PREFIX)) {
                Map<String, Object> m = Report.parse(line);
                lines.put((String) m.get("scenario"), m);
            }
        }
        assertThat(lines.keySet()).containsAll(Bench.ORDER).contains("summary");
        for (String s : Bench.ORDER) {
            assertThat(lines.get(s).get("status")).as(s + ": " + lines.get(s))
                    .isIn(Report.OK, Report.TODO, Report.SKIPPED);
        }
        assertThat(code).isZero();
        assertThat(lines.get("render")).containsKeys("renders_per_s", "floor_jdk_serialize_per_s", "renders_per_cpu_s",
                "ratio_render_vs_floor");
        // Tiny size hot-plugs nothing (quick and full do): the scenario must still say so.
        assertThat(lines.get("hotplug")).containsEntry("status", Report.SKIPPED).containsKey("reason");
        assertThat(lines.get("render")).containsKeys("plan_per_s", "plan_from_xml_per_s");
        if (Report.OK.equals(lines.get("start").get("status"))) {
            assertThat(lines.get("start")).containsKeys("p50_ms", "floor_p50_ms", "ratio_p50", "overhead_p50_ms");
            assertThat(Files.exists(Path.of((String) lines.get("start").get("svg")))).isTrue();
        }
        if (Report.OK.equals(lines.get("overhead").get("status"))) {
            assertThat(lines.get("overhead")).containsKeys("agent_rss_per_vm_mib", "qemu_rss_per_vm_mib");
        }
        assertThat(lines.get("scale")).containsKeys("render_all_s", "resync_s", "rss_steady_mib",
                "api_requests_per_vm");
        assertThat(Files.readAllLines(out.resolve("results.jsonl"))).hasSize(Bench.ORDER.size() + 1);

        // Clean-up: no domain of any bench run of this JVM is left in libvirt.
        if (RawLibvirt.unavailable() == null) {
            try (RawLibvirt lv = RawLibvirt.open()) {
                List<String> left = new ArrayList<>(lv.names("bench-" + ProcessHandle.current().pid() + "-"));
                assertThat(left).as("libvirt domains left behind").isEmpty();
            }
        }
    }
}
