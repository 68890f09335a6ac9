package io.virtfleet.agent.image;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Keeps the host's image cache under its limit ({@code Host.spec.imageCache.maxSize}), in four steps per run:
 * <ol>
 *   <li>observe: the bases in the cache directory (size, last use) and the names of those something on the host
 *   still needs ({@link InUse}: every libvirt domain's backing chains, this host's Domains, downloads running);</li>
 *   <li>plan: {@link CacheEviction#plan} (pure; the run's time and the grace period passed in);</li>
 *   <li>act: delete each planned base with {@link ImageCache#evict}, under the lock an overlay is made under, and only
 *   if nothing used it since the observation;</li>
 *   <li>record: a {@link Report} to the {@link Recorder} (Host status, an Event per evicted base, a log line).</li>
 * </ol>
 * Nothing is deleted when the in-use set cannot be observed (libvirt unreachable, the Domain informer not synced), nor
 * when the cache is on shared storage: the other hosts' domains that read a shared base are invisible from here.
 */
public final class CacheKeeper {
    private static final Logger LOG = LoggerFactory.getLogger(CacheKeeper.class);
    /** Default period between runs ({@code --image-cache-interval}). */
    public static final Duration DEFAULT_INTERVAL = Duration.ofMinutes(5);
    /**
     * Default grace period: a base used less than this long ago is kept, however full the cache. A VM being created
     * has its overlay made a moment before libvirt defines the domain that reads it.
     */
    public static final Duration DEFAULT_GRACE = Duration.ofMinutes(2);

    /** The names ({@code <sha256>.<format>}) of the bases something on the host needs now. */
    public interface InUse {
        /** Throws when it cannot tell (then nothing is evicted). */
        Set<String> baseNames() throws Exception;
    }

    /** The cache's limit in bytes now ({@link CacheEviction#UNBOUNDED}: none); throws naming the field when invalid. */
    public interface Limit {
        long bytes() throws Exception;
    }

    /** Where a run's outcome goes. */
    public interface Recorder {
        void record(Report report);
    }

    /**
     * A run's outcome.
     *
     * @param at         when the run observed the cache
     * @param bases      the bases left after it
     * @param inUse      the names of the bases in use (empty when {@code problem} says they could not be observed)
     * @param limitBytes the limit ({@link CacheEviction#UNBOUNDED}: none)
     * @param evicted    each base deleted, with its size and last use
     * @param overLimit  still over the limit afterwards
     * @param shared     the cache is on shared storage (never evicted from here)
     * @param message    the one-line account (for status and the log)
     * @param problem    why nothing could be evicted (in-use set or limit unreadable), or null
     */
    public record Report(Instant at, List<CacheEviction.Base> bases, Set<String> inUse, long limitBytes,
                         List<CacheEviction.Base> evicted, boolean overLimit, boolean shared, String message,
                         String problem) {
        public long usedBytes() {
            return bases.stream().mapToLong(CacheEviction.Base::bytes).sum();
        }
    }

    private final ImageCache cache;
    private final InUse inUse;
    private final Limit limit;
    private final Recorder recorder;
    private final Clock clock;
    private final Duration grace;
    private final String sharedRoot;
    private String lastLogged;

    /**
     * @param sharedRoot the shared disk root the cache directory lies under, or null: with one, nothing is evicted
     */
    public CacheKeeper(ImageCache cache, InUse inUse, Limit limit, Recorder recorder, Clock clock, Duration grace,
                       String sharedRoot) {
        this.cache = cache;
        this.inUse = inUse;
        this.limit = limit;
        this.recorder = recorder;
        this.clock = clock;
        this.grace = grace;
        this.sharedRoot = sharedRoot;
    }

    /** One observe → plan → act → record pass; never throws (a failure is reported and logged). */
    public synchronized Report run() {
        Instant now = clock.instant();
        List<CacheEviction.Base> bases;
        try {
            bases = cache.bases();
        } catch (IOException e) {
            return report(new Report(now, List.of(), Set.of(), CacheEviction.UNBOUNDED, List.of(), false,
                    sharedRoot != null, "cannot list the image cache " + cache.root() + ": " + e.getMessage(),
                    e.getMessage()));
        }
        long limitBytes;
        try {
            limitBytes = limit.bytes();
        } catch (Exception e) {
            String why = String.valueOf(e.getMessage());
            return report(new Report(now, bases, Set.of(), CacheEviction.UNBOUNDED, List.of(), false,
                    sharedRoot != null, CacheEviction.bytes(sum(bases)) + " cached; nothing evicted: " + why, why));
        }
        Set<String> used;
        try {
            used = new TreeSet<>(inUse.baseNames());
        } catch (Exception e) {
            String why = "cannot tell which bases are in use (" + e.getMessage() + ")";
            boolean over = sum(bases) > limitBytes;
            return report(new Report(now, bases, Set.of(), limitBytes, List.of(), over, sharedRoot != null,
                    CacheEviction.bytes(sum(bases)) + " cached; nothing evicted: " + why, why));
        }
        // A base seen in use counts as used now: once its last VM goes, the grace period starts from this run.
        for (String name : used) {
            if (bases.stream().anyMatch(b -> b.name().equals(name))) {
                cache.used(name);
            }
        }
        List<CacheEviction.Base> observed = new ArrayList<>();
        for (CacheEviction.Base b : bases) {
            observed.add(used.contains(b.name()) ? new CacheEviction.Base(b.name(), b.bytes(), now) : b);
        }
        CacheEviction.Plan plan = CacheEviction.plan(observed, used, limitBytes, now, grace);
        if (sharedRoot != null) {
            boolean over = sum(bases) > limitBytes;
            return report(new Report(now, bases, used, limitBytes, List.of(), over, true,
                    CacheEviction.bytes(sum(bases)) + " cached" + (limitBytes == CacheEviction.UNBOUNDED ? ""
                            : ", limit " + CacheEviction.bytes(limitBytes)) + "; on shared storage (under the shared "
                            + "root " + sharedRoot + "): no single host evicts from it", null));
        }
        List<CacheEviction.Base> evicted = new ArrayList<>();
        List<String> failed = new ArrayList<>();
        for (String name : plan.evict()) {
            CacheEviction.Base b = observed.stream().filter(x -> x.name().equals(name)).findFirst().orElseThrow();
            try {
                if (cache.evict(name, now)) {
                    evicted.add(b);
                } else {
                    failed.add(name + " (used since " + now + ")");
                }
            } catch (IOException e) {
                failed.add(name + " (" + e.getMessage() + ")");
            }
        }
        List<CacheEviction.Base> left = new ArrayList<>(bases);
        left.removeIf(b -> evicted.stream().anyMatch(e -> e.name().equals(b.name())));
        boolean over = sum(left) > limitBytes;
        String message;
        if (failed.isEmpty()) {
            message = plan.summary(limitBytes, grace);
        } else {
            // A base planned for eviction was used meanwhile (an overlay made on it during this run): it stays.
            message = CacheEviction.bytes(sum(left)) + " cached, limit " + CacheEviction.bytes(limitBytes)
                    + (evicted.isEmpty() ? "" : "; evicted " + String.join(", ",
                    evicted.stream().map(CacheEviction.Base::name).toList())) + "; kept " + String.join(", ", failed)
                    + (over ? "; over the limit until the next check" : "");
        }
        return report(new Report(now, left, used, limitBytes, evicted, over, false, message, null));
    }

    private Report report(Report r) {
        // What changes is logged (an eviction, a new reason to stay over the limit, a problem); a repeat is debug.
        String gist = gist(r.message());
        if (!r.evicted().isEmpty() || (r.overLimit() || r.problem() != null) && !gist.equals(lastLogged)) {
            LOG.info("image cache {}: {} base{}, {}", cache.root(), r.bases().size(), r.bases().size() == 1 ? "" : "s",
                    r.message());
        } else {
            LOG.debug("image cache {}: {} base{}, {}", cache.root(), r.bases().size(),
                    r.bases().size() == 1 ? "" : "s", r.message());
        }
        lastLogged = gist;
        try {
            recorder.record(r);
        } catch (RuntimeException e) {
            LOG.warn("cannot record the image cache's state: {}", e.getMessage());
        }
        return r;
    }

    /** A report's message without its sizes: two runs with the same gist say the same thing. */
    public static String gist(String message) {
        return message.replaceAll("[0-9.]+ [KMGT]?i?B", "N");
    }

    private static long sum(List<CacheEviction.Base> bases) {
        return bases.stream().mapToLong(CacheEviction.Base::bytes).sum();
    }
}
