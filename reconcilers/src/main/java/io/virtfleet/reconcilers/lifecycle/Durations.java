package io.virtfleet.reconcilers.lifecycle;

import java.time.Duration;

/** Durations as the command lines take them: {@code 15s}, {@code 500ms}, {@code 2m}, {@code 1h}, or ISO-8601 {@code PT15S}. */
public final class Durations {
    private Durations() {
    }

    /** @throws IllegalArgumentException naming the value and the accepted forms */
    public static Duration parse(String s) {
        String t = s == null ? "" : s.strip();
        try {
            if (t.startsWith("P") || t.startsWith("p")) {
                return Duration.parse(t);
            }
            if (t.endsWith("ms")) {
                return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
            }
            long n = Long.parseLong(t.substring(0, t.length() - 1));
            return switch (t.charAt(t.length() - 1)) {
                case 's' -> Duration.ofSeconds(n);
                case 'm' -> Duration.ofMinutes(n);
                case 'h' -> Duration.ofHours(n);
                default -> throw new IllegalArgumentException();
            };
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("invalid duration '" + s + "' (use e.g. 15s, 500ms, 2m, 1h)");
        }
    }
}
