package io.virtfleet.agent.guest;

import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class GuestAgentPollerTest {
    static final String UUID = "6d5b0a4e-0000-4000-8000-000000000001";

    @Test
    void aReadingThatEndsAfterTheChannelDisconnectedIsDropped() throws Exception {
        CountDownLatch asked = new CountDownLatch(1);
        CountDownLatch answer = new CountDownLatch(1);
        List<String> woken = new CopyOnWriteArrayList<>();
        Clock clock = Clock.systemUTC();
        try (GuestAgentPoller p = new GuestAgentPoller(null, clock, woken::add, uuid -> {
            asked.countDown();
            try {
                answer.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return new GuestView.Reading(clock.instant(), List.of(), null, "late", null);
        })) {
            assertThat(p.reading(UUID, true)).isNull(); // starts the first reading
            assertThat(asked.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(p.reading(UUID, false)).isNull(); // the channel went away meanwhile
            answer.countDown();
            // the late reading neither comes back nor wakes the Domain
            await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2))
                    .until(() -> woken.isEmpty() && p.reading(UUID, false) == null);
        }
    }

    @Test
    void aReadingOfAConnectedChannelIsKeptAndWakesTheDomain() throws Exception {
        List<String> woken = new CopyOnWriteArrayList<>();
        Clock clock = Clock.systemUTC();
        try (GuestAgentPoller p = new GuestAgentPoller(null, clock, woken::add,
                uuid -> new GuestView.Reading(clock.instant(), List.of(), null, "on-time", null))) {
            assertThat(p.reading(UUID, true)).isNull();
            await().atMost(Duration.ofSeconds(5)).until(() -> woken.contains(UUID));
            // a second reading is not due yet: the first one is returned
            assertThat(p.reading(UUID, true)).extracting(GuestView.Reading::hostnameReply).isEqualTo("on-time");
        }
    }
}
