package io.virtfleet.reconcilers.validation;

/** Checks every user string gets before it is looked at more closely, and quoting for messages. */
public final class Text {
    /** Longest string accepted anywhere in a spec; longer input is an error, never an allocation problem. */
    public static final int MAX_LENGTH = 4096;
    private static final int QUOTE_LIMIT = 80;

    private Text() {
    }

    /** Why the string cannot be used at all (too long, control characters), or null. */
    static String problem(String s) {
        if (s.length() > MAX_LENGTH) {
            return "too long (" + s.length() + " characters, at most " + MAX_LENGTH + ")";
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= 0x20 && c < 0x7f) {
                continue; // the usual character, decided in two comparisons
            }
            // XML 1.0 cannot carry most control characters at all, and none belongs in a name, path or command line.
            if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || c == '\ufffe' || c == '\uffff') {
                return "contains a control character at position " + i;
            }
            if (Character.isSurrogate(c) && !validSurrogate(s, i)) {
                return "contains an unpaired surrogate at position " + i;
            }
        }
        return null;
    }

    private static boolean validSurrogate(String s, int i) {
        char c = s.charAt(i);
        if (Character.isHighSurrogate(c)) {
            return i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
        }
        return i > 0 && Character.isHighSurrogate(s.charAt(i - 1));
    }

    /** The value in double quotes, escaped and shortened, safe to put in a message or a log line. */
    public static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        int n = Math.min(s.length(), QUOTE_LIMIT);
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20 || c == 0x7f) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        if (s.length() > n) {
            b.append("...");
        }
        return b.append('"').toString();
    }
}
