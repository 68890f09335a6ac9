package io.virtfleet.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What one scenario prints: a title, a table for people, notes (what exactly was measured, what was simulated), and
 * one machine-readable line {@code BENCH {"scenario":...}} with every figure. Doubles that are NaN become null.
 */
public final class Report {
    public static final String PREFIX = "BENCH ";
    public static final String OK = "ok";
    public static final String SKIPPED = "skipped";
    public static final String TODO = "todo";
    public static final String FAILED = "failed";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String scenario;
    private final String title;
    private final Map<String, Object> fields = new LinkedHashMap<>();
    private final List<String> header = new ArrayList<>();
    private final List<List<String>> rows = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();

    public Report(String scenario, String title) {
        this.scenario = scenario;
        this.title = title;
        fields.put("scenario", scenario);
        fields.put("status", OK);
    }

    public String scenario() {
        return scenario;
    }

    public Report status(String status) {
        fields.put("status", status);
        return this;
    }

    /** Marks the report {@link #SKIPPED} with {@code reason}, unless that is null; says whether it did. */
    public boolean skipped(String reason) {
        if (reason == null) {
            return false;
        }
        status(SKIPPED).put("reason", reason);
        return true;
    }

    public String status() {
        return (String) fields.get("status");
    }

    /** Adds a JSON field (a number, string, boolean, list or map; NaN doubles become null). */
    public Report put(String key, Object value) {
        fields.put(key, clean(value));
        return this;
    }

    public Object get(String key) {
        return fields.get(key);
    }

    public Report header(String... columns) {
        header.clear();
        header.addAll(List.of(columns));
        return this;
    }

    public Report row(Object... cells) {
        List<String> r = new ArrayList<>();
        for (Object c : cells) {
            r.add(format(c));
        }
        rows.add(r);
        return this;
    }

    public Report note(String note) {
        notes.add(note);
        return this;
    }

    public List<String> notes() {
        return notes;
    }

    /** The JSON line, without the prefix. */
    public String json() {
        try {
            return JSON.writeValueAsString(fields);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Prints the table, the notes and the BENCH line; appends the line to {@code jsonl} when not null. */
    public void emit(PrintStream out, Path jsonl) {
        out.println();
        out.println("== " + scenario + ": " + title + " ==");
        if (!header.isEmpty()) {
            int[] w = new int[header.size()];
            for (int i = 0; i < w.length; i++) {
                w[i] = header.get(i).length();
                for (List<String> r : rows) {
                    if (i < r.size()) {
                        w[i] = Math.max(w[i], r.get(i).length());
                    }
                }
            }
            out.println(line(header, w));
            StringBuilder sep = new StringBuilder();
            for (int i = 0; i < w.length; i++) {
                sep.append(i == 0 ? "" : "  ").append("-".repeat(w[i]));
            }
            out.println(sep);
            for (List<String> r : rows) {
                out.println(line(r, w));
            }
        }
        for (String n : notes) {
            out.println("  * " + n);
        }
        String line = PREFIX + json();
        out.println(line);
        out.flush();
        if (jsonl != null) {
            try {
                Files.writeString(jsonl, line.substring(PREFIX.length()) + "\n", StandardCharsets.UTF_8,
                        StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            } catch (IOException e) {
                out.println("  (cannot append to " + jsonl + ": " + e.getMessage() + ")");
            }
        }
    }

    private static String line(List<String> cells, int[] w) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < w.length; i++) {
            String c = i < cells.size() ? cells.get(i) : "";
            if (i > 0) {
                b.append("  ");
            }
            // First column left-aligned (labels), the rest right-aligned (numbers).
            b.append(i == 0 ? pad(c, w[i], false) : pad(c, w[i], true));
        }
        return b.toString().stripTrailing();
    }

    private static String pad(String s, int w, boolean right) {
        String fill = " ".repeat(Math.max(0, w - s.length()));
        return right ? fill + s : s + fill;
    }

    static String format(Object c) {
        if (c == null) {
            return "-";
        }
        if (c instanceof Double d) {
            if (d.isNaN()) {
                return "-";
            }
            double a = Math.abs(d);
            if (a >= 1000 || d == Math.rint(d) && a < 1e15) {
                return String.format("%,.0f", d);
            }
            return a >= 10 ? String.format("%.1f", d) : String.format("%.2f", d);
        }
        if (c instanceof Float f) {
            return format(f.doubleValue());
        }
        if (c instanceof Long || c instanceof Integer) {
            return String.format("%,d", ((Number) c).longValue());
        }
        return c.toString();
    }

    private static Object clean(Object v) {
        if (v instanceof Double d && (d.isNaN() || d.isInfinite())) {
            return null;
        }
        if (v instanceof Map<?, ?> m) {
            Map<Object, Object> out = new LinkedHashMap<>();
            m.forEach((k, x) -> out.put(k, clean(x)));
            return out;
        }
        if (v instanceof List<?> l) {
            List<Object> out = new ArrayList<>();
            l.forEach(x -> out.add(clean(x)));
            return out;
        }
        return v;
    }

    /** Parses a BENCH line (prefix optional) into a map: for tests and tools. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> parse(String line) {
        String j = line.startsWith(PREFIX) ? line.substring(PREFIX.length()) : line;
        try {
            return JSON.readValue(j, LinkedHashMap.class);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not a BENCH line: " + line, e);
        }
    }
}
