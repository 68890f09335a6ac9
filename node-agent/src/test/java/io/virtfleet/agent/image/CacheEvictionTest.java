package io.virtfleet.agent.image;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

class CacheEvictionTest {
    static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
    /** The observation's time: an hour after T0, so every base below is out of the grace period unless noted. */
    static final Instant NOW = T0.plusSeconds(3600);
    static final Duration GRACE = Duration.ofMinutes(2);

    static CacheEviction.Base base(String name, long gib, int minutes) {
        return new CacheEviction.Base(name, gib << 30, T0.plusSeconds(60L * minutes));
    }

    /** a: 2 GiB used at T0+10m, b: 3 GiB at +5m, c: 1 GiB at +1m, d: 4 GiB at +20m. 10 GiB in all. */
    static final List<CacheEviction.Base> BASES = List.of(base("a.qcow2", 2, 10), base("b.qcow2", 3, 5),
            base("c.qcow2", 1, 1), base("d.raw", 4, 20));

    static CacheEviction.Plan plan(List<CacheEviction.Base> bases, Set<String> inUse, long limitGib) {
        return CacheEviction.plan(bases, inUse, limitGib << 30, NOW, GRACE);
    }

    static Stream<Arguments> cases() {
        return Stream.of(
                // name, in use, limit (GiB), evicted in order, still over
                Arguments.of("under the limit: nothing", Set.of(), 10, List.of(), false),
                Arguments.of("LRU until under: c (1m) then b (5m)", Set.of(), 6, List.of("c.qcow2", "b.qcow2"), false),
                Arguments.of("exactly at the limit after one", Set.of(), 9, List.of("c.qcow2"), false),
                Arguments.of("in use skipped, next oldest goes", Set.of("c.qcow2"), 8, List.of("b.qcow2"), false),
                Arguments.of("all in use but c: over", Set.of("a.qcow2", "b.qcow2", "d.raw"), 1, List.of("c.qcow2"),
                        true),
                Arguments.of("everything in use: nothing, over", Set.of("a.qcow2", "b.qcow2", "c.qcow2", "d.raw"), 1,
                        List.of(), true),
                Arguments.of("limit 0 evicts every unused base", Set.of("d.raw"), 0,
                        List.of("c.qcow2", "b.qcow2", "a.qcow2"), true));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void evictsLeastRecentlyUsedUnusedBasesUntilUnderTheLimit(String name, Set<String> inUse, long limitGib,
                                                              List<String> evicted, boolean over) {
        CacheEviction.Plan p = plan(BASES, inUse, limitGib);
        assertThat(p.evict()).as(name).containsExactlyElementsOf(evicted);
        assertThat(p.stillOverLimit()).as(name).isEqualTo(over);
        long left = BASES.stream().filter(b -> !evicted.contains(b.name())).mapToLong(CacheEviction.Base::bytes).sum();
        assertThat(p.bytesAfter()).as(name).isEqualTo(left);
    }

    @Test
    void aBaseInUseIsNeverEvictedEvenOverTheLimitAndThePlanSaysSo() {
        CacheEviction.Plan p = plan(BASES, Set.of("a.qcow2", "b.qcow2", "d.raw"), 1);
        assertThat(p.evict()).containsExactly("c.qcow2");
        assertThat(p.stillOverLimit()).isTrue();
        assertThat(p.keptInUse()).containsExactly("b.qcow2", "a.qcow2", "d.raw");
        assertThat(p.keptRecent()).isEmpty();
        assertThat(p.summary(1L << 30, GRACE)).isEqualTo("9 GiB cached, limit 1 GiB; over the limit by 8 GiB after "
                + "evicting c.qcow2: the bases left are 3 in use (b.qcow2, a.qcow2, d.raw)");
    }

    @Test
    void aBaseUsedWithinTheGracePeriodIsKeptThoughUnused() {
        // c was used 30 s before the observation (an overlay made for a VM libvirt does not have yet): b goes instead.
        List<CacheEviction.Base> bases = List.of(base("a.qcow2", 2, 10), base("b.qcow2", 3, 5),
                new CacheEviction.Base("c.qcow2", 1L << 30, NOW.minusSeconds(30)), base("d.raw", 4, 20));
        CacheEviction.Plan p = plan(bases, Set.of(), 7);
        assertThat(p.evict()).containsExactly("b.qcow2");
        assertThat(p.stillOverLimit()).isFalse();
        assertThat(p.keptRecent()).as("only listed when the cache stays over the limit").isEmpty();
    }

    @Test
    void theGracePeriodEndsExactlyAtItsLength() {
        List<CacheEviction.Base> bases = List.of(new CacheEviction.Base("x.raw", 10, NOW.minus(GRACE)),
                new CacheEviction.Base("y.raw", 10, NOW.minus(GRACE).plusMillis(1)));
        CacheEviction.Plan p = CacheEviction.plan(bases, Set.of(), 0, NOW, GRACE);
        assertThat(p.evict()).containsExactly("x.raw");
        assertThat(p.keptRecent()).containsExactly("y.raw");
        assertThat(p.summary(0, GRACE)).endsWith("the bases left are 1 used within the last 120 s (y.raw)");
    }

    @Test
    void stillOverWithInUseAndRecentBasesNamesBoth() {
        List<CacheEviction.Base> bases = List.of(base("a.qcow2", 2, 10),
                new CacheEviction.Base("n.qcow2", 3L << 30, NOW.minusSeconds(5)));
        CacheEviction.Plan p = plan(bases, Set.of("a.qcow2"), 1);
        assertThat(p.evict()).isEmpty();
        assertThat(p.summary(1L << 30, GRACE)).isEqualTo("5 GiB cached, limit 1 GiB; over the limit by 4 GiB: the "
                + "bases left are 1 in use (a.qcow2) and 1 used within the last 120 s (n.qcow2)");
    }

    @Test
    void withoutALimitNothingIsEvicted() {
        CacheEviction.Plan p = CacheEviction.plan(BASES, Set.of(), CacheEviction.UNBOUNDED, NOW, GRACE);
        assertThat(p).isEqualTo(new CacheEviction.Plan(List.of(), 10L << 30, false, List.of(), List.of()));
        assertThat(p.summary(CacheEviction.UNBOUNDED, GRACE)).isEqualTo("10 GiB cached (no limit)");
    }

    @Test
    void equalLastUseIsOrderedByName() {
        List<CacheEviction.Base> bases = List.of(base("z.raw", 1, 0), base("m.raw", 1, 0), base("a.raw", 1, 0));
        assertThat(plan(bases, Set.of(), 1).evict()).containsExactly("a.raw", "m.raw");
    }

    @Test
    void bytesForHumans() {
        assertThat(CacheEviction.bytes(512)).isEqualTo("512 B");
        assertThat(CacheEviction.bytes(300L << 20)).isEqualTo("300 MiB");
        assertThat(CacheEviction.bytes(3L << 29)).isEqualTo("1.5 GiB");
        assertThat(CacheEviction.bytes(32L << 30)).isEqualTo("32 GiB");
    }
}
