package io.virtfleet.observability;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * A small reader of the Prometheus text format (0.0.4) for tests: the Prometheus Java client writes it but
 * has no parser. Comments ({@code # HELP}, {@code # TYPE}) are kept as the metric family's type.
 */
public final class PrometheusText {
    /** One sample line. */
    public record Sample(String name, Map<String, String> labels, double value) {
        /** True when every given label (name, value, name, value, …) matches. */
        public boolean has(String... labelPairs) {
            for (int i = 0; i + 1 < labelPairs.length; i += 2) {
                if (!labelPairs[i + 1].equals(labels.get(labelPairs[i]))) {
                    return false;
                }
            }
            return true;
        }
    }

    private final List<Sample> samples;
    private final Map<String, String> types;

    private PrometheusText(List<Sample> samples, Map<String, String> types) {
        this.samples = samples;
        this.types = types;
    }

    public static PrometheusText parse(String text) {
        List<Sample> out = new ArrayList<>();
        Map<String, String> types = new LinkedHashMap<>();
        int lineNo = 0;
        for (String line : text.split("\n")) {
            lineNo++;
            line = line.strip();
            if (line.isEmpty()) {
                continue;
            }
            if (line.startsWith("#")) {
                String[] p = line.split("\\s+", 4);
                if (p.length >= 4 && p[1].equals("TYPE")) {
                    types.put(p[2], p[3]);
                }
                continue;
            }
            try {
                out.add(sample(line));
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("line " + lineNo + " is not a Prometheus sample: " + line, e);
            }
        }
        return new PrometheusText(Collections.unmodifiableList(out), Collections.unmodifiableMap(types));
    }

    private static Sample sample(String line) {
        int i = 0;
        while (i < line.length() && line.charAt(i) != '{' && !Character.isWhitespace(line.charAt(i))) {
            i++;
        }
        String name = line.substring(0, i);
        if (name.isEmpty()) {
            throw new IllegalArgumentException("no metric name");
        }
        Map<String, String> labels = new LinkedHashMap<>();
        if (i < line.length() && line.charAt(i) == '{') {
            i++;
            while (true) {
                while (line.charAt(i) == ',' || line.charAt(i) == ' ') {
                    i++;
                }
                if (line.charAt(i) == '}') {
                    i++;
                    break;
                }
                int eq = line.indexOf('=', i);
                String key = line.substring(i, eq).strip();
                i = eq + 1;
                if (line.charAt(i) != '"') {
                    throw new IllegalArgumentException("label value not quoted");
                }
                i++;
                StringBuilder v = new StringBuilder();
                while (line.charAt(i) != '"') {
                    char c = line.charAt(i++);
                    if (c == '\\') {
                        char e = line.charAt(i++);
                        v.append(e == 'n' ? '\n' : e);
                    } else {
                        v.append(c);
                    }
                }
                i++;
                labels.put(key, v.toString());
            }
        }
        String[] rest = line.substring(i).strip().split("\\s+");
        return new Sample(name, Collections.unmodifiableMap(labels), value(rest[0]));
    }

    private static double value(String s) {
        return switch (s) {
            case "+Inf", "Inf" -> Double.POSITIVE_INFINITY;
            case "-Inf" -> Double.NEGATIVE_INFINITY;
            case "NaN" -> Double.NaN;
            default -> Double.parseDouble(s);
        };
    }

    public List<Sample> samples() {
        return samples;
    }

    /** The samples of this series name (exact, e.g. {@code x_seconds_count}) with these labels (name, value, …). */
    public List<Sample> samples(String name, String... labelPairs) {
        return samples.stream().filter(s -> s.name().equals(name) && s.has(labelPairs)).toList();
    }

    /** The single sample's value, if exactly one matches. */
    public OptionalDouble value(String name, String... labelPairs) {
        List<Sample> m = samples(name, labelPairs);
        return m.size() == 1 ? OptionalDouble.of(m.get(0).value()) : OptionalDouble.empty();
    }

    /** The sum over every matching sample (0 when none). */
    public double sum(String name, String... labelPairs) {
        return samples(name, labelPairs).stream().mapToDouble(Sample::value).sum();
    }

    /** The {@code # TYPE} of a metric family ({@code counter}, {@code gauge}, {@code summary}, …). */
    public Optional<String> type(String family) {
        return Optional.ofNullable(types.get(family));
    }
}
