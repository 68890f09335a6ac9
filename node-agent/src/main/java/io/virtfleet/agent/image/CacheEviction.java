package io.virtfleet.agent.image;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;

/**
 * Which cached bases to delete to bring the cache under its size limit. Pure: the caller observes the bases and which
 * of them something on the host still needs (a disk's backing chain, a Domain of the host, a download), and passes
 * the time. A base in use is never chosen, even when the cache stays over its limit (the VM's disk would stop
 * working); neither is one used within the grace period (a VM being created may have made its overlay on it a moment
 * ago and not yet be defined in libvirt). Among the rest the least recently used go first.
 */
public final class CacheEviction {
    private CacheEviction() {
    }

    /** No limit: nothing is ever evicted. */
    public static final long UNBOUNDED = Long.MAX_VALUE;

    /** A base file in the cache: its name ({@code <sha256>.<format>}), size in bytes, and when a disk last used it. */
    public record Base(String name, long bytes, Instant lastUsed) {
    }

    /**
     * What to delete; the bytes left afterwards; whether that is still over the limit; and why the bases that stay
     * were kept (in use, or used within the grace period), in the order they would otherwise have gone.
     */
    public record Plan(List<String> evict, long bytesAfter, boolean stillOverLimit, List<String> keptInUse,
                       List<String> keptRecent) {
        /** A one-line account, e.g. for Host status: what is cached and, when over the limit, what stays and why. */
        public String summary(long limitBytes, Duration grace) {
            String cached = bytes(bytesAfter) + " cached" + (limitBytes == UNBOUNDED ? " (no limit)"
                    : ", limit " + bytes(limitBytes));
            if (!stillOverLimit) {
                return cached + (evict.isEmpty() ? "" : "; evicted " + String.join(", ", evict));
            }
            List<String> why = new ArrayList<>();
            if (!keptInUse.isEmpty()) {
                why.add(keptInUse.size() + " in use (" + String.join(", ", keptInUse) + ")");
            }
            if (!keptRecent.isEmpty()) {
                why.add(keptRecent.size() + " used within the last " + grace.toSeconds() + " s ("
                        + String.join(", ", keptRecent) + ")");
            }
            return cached + "; over the limit by " + bytes(bytesAfter - limitBytes) + (evict.isEmpty() ? ""
                    : " after evicting " + String.join(", ", evict)) + ": the bases left are "
                    + String.join(" and ", why);
        }
    }

    /**
     * @param bases      every base in the cache
     * @param inUse      names of the bases something on the host needs now
     * @param limitBytes the cache's limit ({@link #UNBOUNDED}: none)
     * @param now        the time of the observation
     * @param grace      a base used less than this long ago is kept
     */
    public static Plan plan(List<Base> bases, Set<String> inUse, long limitBytes, Instant now, Duration grace) {
        long total = bases.stream().mapToLong(Base::bytes).sum();
        List<Base> byAge = new ArrayList<>(bases);
        byAge.sort(Comparator.comparing(Base::lastUsed).thenComparing(Base::name));
        List<String> evict = new ArrayList<>();
        List<String> keptInUse = new ArrayList<>();
        List<String> keptRecent = new ArrayList<>();
        Instant recent = now.minus(grace);
        for (Base b : byAge) {
            if (total <= limitBytes) {
                break;
            }
            if (inUse.contains(b.name())) {
                keptInUse.add(b.name());
            } else if (b.lastUsed().isAfter(recent)) {
                keptRecent.add(b.name());
            } else {
                evict.add(b.name());
                total -= b.bytes();
            }
        }
        boolean over = total > limitBytes;
        return new Plan(List.copyOf(evict), total, over, over ? List.copyOf(keptInUse) : List.of(),
                over ? List.copyOf(keptRecent) : List.of());
    }

    /** Bytes for humans: {@code 1.5 GiB}, {@code 300 MiB}, {@code 512 B}. */
    static String bytes(long n) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
        double v = n;
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        String one = String.format(java.util.Locale.ROOT, "%.1f", v);
        return u == 0 ? n + " B" : (one.endsWith(".0") ? one.substring(0, one.length() - 2) : one) + " " + units[u];
    }
}
