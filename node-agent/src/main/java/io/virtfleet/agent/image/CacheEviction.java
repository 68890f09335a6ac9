package io.virtfleet.agent.image;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;

/**
 * Which cached bases to delete to bring the cache under its size limit. Pure: the caller observes the bases and which
 * of them some disk on the host still uses as its backing file. A base in use is never chosen, even when the cache
 * stays over its limit (the VM's disk would stop working); among the unused ones the least recently used go first.
 */
public final class CacheEviction {
    private CacheEviction() {
    }

    /** A base file in the cache: its name ({@code <sha256>.<format>}), size in bytes, and when a disk last used it. */
    public record Base(String name, long bytes, Instant lastUsed) {
    }

    /** What to delete, and whether the cache is still over its limit afterwards (only bases in use are left). */
    public record Plan(List<String> evict, boolean stillOverLimit) {
    }

    public static Plan plan(List<Base> bases, Set<String> inUse, long limitBytes) {
        long total = bases.stream().mapToLong(Base::bytes).sum();
        List<Base> candidates = new ArrayList<>(bases.stream().filter(b -> !inUse.contains(b.name())).toList());
        candidates.sort(Comparator.comparing(Base::lastUsed).thenComparing(Base::name));
        List<String> evict = new ArrayList<>();
        for (Base b : candidates) {
            if (total <= limitBytes) {
                break;
            }
            evict.add(b.name());
            total -= b.bytes();
        }
        return new Plan(evict, total > limitBytes);
    }
}
