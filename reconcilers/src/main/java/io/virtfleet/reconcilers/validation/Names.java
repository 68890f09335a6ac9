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

    /** RFC 1123 label, as Kubernetes uses for names that become parts of other names. */
    public static boolean isDnsLabel(String s) {
        return s != null && s.length() <= DNS_LABEL_MAX && DNS_LABEL.matcher(s).matches();
    }

    public static boolean isDnsSubdomain(String s) {
        return s != null && s.length() <= DNS_SUBDOMAIN_MAX && DNS_SUBDOMAIN.matcher(s).matches();
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
