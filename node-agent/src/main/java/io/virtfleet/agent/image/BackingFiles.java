package io.virtfleet.agent.image;

import io.virtfleet.reconcilers.validation.DiskPaths;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which qcow2 backing files the agent accepts. QEMU opens a qcow2 image's backing file with the privileges of the
 * process, so a backing file named in an image header is a path the image's author chose (qemu-img(1), "backing
 * file"): {@code /etc/shadow}, another tenant's disk. The only backing files virtfleet ever creates are bases in its
 * own image cache, so exactly those are safe: a file directly in the cache root, named after the SHA-256 the agent
 * verified ({@code <sha256>.qcow2} or {@code <sha256>.raw}). Anything else, and every backing chain longer than one
 * (a cached base is standalone: {@link ImageCache} refuses images that have a backing file of their own), is refused.
 */
public final class BackingFiles {
    /** {@code backing-filename} or {@code full-backing-filename} of {@code qemu-img info --output=json}: a JSON string. */
    private static final Pattern BACKING =
            Pattern.compile("\"(?:full-)?backing-filename\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"");

    private BackingFiles() {
    }

    /** The backing file named in {@code qemu-img info --output=json}, if any. Pure. */
    public static Optional<String> inInfoJson(String infoJson) {
        Matcher m = BACKING.matcher(infoJson == null ? "" : infoJson);
        return m.find() ? Optional.of(m.group(1)) : Optional.empty();
    }

    /**
     * Why the disk's backing file is not acceptable, or null when it has none or it is a cached base.
     *
     * @param backing   the backing file qemu-img reports for the disk, if any
     * @param cacheRoot the host's image cache directory (absolute, normalized)
     */
    public static String problem(String disk, Optional<String> backing, String cacheRoot) {
        if (backing.isEmpty()) {
            return null;
        }
        String b = backing.get();
        if (!b.startsWith("/")) {
            return "the disk " + disk + " has a relative backing file (" + b + "); only a base in the image cache ("
                    + cacheRoot + ") is accepted";
        }
        if (!DiskPaths.isUnder(b, cacheRoot) || b.substring(cacheRoot.length() + 1).contains("/")
                || !DiskPlans.isBaseName(b.substring(cacheRoot.length() + 1))) {
            return "the disk " + disk + " has a backing file outside the image cache (" + b + "); only a base in "
                    + cacheRoot + " is accepted";
        }
        return null;
    }

    /** The format a cached base is read as, from its name; only for names {@link #problem} accepted. */
    public static String baseFormat(String base) {
        return base.endsWith(".qcow2") ? "qcow2" : "raw";
    }
}
