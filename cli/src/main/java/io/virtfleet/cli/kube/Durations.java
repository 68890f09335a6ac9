package io.virtfleet.cli.kube;

import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** kubectl's duration syntax for {@code --timeout}: {@code 90s}, {@code 5m}, {@code 1h30m}, or plain seconds. */
public final class Durations {
    private static final Pattern PART = Pattern.compile("(\\d+)(h|m|s|ms)");

    public static Duration parse(String value) {
        String v = value == null ? "" : value.trim();
        if (v.matches("\\d+")) {
            return Duration.ofSeconds(Long.parseLong(v));
        }
        Matcher m = PART.matcher(v);
        Duration d = Duration.ZERO;
        int end = 0;
        while (m.find() && m.start() == end) {
            long n = Long.parseLong(m.group(1));
            d = d.plus(switch (m.group(2)) {
                case "h" -> Duration.ofHours(n);
                case "m" -> Duration.ofMinutes(n);
                case "ms" -> Duration.ofMillis(n);
                default -> Duration.ofSeconds(n);
            });
            end = m.end();
        }
        if (v.isEmpty() || end != v.length()) {
            throw new TypeConversionException("'" + value + "' is not a duration (e.g. 90s, 5m, 1h30m)");
        }
        return d;
    }

    /** 90s, 5m, 1h30m: as a person wrote it. */
    public static String format(Duration d) {
        long s = d.toSeconds();
        if (s < 60 || s % 60 != 0) {
            return s + "s";
        }
        long m = s / 60;
        return m < 60 || m % 60 != 0 ? m + "m" : (m / 60) + "h";
    }

    private Durations() {
    }

    /** For picocli, which needs an accessible constructor. */
    public static final class Converter implements ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            return parse(value);
        }
    }
}
