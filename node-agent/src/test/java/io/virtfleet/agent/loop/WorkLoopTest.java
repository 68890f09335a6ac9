package io.virtfleet.agent.loop;

import io.virtfleet.agent.libvirt.LibvirtConnection;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class WorkLoopTest {
    final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    WorkLoop loop;

    @AfterEach
    void stop() {
        if (loop != null) {
            loop.close();
        }
        scheduler.shutdownNow();
    }

    @Test
    void aFailedOrThrowingPassIsRetriedAndASuccessfulOneIsNot() {
        ConcurrentHashMap<String, AtomicInteger> passes = new ConcurrentHashMap<>();
        loop = new WorkLoop("test", 2, scheduler, key -> {
            int n = passes.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
            return switch (key) {
                case "fails-once" -> n == 1 ? Result.RETRY : Result.DONE;
                case "unavailable-once" -> {
                    if (n == 1) {
                        throw new LibvirtConnection.UnavailableException("libvirtd restarting");
                    }
                    yield Result.DONE;
                }
                case "throws-once" -> {
                    if (n == 1) {
                        throw new IllegalStateException("boom");
                    }
                    yield Result.DONE;
                }
                default -> Result.DONE;
            };
        }, k -> k);
        loop.start();
        for (String k : List.of("fails-once", "unavailable-once", "throws-once", "ok")) {
            loop.add(k);
        }
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            assertThat(passes.get("fails-once")).hasValue(2);
            assertThat(passes.get("unavailable-once")).hasValue(2);
            assertThat(passes.get("throws-once")).hasValue(2);
        });
        assertThat(passes.get("ok")).hasValue(1);
    }

    @Test
    void requeueAfterAsksForAnotherPassAndKeysAreNeverProcessedTwiceAtOnce() {
        CopyOnWriteArrayList<String> seen = new CopyOnWriteArrayList<>();
        AtomicInteger inFlight = new AtomicInteger();
        AtomicInteger maxInFlight = new AtomicInteger();
        loop = new WorkLoop("test", 4, scheduler, key -> {
            int now = inFlight.incrementAndGet();
            maxInFlight.accumulateAndGet(now, Math::max);
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            inFlight.decrementAndGet();
            seen.add(key);
            return seen.size() < 3 ? Result.after(Duration.ofMillis(10)) : Result.DONE;
        }, k -> k);
        loop.start();
        loop.add("k");
        loop.add("k");
        await().atMost(Duration.ofSeconds(20)).until(() -> seen.size() >= 3);
        assertThat(maxInFlight.get()).isEqualTo(1);
        assertThat(seen).containsOnly("k");
    }

    /**
     * A pass that hands its work off (a start on the start executor) is neither a success nor a failure: the loop
     * does not queue the key again (the work's end does) and keeps its backoff, so a failure reported after it backs
     * off further (0.5 s, then 1 s) instead of starting over at 0.5 s.
     */
    @Test
    void aHandedOffPassIsNotRequeuedAndKeepsTheKeysBackoff() {
        CopyOnWriteArrayList<Long> retries = new CopyOnWriteArrayList<>();
        AtomicInteger passes = new AtomicInteger();
        loop = new WorkLoop("test", 1, scheduler, key -> {
            int n = passes.incrementAndGet();
            retries.add(System.nanoTime());
            return switch (n) {
                case 1, 3 -> Result.RETRY;
                case 2 -> {
                    // the handed-off work ends a moment later and adds the key
                    scheduler.schedule(() -> loop.add(key), 50, java.util.concurrent.TimeUnit.MILLISECONDS);
                    yield Result.HANDED_OFF;
                }
                default -> Result.DONE;
            };
        }, k -> k);
        loop.start();
        loop.add("k");
        await().atMost(Duration.ofSeconds(20)).until(() -> passes.get() >= 4);
        long thirdToFourth = (retries.get(3) - retries.get(2)) / 1_000_000;
        assertThat(thirdToFourth).as("the second failure's backoff").isGreaterThanOrEqualTo(950);
        await().during(Duration.ofMillis(700)).atMost(Duration.ofSeconds(2)).until(() -> passes.get() == 4);
    }
}
