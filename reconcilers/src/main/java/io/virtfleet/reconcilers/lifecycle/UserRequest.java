package io.virtfleet.reconcilers.lifecycle;

import java.util.Locale;

/**
 * A parsed {@link LifecycleAnnotations#REQUEST} value: {@code start}, {@code stop}, {@code restart}, {@code pause}
 * or {@code unpause}, optionally followed by {@code /<nonce>}. An unrecognised verb parses to {@link Verb#INVALID}.
 */
public record UserRequest(Verb verb, String value) {
    public enum Verb { START, STOP, RESTART, PAUSE, UNPAUSE, INVALID }

    /** The verbs users may write, in the words they write them. */
    public static final java.util.List<String> VERBS = java.util.List.of("start", "stop", "restart", "pause",
            "unpause");

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
            case "pause" -> Verb.PAUSE;
            case "unpause" -> Verb.UNPAUSE;
            default -> Verb.INVALID;
        };
        return new UserRequest(parsed, value);
    }
}
