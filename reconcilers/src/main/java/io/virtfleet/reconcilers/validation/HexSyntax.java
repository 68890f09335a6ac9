package io.virtfleet.reconcilers.validation;

import java.util.function.IntPredicate;

/**
 * Fixed-length hex text with a separator at fixed positions (MAC addresses, GUIDs), checked by hand: each of these
 * is checked on every render and validation, where a regex match cost more than the rest of the check.
 */
public final class HexSyntax {
    private HexSyntax() {
    }

    /** {@code s} has {@code length} characters: {@code separator} where {@code separatorAt}, a hex digit elsewhere. */
    public static boolean matches(String s, int length, char separator, IntPredicate separatorAt) {
        if (s == null || s.length() != length) {
            return false;
        }
        for (int i = 0; i < length; i++) {
            char c = s.charAt(i);
            boolean ok = separatorAt.test(i) ? c == separator
                    : c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F';
            if (!ok) {
                return false;
            }
        }
        return true;
    }
}
