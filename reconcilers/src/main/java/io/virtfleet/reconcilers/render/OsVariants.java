package io.virtfleet.reconcilers.render;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * libosinfo OS ids for the domain's metadata, which tools such as virt-manager use to pick guest defaults. A full id
 * (an http URI) is taken as given; common short ids are mapped by the rules below. Unlisted short ids are refused
 * rather than guessed: a wrong id is worse than none.
 */
public final class OsVariants {
    private record Rule(Pattern shortId, String uriTemplate) {
    }

    private static final List<Rule> RULES = List.of(
            rule("debian(\\d+)", "http://debian.org/debian/$1"),
            rule("debiantesting", "http://debian.org/debian/testing"),
            rule("ubuntu(\\d+\\.\\d+)", "http://ubuntu.com/ubuntu/$1"),
            rule("fedora(\\d+)", "http://fedoraproject.org/fedora/$1"),
            rule("fedora-rawhide", "http://fedoraproject.org/fedora/rawhide"),
            rule("rhel(\\d+(?:\\.\\d+)?)", "http://redhat.com/rhel/$1"),
            rule("centos-stream(\\d+)", "http://centos.org/centos-stream/$1"),
            rule("almalinux(\\d+(?:\\.\\d+)?)", "http://almalinux.org/almalinux/$1"),
            rule("rocky(\\d+(?:\\.\\d+)?)", "http://rockylinux.org/rocky/$1"),
            rule("alpinelinux(\\d+\\.\\d+)", "http://alpinelinux.org/alpinelinux/$1"),
            rule("opensuse(\\d+\\.\\d+)", "http://opensuse.org/opensuse/$1"),
            rule("opensusetumbleweed", "http://opensuse.org/opensuse/tumbleweed"),
            rule("freebsd(\\d+\\.\\d+)", "http://freebsd.org/freebsd/$1"),
            rule("gentoo", "http://gentoo.org/gentoo/rolling"),
            rule("archlinux", "http://archlinux.org/archlinux/rolling"),
            rule("win(10|11|2k16|2k19|2k22)", "http://microsoft.com/win/$1"));

    private static final Pattern FULL_ID = Pattern.compile("https?://[A-Za-z0-9.-]+(/[A-Za-z0-9._~+-]+)+");

    private OsVariants() {
    }

    private static Rule rule(String shortId, String uri) {
        return new Rule(Pattern.compile(shortId), uri);
    }

    /**
     * {@link #FULL_ID} checked by hand — {@code http://} or {@code https://}, a host of {@code [A-Za-z0-9.-]}, then
     * one or more {@code /} segments of {@code [A-Za-z0-9._~+-]} — since every render and validation of a VM with a
     * full id asks ({@code OsVariantsAndTextTest} holds the two to the same answers).
     */
    static boolean isFullId(String s) {
        int i = s.startsWith("http://") ? 7 : s.startsWith("https://") ? 8 : -1;
        if (i < 0) {
            return false;
        }
        int n = s.length();
        int host = i;
        while (i < n && (idChar(s.charAt(i)) || s.charAt(i) == '-' || s.charAt(i) == '.')) {
            i++;
        }
        if (i == host || i == n) {
            return false;
        }
        while (i < n) {
            if (s.charAt(i++) != '/') {
                return false;
            }
            int segment = i;
            while (i < n && s.charAt(i) != '/') {
                char c = s.charAt(i++);
                if (!(idChar(c) || c == '.' || c == '_' || c == '~' || c == '+' || c == '-')) {
                    return false;
                }
            }
            if (i == segment) {
                return false;
            }
        }
        return true;
    }

    private static boolean idChar(char c) {
        return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c >= 'A' && c <= 'Z';
    }

    /** The pattern isFullId implements (for tests). */
    static boolean matchesFullIdPattern(String s) {
        return FULL_ID.matcher(s).matches();
    }

    /** The libosinfo id for a short id or full id, or null when it is neither a full id nor a known short id. */
    public static String resolve(String variant) {
        if (variant == null) {
            return null;
        }
        if (isFullId(variant)) {
            return variant;
        }
        for (Rule r : RULES) {
            Matcher m = r.shortId.matcher(variant);
            if (m.matches()) {
                return m.groupCount() == 0 ? r.uriTemplate : r.uriTemplate.replace("$1", m.group(1));
            }
        }
        return null;
    }
}
