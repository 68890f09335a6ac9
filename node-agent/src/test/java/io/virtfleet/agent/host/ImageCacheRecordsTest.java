package io.virtfleet.agent.host;

import io.fabric8.kubernetes.api.model.Quantity;
import io.virtfleet.agent.image.CacheEviction;
import io.virtfleet.agent.image.CacheKeeper;
import io.virtfleet.api.v1alpha1.HostImageCacheStatus;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ImageCacheRecordsTest {
    static final Instant AT = Instant.parse("2026-06-01T12:00:00.250Z");

    @Test
    void theLimitIsTheQuantityInBytesAndAbsentMeansNone() {
        assertThat(ImageCacheRecords.limitBytes(null)).isEqualTo(CacheEviction.UNBOUNDED);
        assertThat(ImageCacheRecords.limitBytes(new Quantity("50Gi"))).isEqualTo(50L << 30);
        assertThat(ImageCacheRecords.limitBytes(new Quantity("1.5G"))).isEqualTo(1_500_000_000L);
        assertThat(ImageCacheRecords.limitBytes(new Quantity("1000"))).isEqualTo(1000);
        // The apiserver refuses these (CEL rule); the agent still names the field rather than evicting everything.
        assertThatThrownBy(() -> ImageCacheRecords.limitBytes(new Quantity("0")))
                .hasMessage("spec.imageCache.maxSize: must be positive, not 0");
        assertThatThrownBy(() -> ImageCacheRecords.limitBytes(new Quantity("-5Gi")))
                .hasMessageStartingWith("spec.imageCache.maxSize: must be positive");
    }

    @Test
    void statusShowsTheReportAndKeepsTheLastEvictionWhenNothingWasEvicted() {
        CacheEviction.Base a = new CacheEviction.Base("a".repeat(64) + ".raw", 100, AT);
        CacheEviction.Base b = new CacheEviction.Base("b".repeat(64) + ".qcow2", 50, AT);
        CacheKeeper.Report evicting = new CacheKeeper.Report(AT, List.of(a), Set.of(a.name()), 120, List.of(b), false,
                false, "100 B cached, limit 120 B; evicted " + b.name(), null);
        HostImageCacheStatus s = ImageCacheRecords.status(evicting, "/var/lib/virtfleet/image-cache");
        assertThat(s.path).isEqualTo("/var/lib/virtfleet/image-cache");
        assertThat(s.usedBytes).isEqualTo(100);
        assertThat(s.limitBytes).isEqualTo(120);
        assertThat(s.bases).isEqualTo(1);
        assertThat(s.basesInUse).isEqualTo(1);
        assertThat(s.overLimit).isFalse();
        assertThat(s.shared).isFalse();
        assertThat(s.lastCheckTime).isEqualTo("2026-06-01T12:00:00Z");
        assertThat(s.lastEvictionTime).isEqualTo("2026-06-01T12:00:00Z");
        assertThat(s.lastEvicted).containsExactly(b.name());

        CacheKeeper.Report quiet = new CacheKeeper.Report(AT, List.of(a), Set.of(), CacheEviction.UNBOUNDED,
                List.of(), false, true, "100 B cached; on shared storage", null);
        HostImageCacheStatus q = ImageCacheRecords.status(quiet, "/shared/image-cache");
        assertThat(q.limitBytes).as("no limit: written as null").isNull();
        assertThat(q.basesInUse).isZero();
        assertThat(q.shared).isTrue();
        assertThat(q.lastEvicted).as("left out of the merge patch: the last eviction stays").isNull();
        assertThat(q.lastEvictionTime).isNull();
    }
}
