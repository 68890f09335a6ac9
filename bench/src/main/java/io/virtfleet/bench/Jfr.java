package io.virtfleet.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** A summary of a JFR recording: the most sampled top frames ({@code jfr print --events jdk.ExecutionSample}). */
public final class Jfr {
    private Jfr() {
    }

    /** JVM options that record the whole life of the process into {@code file}. */
    public static List<String> options(Path file) {
        return List.of("-XX:+FlightRecorder", "-XX:StartFlightRecording=settings=profile,filename=" + file
                + ",dumponexit=true");
    }

    /**
     * Top frames by sample count: {@code top} = the executing method; {@code virtfleet} = the first io.virtfleet
     * frame of each stack (which of virtfleet's own code paths the time is spent under).
     */
    public static Map<String, Map<String, Long>> summarize(Path recording, int limit) throws IOException,
            InterruptedException {
        Path jfr = Path.of(System.getProperty("java.home"), "bin", "jfr");
        Path text = Files.createTempFile("bench-jfr", ".txt");
        try {
            Process p = new ProcessBuilder(jfr.toString(), "print", "--events", "jdk.ExecutionSample",
                    "--stack-depth", "64", recording.toString()).redirectErrorStream(true)
                    .redirectOutput(text.toFile()).start();
            if (!p.waitFor(300, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
            Map<String, Long> top = new HashMap<>();
            Map<String, Long> ours = new HashMap<>();
            long samples = 0;
            boolean inStack = false;
            boolean first = false;
            boolean oursSeen = false;
            for (String line : Files.readAllLines(text, StandardCharsets.UTF_8)) {
                String t = line.trim();
                if (t.startsWith("stackTrace = [")) {
                    inStack = true;
                    first = true;
                    oursSeen = false;
                    samples++;
                    continue;
                }
                if (!inStack) {
                    continue;
                }
                if (t.startsWith("]")) {
                    inStack = false;
                    continue;
                }
                String frame = t.replaceAll("\\s+line:.*$", "");
                if (first) {
                    top.merge(frame, 1L, Long::sum);
                    first = false;
                }
                if (!oursSeen && frame.startsWith("io.virtfleet.")) {
                    ours.merge(frame, 1L, Long::sum);
                    oursSeen = true;
                }
            }
            Map<String, Map<String, Long>> out = new LinkedHashMap<>();
            out.put("samples", Map.of("total", samples));
            out.put("top", first(top, limit));
            out.put("virtfleet", first(ours, limit));
            return out;
        } finally {
            Files.deleteIfExists(text);
        }
    }

    private static Map<String, Long> first(Map<String, Long> m, int limit) {
        List<Map.Entry<String, Long>> e = new ArrayList<>(m.entrySet());
        e.sort((a, b) -> Long.compare(b.getValue(), a.getValue()));
        Map<String, Long> out = new LinkedHashMap<>();
        for (int i = 0; i < Math.min(limit, e.size()); i++) {
            out.put(e.get(i).getKey(), e.get(i).getValue());
        }
        return out;
    }
}
