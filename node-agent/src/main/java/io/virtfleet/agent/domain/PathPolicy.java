package io.virtfleet.agent.domain;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Which host paths a domain may reference: absolute, already normalized, and — with every symlink resolved — under one
 * of the allowed roots. A path that does not exist yet is judged by the real path of its nearest existing ancestor.
 */
public final class PathPolicy {
    private final List<Path> roots;

    public PathPolicy(List<String> allowedRoots) {
        if (allowedRoots.isEmpty()) {
            throw new IllegalArgumentException("at least one allowed disk root is required");
        }
        List<Path> rs = new ArrayList<>();
        for (String r : allowedRoots) {
            Path p = Path.of(r);
            if (!p.isAbsolute()) {
                throw new IllegalArgumentException("allowed root " + r + " is not absolute");
            }
            rs.add(p.normalize());
        }
        this.roots = List.copyOf(rs);
    }

    public List<Path> roots() {
        return roots;
    }

    /** Why {@code path} is refused, or empty when it is allowed. */
    public Optional<String> check(String path) {
        if (path == null || path.isEmpty()) {
            return Optional.of("empty path");
        }
        if (path.indexOf('\0') >= 0) {
            return Optional.of("path " + path + " contains a NUL byte");
        }
        Path p;
        try {
            p = Path.of(path);
        } catch (InvalidPathException e) {
            return Optional.of("path " + path + " is invalid: " + e.getMessage());
        }
        if (!p.isAbsolute()) {
            return Optional.of("path " + path + " is not absolute");
        }
        if (!p.normalize().toString().equals(path)) {
            return Optional.of("path " + path + " is not normalized (expected " + p.normalize() + ")");
        }
        Path real;
        try {
            real = realPath(p);
        } catch (IOException e) {
            return Optional.of("path " + path + " cannot be resolved: " + e);
        }
        for (Path root : roots) {
            Path realRoot;
            try {
                realRoot = realPath(root);
            } catch (IOException e) {
                continue;
            }
            if (real.startsWith(realRoot) && !real.equals(realRoot)) {
                return Optional.empty();
            }
        }
        String resolved = real.toString().equals(path) ? "" : " (resolves to " + real + ")";
        return Optional.of("path " + path + resolved + " is outside the allowed roots " + roots);
    }

    /**
     * Why {@code path} is refused as a file inside the directory {@code dir} (both allowed, and {@code path}, with
     * every symlink resolved, strictly under {@code dir}'s real path), or empty when it is allowed.
     */
    public Optional<String> checkUnder(String path, String dir) {
        Optional<String> p = check(path);
        if (p.isPresent()) {
            return p;
        }
        Optional<String> d = check(dir);
        if (d.isPresent()) {
            return d;
        }
        try {
            Path real = realPath(Path.of(path));
            Path realDir = realPath(Path.of(dir));
            if (real.startsWith(realDir) && !real.equals(realDir)) {
                return Optional.empty();
            }
            String resolved = real.toString().equals(path) ? "" : " (resolves to " + real + ")";
            return Optional.of("path " + path + resolved + " is not inside " + dir);
        } catch (IOException e) {
            return Optional.of("path " + path + " cannot be resolved: " + e);
        }
    }

    /** The real path of {@code p}; for a missing file, its nearest existing ancestor's real path plus the rest. */
    static Path realPath(Path p) throws IOException {
        return realPath(p, 0);
    }

    private static Path realPath(Path p, int depth) throws IOException {
        if (depth > 40) {
            throw new IOException("too many levels of symbolic links at " + p);
        }
        Path existing = p;
        Path rest = null;
        while (existing != null && !Files.exists(existing, LinkOption.NOFOLLOW_LINKS)) {
            Path name = existing.getFileName();
            rest = rest == null ? name : name.resolve(rest);
            existing = existing.getParent();
        }
        if (existing == null) {
            return p;
        }
        // A dangling symlink exists (NOFOLLOW) but has no real path: resolve its target ourselves.
        if (Files.isSymbolicLink(existing) && !Files.exists(existing)) {
            Path target = Files.readSymbolicLink(existing);
            Path resolved = existing.getParent() == null ? target : existing.getParent().resolve(target).normalize();
            Path base = realPath(resolved, depth + 1);
            return rest == null ? base : base.resolve(rest).normalize();
        }
        Path real = existing.toRealPath();
        return rest == null ? real : real.resolve(rest).normalize();
    }
}
