package io.virtfleet.reconcilers.validation;

import java.util.regex.Pattern;

/** Name syntaxes. Names are checked by pattern, never escaped into shape, so markup in a name is simply refused. */
public final class Names {
    private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
    private static final Pattern DNS_SUBDOMAIN =
            Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
    /** Linux interface names: at most 15 bytes (IFNAMSIZ - 1), no '/', ':' or whitespace. */
    private static final Pattern IFNAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,14}");
    /** libvirt network names; conservative so they are also safe in file names libvirt derives from them. */
    private static final Pattern NETWORK = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");

    public static final int DNS_LABEL_MAX = 63;
    public static final int DNS_SUBDOMAIN_MAX = 253;

    private Names() {
    }

    /**
     * RFC 1123 label, as Kubernetes uses for names that become parts of other names: {@link #DNS_LABEL}. Checked by
     * hand, not by the pattern: the renderer checks names on every render and a regex match was a tenth of its time
     * ({@code NamesTest} holds the two to the same answers).
     */
    public static boolean isDnsLabel(String s) {
        return s != null && s.length() <= DNS_LABEL_MAX && isLabel(s, 0, s.length());
    }

    /** Dot-separated RFC 1123 labels, at most 253 characters: {@link #DNS_SUBDOMAIN}, checked as isDnsLabel is. */
    public static boolean isDnsSubdomain(String s) {
        if (s == null || s.length() > DNS_SUBDOMAIN_MAX) {
            return false;
        }
        int from = 0;
        for (int dot = s.indexOf('.'); dot >= 0; dot = s.indexOf('.', from)) {
            if (!isLabel(s, from, dot)) {
                return false;
            }
            from = dot + 1;
        }
        return isLabel(s, from, s.length());
    }

    /** s[from, to) matches {@code [a-z0-9]([-a-z0-9]*[a-z0-9])?}. */
    private static boolean isLabel(String s, int from, int to) {
        if (from >= to || s.charAt(from) == '-' || s.charAt(to - 1) == '-') {
            return false;
        }
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (!(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-')) {
                return false;
            }
        }
        return true;
    }

    /** The patterns isDnsLabel and isDnsSubdomain implement (for tests). */
    static boolean matchesPattern(String s, boolean subdomain) {
        return (subdomain ? DNS_SUBDOMAIN : DNS_LABEL).matcher(s).matches();
    }

    public static boolean isInterfaceName(String s) {
        return s != null && IFNAME.matcher(s).matches();
    }

    public static boolean isNetworkName(String s) {
        return s != null && NETWORK.matcher(s).matches();
    }

    static String dnsLabelMessage(String value) {
        return Text.quote(value) + " is not a DNS label (lower-case letters, digits and '-', starting and ending "
                + "with a letter or digit, at most " + DNS_LABEL_MAX + " characters)";
    }
}
