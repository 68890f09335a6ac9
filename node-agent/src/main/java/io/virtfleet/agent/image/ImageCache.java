package io.virtfleet.agent.image;

import io.virtfleet.reconcilers.validation.DiskPaths;
import io.virtfleet.reconcilers.validation.ImageUrls;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The host's image cache: one directory under an allowed root holding verified bases named {@code <sha256>.<format>}.
 * A base is written as {@code .partial/<sha256>.<format>.<n>} while it downloads and renamed into place only after its
 * SHA-256 matched, so a crash, a wrong checksum or a size-limit breach never leaves a file an overlay could use.
 * Concurrent requests for one base share one download (the first caller's). Redirects are followed by hand, at most
 * {@link #MAX_REDIRECTS}, each target checked by {@link ImageUrls#redirectProblem} (never a file: URL).
 */
public final class ImageCache {
    public static final int MAX_REDIRECTS = 5;
    /** The cache's directory below the host's first allowed root: disks and their bases share the roots' rules. */
    public static final String DIRECTORY = "image-cache";
    /**
     * The largest image a host downloads unless {@code --max-image-size} says otherwise: 32 GiB, above any cloud image
     * and a bound on a hostile one.
     */
    public static final long DEFAULT_MAX_BYTES = 32L << 30;
    /** Where the limit is set, for messages. */
    public static final String LIMIT_FLAG = "--max-image-size";

    /** The image cache directory of a host with these allowed roots (absolute, normalized). */
    public static String rootFor(List<String> allowedRoots) {
        String first = allowedRoots.get(0);
        return (first.endsWith("/") ? first.substring(0, first.length() - 1) : first) + "/" + DIRECTORY;
    }

    /** Progress of one download: bytes so far and the total the server announced (-1 when unknown). */
    public interface Progress {
        void update(long bytes, long total);

        Progress NONE = (b, t) -> { };
    }

    /** Why an image cannot be cached; the message names the URL (without credentials, which validation refuses). */
    public static final class ImageException extends Exception {
        public ImageException(String message) {
            super(message);
        }
    }

    private final Path root;
    private final List<String> allowedRoots;
    private final long maxBytes;
    private final Duration timeout;
    private final HttpClient http;
    private final Map<String, CompletableFuture<Path>> inFlight = new ConcurrentHashMap<>();
    private final AtomicLong downloads = new AtomicLong();
    private final AtomicLong partialSeq = new AtomicLong();
    /** One lock per base name: using a base (an overlay made on it) and evicting it never overlap. */
    private final Map<String, ReentrantLock> locks = new ConcurrentHashMap<>();
    /** When this process last used each base (downloaded it, found it cached, made an overlay on it, saw it in use). */
    private final Map<String, Instant> lastUsed = new ConcurrentHashMap<>();
    private final Clock clock;
    private volatile Runnable afterDownload = () -> { };

    public ImageCache(Path root, List<String> allowedRoots, long maxBytes, Duration timeout) {
        this(root, allowedRoots, maxBytes, timeout, Clock.systemUTC());
    }

    public ImageCache(Path root, List<String> allowedRoots, long maxBytes, Duration timeout, Clock clock) {
        if (maxBytes <= 0) {
            throw new IllegalArgumentException(LIMIT_FLAG + " must be positive, not " + maxBytes);
        }
        this.root = root;
        this.allowedRoots = List.copyOf(allowedRoots);
        this.maxBytes = maxBytes;
        this.timeout = timeout;
        this.clock = clock;
        this.http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).connectTimeout(timeout).build();
    }

    /** The largest image this cache downloads, in bytes. */
    public long maxBytes() {
        return maxBytes;
    }

    /** Runs after each download that cached a base (the cache keeper checks the cache's size then). */
    public void afterDownload(Runnable r) {
        afterDownload = r == null ? () -> { } : r;
    }

    /**
     * Holds the base's lock until the returned handle is closed: an eviction ({@link #evict}) waits for it, and an
     * overlay made under it is made on a base that stays until the eviction's next look at it.
     */
    public Held hold(String baseName) {
        ReentrantLock l = locks.computeIfAbsent(baseName, k -> new ReentrantLock());
        l.lock();
        return l::unlock;
    }

    /** A held base lock ({@link #hold}). */
    public interface Held extends AutoCloseable {
        @Override
        void close();
    }

    /** Names of the bases being downloaded now. */
    public java.util.Set<String> downloading() {
        return java.util.Set.copyOf(inFlight.keySet());
    }

    /** Notes that something used the base now (an overlay made on it, a disk seen reading it). */
    public void used(String baseName) {
        lastUsed.put(baseName, clock.instant());
    }

    /** When this process last noted a use of the base ({@link #used}), or null. */
    public Instant lastUsed(String baseName) {
        return lastUsed.get(baseName);
    }

    /**
     * The verified bases in the cache directory (regular files named {@code <sha256>.<format>}; partial downloads
     * excluded), each with its size and last use: the later of the file's modification time (its download) and the
     * last use this process noted.
     */
    public List<CacheEviction.Base> bases() throws IOException {
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        List<CacheEviction.Base> out = new java.util.ArrayList<>();
        try (var files = Files.list(root)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                String name = p.getFileName().toString();
                if (!DiskPlans.isBaseName(name) || !Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    continue;
                }
                BasicFileAttributes a;
                try {
                    a = Files.readAttributes(p, BasicFileAttributes.class, java.nio.file.LinkOption.NOFOLLOW_LINKS);
                } catch (java.nio.file.NoSuchFileException gone) {
                    continue;
                }
                Instant t = a.lastModifiedTime().toInstant();
                Instant noted = lastUsed.get(name);
                out.add(new CacheEviction.Base(name, a.size(), noted != null && noted.isAfter(t) ? noted : t));
            }
        }
        out.sort(java.util.Comparator.comparing(CacheEviction.Base::name));
        return out;
    }

    /**
     * Deletes the base unless it was used after {@code observedAt} (an overlay made on it since the caller looked):
     * under the base's lock, so no overlay is being made on it meanwhile. True when it was deleted.
     */
    public boolean evict(String baseName, Instant observedAt) throws IOException {
        if (!DiskPlans.isBaseName(baseName)) {
            throw new IllegalArgumentException("not a base name: " + baseName);
        }
        try (Held ignored = hold(baseName)) {
            Instant noted = lastUsed.get(baseName);
            if (noted != null && noted.isAfter(observedAt)) {
                return false;
            }
            boolean deleted = Files.deleteIfExists(root.resolve(baseName));
            lastUsed.remove(baseName);
            return deleted;
        }
    }

    public Path root() {
        return root;
    }

    /** Downloads (or file copies) this cache made since it was created; a cache hit or a shared download adds none. */
    public long downloads() {
        return downloads.get();
    }

    public Path basePath(String sha256, String format) {
        return root.resolve(DiskPlans.baseName(sha256, format));
    }

    /** The verified base for the image, fetching it first unless cached. Blocks; safe to call concurrently. */
    public Path ensure(String url, String sha256, String format, Progress progress) throws ImageException {
        Path base = basePath(sha256, format);
        if (Files.isRegularFile(base)) {
            used(base.getFileName().toString());
            return base;
        }
        CompletableFuture<Path> mine = new CompletableFuture<>();
        CompletableFuture<Path> running = inFlight.putIfAbsent(base.getFileName().toString(), mine);
        if (running != null) {
            return join(running);
        }
        try {
            boolean fetched = false;
            if (!Files.isRegularFile(base)) { // another call may have finished between the check and putIfAbsent
                fetch(url, sha256.toLowerCase(java.util.Locale.ROOT), format, base, progress);
                fetched = true;
            }
            used(base.getFileName().toString());
            mine.complete(base);
            if (fetched) {
                afterDownload.run();
            }
        } catch (ImageException | RuntimeException e) {
            mine.completeExceptionally(e);
        } finally {
            inFlight.remove(base.getFileName().toString(), mine);
        }
        return join(mine);
    }

    private static Path join(CompletableFuture<Path> f) throws ImageException {
        try {
            return f.join();
        } catch (java.util.concurrent.CompletionException e) {
            if (e.getCause() instanceof ImageException ie) {
                throw new ImageException(ie.getMessage());
            }
            throw e;
        }
    }

    private void fetch(String url, String sha256, String format, Path base, Progress progress) throws ImageException {
        Path partialDir = root.resolve(".partial");
        Path partial = partialDir.resolve(base.getFileName() + "." + partialSeq.incrementAndGet());
        try {
            Files.createDirectories(partialDir);
            downloads.incrementAndGet();
            String actual;
            try (InputStream in = open(url, progress)) {
                actual = copy(in, partial, url, progress);
            }
            if (!actual.equals(sha256)) {
                throw new ImageException("image " + url + " has SHA-256 " + actual + ", not " + sha256
                        + " (volume.image.sha256); nothing was cached");
            }
            if ("qcow2".equals(format)) {
                String backing = new QemuImg(timeout).backingFile(partial.toString(), "qcow2").orElse(null);
                if (backing != null) {
                    throw new ImageException("image " + url + " is a qcow2 with a backing file (" + backing
                            + "); only standalone images are cached");
                }
            }
            try (Held ignored = hold(base.getFileName().toString())) {
                Files.move(partial, base, StandardCopyOption.ATOMIC_MOVE);
                used(base.getFileName().toString());
            }
        } catch (IOException e) {
            throw new ImageException("cannot fetch image " + url + ": " + e.getMessage());
        } finally {
            try {
                Files.deleteIfExists(partial);
            } catch (IOException ignored) {
                // a leftover partial file is never used: only renamed, verified bases are
            }
        }
    }

    private InputStream open(String url, Progress progress) throws IOException, ImageException {
        String problem = ImageUrls.problem(url, allowedRoots);
        if (problem != null) {
            throw new ImageException("image URL " + url + ": " + problem);
        }
        URI uri = URI.create(url);
        if ("file".equalsIgnoreCase(uri.getScheme())) {
            // The URL's path passed the allowed-root check as text; a symlink under a root must not lead out of it.
            Path real = Path.of(uri.getPath()).toRealPath();
            if (allowedRoots.stream().noneMatch(r -> DiskPaths.isUnder(real.toString(), r))) {
                throw new ImageException("image " + url + " resolves to " + real + ", outside the allowed roots");
            }
            long size = Files.size(real);
            if (size > maxBytes) {
                throw new ImageException("image " + url + " is " + size + " bytes, " + overLimit());
            }
            progress.update(0, size);
            return Files.newInputStream(real);
        }
        for (int hop = 0; ; hop++) {
            HttpResponse<InputStream> r;
            try {
                r = http.send(HttpRequest.newBuilder(uri).timeout(timeout).GET().build(),
                        HttpResponse.BodyHandlers.ofInputStream());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted");
            }
            int code = r.statusCode();
            if (code >= 300 && code < 400 && r.headers().firstValue("Location").isPresent()) {
                r.body().close();
                URI next = uri.resolve(r.headers().firstValue("Location").get());
                String why = ImageUrls.redirectProblem(next.toString());
                if (why != null) {
                    throw new ImageException("image " + url + " redirects to " + next + ": " + why);
                }
                if (hop + 1 >= MAX_REDIRECTS) {
                    throw new ImageException("image " + url + ": more than " + MAX_REDIRECTS + " redirects");
                }
                uri = next;
                continue;
            }
            if (code != 200) {
                r.body().close();
                throw new ImageException("image " + url + ": HTTP " + code + " from " + uri);
            }
            long total = r.headers().firstValueAsLong("Content-Length").orElse(-1);
            if (total > maxBytes) {
                r.body().close();
                throw new ImageException("image " + url + " is " + total + " bytes, " + overLimit()
                        + "; nothing was downloaded");
            }
            progress.update(0, total);
            return r.body();
        }
    }

    /** e.g. {@code over this host's image size limit of 34359738368 bytes (32 GiB, the agent's --max-image-size)}. */
    private String overLimit() {
        return "over this host's image size limit of " + maxBytes + " bytes (" + CacheEviction.bytes(maxBytes)
                + ", the agent's " + LIMIT_FLAG + ")";
    }

    /** Streams into the partial file, hashing as it goes; stops at the size limit whatever the server announced. */
    private String copy(InputStream in, Path partial, String url, Progress progress) throws IOException,
            ImageException {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        byte[] buf = new byte[1 << 16];
        long done = 0;
        long reported = 0;
        try (OutputStream out = Files.newOutputStream(partial)) {
            for (int n; (n = in.read(buf)) > 0; ) {
                done += n;
                if (done > maxBytes) {
                    throw new ImageException("image " + url + " is " + overLimit()
                            + "; the download was stopped and its partial file removed");
                }
                sha.update(buf, 0, n);
                out.write(buf, 0, n);
                if (done - reported >= 8L << 20) {
                    progress.update(done, -1);
                    reported = done;
                }
            }
        }
        progress.update(done, done);
        return HexFormat.of().formatHex(sha.digest());
    }
}
