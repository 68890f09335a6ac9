package io.virtfleet.reconcilers.lifecycle;

import java.util.Locale;

/**
 * A parsed {@link LifecycleAnnotations#REQUEST} value: {@code start}, {@code stop} or {@code restart}, optionally
 * followed by {@code /<nonce>}. An unrecognised verb parses to {@link Verb#INVALID}.
 */
public record UserRequest(Verb verb, String value) {
    public enum Verb { START, STOP, RESTART, INVALID }

    public static UserRequest parse(String value) {
        if (value == null) {
            return null;
        }
        String v = value.trim();
        int slash = v.indexOf('/');
        String verb = (slash >= 0 ? v.substring(0, slash) : v).trim().toLowerCase(Locale.ROOT);
        Verb parsed = switch (verb) {
            case "start" -> Verb.START;
            case "stop" -> Verb.STOP;
            case "restart" -> Verb.RESTART;
            default -> Verb.INVALID;
        };
        return new UserRequest(parsed, value);
    }
}
