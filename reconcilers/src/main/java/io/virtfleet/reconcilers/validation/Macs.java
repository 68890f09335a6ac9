package io.virtfleet.reconcilers.validation;

import java.util.Locale;
import java.util.regex.Pattern;

/** MAC address rules for a guest NIC. */
public final class Macs {
    private static final Pattern MAC = Pattern.compile("[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}");

    private Macs() {
    }

    /** Six colon-separated pairs of hex digits ({@link #MAC}), checked by hand as {@code Names} explains. */
    public static boolean isSyntax(String mac) {
        return HexSyntax.matches(mac, 17, ':', i -> i % 3 == 2);
    }

    /** The pattern isSyntax implements (for tests). */
    static boolean matchesPattern(String s) {
        return MAC.matcher(s).matches();
    }

    /** The I/G bit: the lowest bit of the first octet marks group (multicast and broadcast) addresses. */
    public static boolean isMulticast(String mac) {
        return (Integer.parseInt(mac.substring(0, 2), 16) & 1) != 0;
    }

    /** Lower case, as libvirt reports MACs. */
    public static String normalize(String mac) {
        return mac.toLowerCase(Locale.ROOT);
    }

    /** Why the MAC cannot be a NIC's address, or null. */
    static String problem(String mac) {
        if (!isSyntax(mac)) {
            return Text.quote(mac) + " is not a MAC address (expected six colon-separated pairs of hex digits, "
                    + "e.g. 52:54:00:6b:3c:58)";
        }
        if (isMulticast(mac)) {
            return Text.quote(mac) + " is a multicast address (the lowest bit of the first octet is set); "
                    + "a NIC needs a unicast address";
        }
        if (normalize(mac).equals("00:00:00:00:00:00")) {
            return "00:00:00:00:00:00 is not a usable address";
        }
        return null;
    }
}
