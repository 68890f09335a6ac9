package io.virtfleet.reconcilers.validation;

import java.util.List;

/**
 * Host paths the agent may hand to libvirt. A path is accepted only in canonical form, so the prefix test against the
 * allowed roots cannot be walked around with "..", doubled or trailing slashes.
 */
public final class DiskPaths {
    private DiskPaths() {
    }

    /** Why the path is not acceptable, or null. Assumes {@link Text#problem} already passed. */
    public static String problem(String path, List<String> allowedRoots) {
        if (path.isEmpty()) {
            return "must not be empty";
        }
        if (!path.startsWith("/")) {
            return Text.quote(path) + " is not an absolute path";
        }
        if (!isNormalized(path)) {
            return Text.quote(path) + " is not normalized (no \".\" or \"..\" segments, no \"//\", no trailing \"/\")";
        }
        if (allowedRoots.isEmpty()) {
            return Text.quote(path) + " cannot be used: the host allows no disk roots";
        }
        for (String root : allowedRoots) {
            if (isUnder(path, root)) {
                return null;
            }
        }
        return Text.quote(path) + " is not under an allowed disk root (" + String.join(", ", allowedRoots) + ")";
    }

    static boolean isNormalized(String path) {
        if (path.equals("/")) {
            return true;
        }
        // Every segment after the leading '/' is non-empty and neither "." nor "..".
        int from = 1;
        while (true) {
            int slash = path.indexOf('/', from);
            int end = slash < 0 ? path.length() : slash;
            int len = end - from;
            if (len == 0 || path.charAt(from) == '.' && (len == 1 || len == 2 && path.charAt(from + 1) == '.')) {
                return false;
            }
            if (slash < 0) {
                return true;
            }
            from = slash + 1;
        }
    }

    /** Strictly below root, at a segment boundary: /var/lib/virtfleetx/a is not under /var/lib/virtfleet. */
    public static boolean isUnder(String path, String root) {
        if (root == null || !root.startsWith("/")) {
            return false;
        }
        String r = root.length() > 1 && root.endsWith("/") ? root.substring(0, root.length() - 1) : root;
        if (!isNormalized(r)) {
            return false;
        }
        String prefix = r.equals("/") ? "/" : r + "/";
        return path.startsWith(prefix) && path.length() > prefix.length();
    }
}
