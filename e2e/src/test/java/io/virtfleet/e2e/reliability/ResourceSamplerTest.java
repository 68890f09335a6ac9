package io.virtfleet.e2e.reliability;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class ResourceSamplerTest {

    private static List<ResourceSampler.Sample> series(int... fds) {
        List<ResourceSampler.Sample> s = new ArrayList<>();
        for (int i = 0; i < fds.length; i++) {
            s.add(new ResourceSampler.Sample(i, 1, 100_000 + 1024L * i, fds[i], 30, -1));
        }
        return s;
    }

    @Test
    void slopeIsPerHourOfTheLeastSquaresLine() {
        // RSS grows by 1 MiB a minute: 60 MiB an hour; flat descriptors have slope 0
        List<ResourceSampler.Sample> s = series(50, 50, 50, 50);
        assertThat(ResourceSampler.perHour(s, x -> x.rssKib() / 1024.0)).isCloseTo(60, within(1e-9));
        assertThat(ResourceSampler.perHour(s, ResourceSampler.Sample::fds)).isZero();
        assertThat(ResourceSampler.perHour(s.subList(0, 1), ResourceSampler.Sample::fds)).isZero();
    }

    @Test
    void aCountThatStaysAboveItsFirstHalfIsALeakOneThatComesBackIsNot() {
        assertThat(ResourceSampler.grows(series(40, 42, 41, 43, 44, 45, 46, 47), ResourceSampler.Sample::fds))
                .isTrue();
        assertThat(ResourceSampler.grows(series(40, 48, 41, 43, 44, 47, 42, 45), ResourceSampler.Sample::fds))
                .isFalse();
        // one high sample at the end is work in flight, not a leak
        assertThat(ResourceSampler.grows(series(40, 41, 40, 41, 40, 40, 41, 60), ResourceSampler.Sample::fds))
                .isFalse();
        // too short to say, and unknown counts never leak
        assertThat(ResourceSampler.grows(series(1, 2, 3), ResourceSampler.Sample::fds)).isFalse();
        assertThat(ResourceSampler.grows(series(40, 42, 41, 43, 44, 45, 46, 47),
                ResourceSampler.Sample::libvirtClients)).isFalse();
    }
}
