package io.virtfleet.cli;

import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;

/** A kubectl-style table: left-aligned columns separated by three spaces. */
public final class Table {
    private final List<List<String>> rows = new ArrayList<>();

    public Table(String... header) {
        rows.add(List.of(header));
    }

    public void row(List<String> cells) {
        rows.add(List.copyOf(cells));
    }

    public void print(PrintWriter out) {
        int n = rows.get(0).size();
        int[] width = new int[n];
        for (List<String> r : rows) {
            for (int i = 0; i < n; i++) {
                width[i] = Math.max(width[i], r.get(i).length());
            }
        }
        for (List<String> r : rows) {
            StringBuilder b = new StringBuilder();
            for (int i = 0; i < n; i++) {
                b.append(r.get(i));
                if (i < n - 1) {
                    b.append(" ".repeat(width[i] - r.get(i).length() + 3));
                }
            }
            out.println(b.toString().stripTrailing());
        }
        out.flush();
    }

    /** kubectl's AGE: 45s, 12m, 3h, 5d. */
    public static String age(String creationTimestamp, Instant now) {
        if (creationTimestamp == null) {
            return "-";
        }
        try {
            Duration d = Duration.between(Instant.parse(creationTimestamp), now);
            long s = Math.max(0, d.toSeconds());
            return s < 120 ? s + "s" : s < 7200 ? s / 60 + "m" : s < 172800 ? s / 3600 + "h" : s / 86400 + "d";
        } catch (DateTimeParseException e) {
            return "-";
        }
    }
}
