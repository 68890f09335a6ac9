package io.virtfleet.reconcilers.validation;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.List;
import java.util.Locale;

/**
 * Where a host may fetch a disk image from. The same rules decide the manifest's URL and every redirect the host
 * follows, except that a redirect may never lead to a file: an HTTP server must not be able to make the agent read a
 * host file (RFC 9110 lets a Location name any URI).
 */
public final class ImageUrls {
    public static final List<String> SCHEMES = List.of("https", "http", "file");
    public static final List<String> REDIRECT_SCHEMES = List.of("https", "http");

    private ImageUrls() {
    }

    /** Why the manifest's URL is not acceptable, or null. */
    public static String problem(String url, List<String> allowedRoots) {
        return problem(url, allowedRoots, SCHEMES);
    }

    /** Why a redirect target is not acceptable, or null. */
    public static String redirectProblem(String location) {
        return problem(location, List.of(), REDIRECT_SCHEMES);
    }

    private static String problem(String url, List<String> allowedRoots, List<String> schemes) {
        if (url.isEmpty()) {
            return "must not be empty";
        }
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            return "is not a URL (" + e.getReason() + ")";
        }
        String scheme = uri.getScheme() == null ? null : uri.getScheme().toLowerCase(Locale.ROOT);
        if (scheme == null || !schemes.contains(scheme)) {
            return "unsupported scheme " + (scheme == null ? "(none)" : Text.quote(scheme)) + " (expected one of "
                    + String.join(", ", schemes.stream().map(s -> s + "://").toList()) + ")";
        }
        // Credentials in a URL would be copied into the Domain and the agent's logs; a private image needs a proxy
        // or a file:// URL on the host.
        if (uri.getRawUserInfo() != null) {
            return "must not contain credentials (user:password@)";
        }
        if (scheme.equals("file")) {
            if (uri.getRawAuthority() != null || uri.getRawQuery() != null || uri.getRawFragment() != null) {
                return "a file URL is file:///ABSOLUTE-PATH (no host, query or fragment)";
            }
            String path = uri.getPath();
            if (path == null || path.isEmpty()) {
                return "a file URL needs a path";
            }
            String problem = DiskPaths.problem(path, allowedRoots);
            return problem == null ? null : "file path " + problem;
        }
        if (uri.getHost() == null || uri.getHost().isEmpty()) {
            return "an " + scheme + " URL needs a host";
        }
        if (uri.getRawFragment() != null) {
            return "must not contain a fragment (#...)";
        }
        return null;
    }
}
