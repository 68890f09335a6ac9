package io.virtfleet.e2e.reliability;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a fault-injection run measured: operations and faults by kind, convergence times, and violations. Pure data and
 * formatting (unit-tested), so the summary table is the same in the test log and in RELIABILITY.md.
 */
final class FaultReport {
    /** Convergence target after the faulted component is back. Slower is recorded, not failed. */
    static final double TARGET_SECONDS = 10.0;

    private final Map<String, Integer> ops = new TreeMap<>();
    private final Map<String, Integer> opsFailed = new TreeMap<>();
    private final Map<String, List<Double>> opSeconds = new TreeMap<>();
    private final Map<String, List<Double>> faultConvergence = new TreeMap<>();
    private final Map<String, List<Double>> faultBack = new TreeMap<>();
    private final List<String> violations = new ArrayList<>();
    private final List<String> slow = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();

    void operation(String kind, double seconds) {
        ops.merge(kind, 1, Integer::sum);
        opSeconds.computeIfAbsent(kind, k -> new ArrayList<>()).add(seconds);
    }

    /** An operation that ended in a terminal error (a snapshot failed because libvirtd died under it), not a hang. */
    void operationFailed(String kind, String detail) {
        opsFailed.merge(kind, 1, Integer::sum);
        notes.add(kind + " failed: " + detail);
    }

    /**
     * A fault and how long after the component was back everything converged; over {@code targetSeconds} is listed
     * as slow with its details (the allowance covers a designed delay such as the restart back-off).
     */
    void fault(String kind, double backSeconds, double convergenceSeconds, double targetSeconds, String detail) {
        faultBack.computeIfAbsent(kind, k -> new ArrayList<>()).add(backSeconds);
        faultConvergence.computeIfAbsent(kind, k -> new ArrayList<>()).add(convergenceSeconds);
        if (convergenceSeconds > targetSeconds) {
            slow.add(String.format(Locale.ROOT, "%s: %.1f s to converge (target %.0f s): %s", kind,
                    convergenceSeconds, targetSeconds, detail));
        }
    }

    void violation(String v) {
        violations.add(v);
    }

    void note(String n) {
        notes.add(n);
    }

    List<String> violations() {
        return List.copyOf(violations);
    }

    List<String> slow() {
        return List.copyOf(slow);
    }

    int operations() {
        return ops.values().stream().mapToInt(Integer::intValue).sum();
    }

    int faults() {
        return faultConvergence.values().stream().mapToInt(List::size).sum();
    }

    /** Nearest-rank percentile (p in 0..100) of the values; NaN when there are none. */
    static double percentile(List<Double> values, double p) {
        if (values.isEmpty()) {
            return Double.NaN;
        }
        List<Double> sorted = values.stream().sorted().toList();
        int rank = (int) Math.ceil(p / 100.0 * sorted.size());
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, rank - 1)));
    }

    private static String s(double v) {
        return Double.isNaN(v) ? "–" : String.format(Locale.ROOT, "%.1f", v);
    }

    /** The summary as Markdown: header lines, operation and fault tables, violations, slow convergences, notes. */
    String table(List<String> header) {
        StringBuilder b = new StringBuilder();
        for (String h : header) {
            b.append(h).append("\n");
        }
        b.append("\n| operation | count | ended in error | time to converge P50 / max (s) |\n|---|---|---|---|\n");
        for (var e : ops.entrySet()) {
            List<Double> t = opSeconds.get(e.getKey());
            b.append("| ").append(e.getKey()).append(" | ").append(e.getValue()).append(" | ")
                    .append(opsFailed.getOrDefault(e.getKey(), 0)).append(" | ").append(s(percentile(t, 50)))
                    .append(" / ").append(s(percentile(t, 100))).append(" |\n");
        }
        b.append("| **all** | ").append(operations()).append(" | ")
                .append(opsFailed.values().stream().mapToInt(Integer::intValue).sum()).append(" | |\n");
        b.append("\n| fault | count | back after P50 (s) | convergence after back P50 / P95 / max (s) ")
                .append("| over ")
                .append(s(TARGET_SECONDS)).append(" s |\n|---|---|---|---|---|\n");
        List<Double> all = new ArrayList<>();
        for (var e : faultConvergence.entrySet()) {
            List<Double> c = e.getValue();
            all.addAll(c);
            long over = slow.stream().filter(x -> x.startsWith(e.getKey() + ":")).count();
            b.append("| ").append(e.getKey()).append(" | ").append(c.size()).append(" | ")
                    .append(s(percentile(faultBack.get(e.getKey()), 50))).append(" | ").append(s(percentile(c, 50)))
                    .append(" / ").append(s(percentile(c, 95))).append(" / ").append(s(percentile(c, 100)))
                    .append(" | ").append(over).append(" |\n");
        }
        b.append("| **all** | ").append(all.size()).append(" | | ").append(s(percentile(all, 50))).append(" / ")
                .append(s(percentile(all, 95))).append(" / ").append(s(percentile(all, 100))).append(" | ")
                .append(slow.size()).append(" |\n");
        b.append("\nViolations: **").append(violations.size()).append("**\n");
        violations.forEach(v -> b.append("- ").append(v).append("\n"));
        if (!slow.isEmpty()) {
            b.append("\nSlower than the ").append(s(TARGET_SECONDS)).append(" s target:\n");
            slow.forEach(v -> b.append("- ").append(v).append("\n"));
        }
        if (!notes.isEmpty()) {
            b.append("\nNotes:\n");
            notes.forEach(v -> b.append("- ").append(v).append("\n"));
        }
        return b.toString();
    }

    static final String BEGIN = "<!-- fault-injection:last-run:begin -->";
    static final String END = "<!-- fault-injection:last-run:end -->";

    /** The document with the text between the last-run markers replaced (markers appended when missing). */
    static String splice(String document, String lastRun) {
        return splice(document, lastRun, BEGIN, END);
    }

    /** {@code text} between the markers {@code begin} and {@code end} (appended with them when absent). */
    static String splice(String document, String text, String begin, String end) {
        String block = begin + "\n" + text.strip() + "\n" + end;
        int b = document.indexOf(begin);
        int e = document.indexOf(end);
        if (b < 0 || e < b) {
            return document.stripTrailing() + "\n\n" + block + "\n";
        }
        return document.substring(0, b) + block + document.substring(e + end.length());
    }
}
