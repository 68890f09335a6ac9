package io.virtfleet.agent.image;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class CacheEvictionTest {
    static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    static CacheEviction.Base base(String name, long gib, int minutes) {
        return new CacheEviction.Base(name, gib << 30, T0.plusSeconds(60L * minutes));
    }

    final List<CacheEviction.Base> bases = List.of(base("a.qcow2", 2, 10), base("b.qcow2", 3, 5),
            base("c.qcow2", 1, 1), base("d.raw", 4, 20));

    @Test
    void underTheLimitNothingIsEvicted() {
        assertThat(CacheEviction.plan(bases, Set.of(), 10L << 30)).isEqualTo(new CacheEviction.Plan(List.of(), false));
    }

    @Test
    void leastRecentlyUsedUnusedBasesGoFirstUntilUnderTheLimit() {
        // 10 GiB cached, limit 6 GiB: c (1 min) and b (5 min) are the oldest; evicting both leaves 6 GiB.
        assertThat(CacheEviction.plan(bases, Set.of(), 6L << 30))
                .isEqualTo(new CacheEviction.Plan(List.of("c.qcow2", "b.qcow2"), false));
    }

    @Test
    void aBaseAnotherVmUsesIsNeverEvictedEvenOverTheLimit() {
        assertThat(CacheEviction.plan(bases, Set.of("a.qcow2", "b.qcow2", "d.raw"), 1L << 30))
                .isEqualTo(new CacheEviction.Plan(List.of("c.qcow2"), true));
    }
}
