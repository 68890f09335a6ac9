package io.virtfleet.agent;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CloserTest {
    @Test
    void closesInOrderSkippingNullsAndStopsAtTheFirstFailure() {
        List<String> closed = new ArrayList<>();
        Closer.closeInOrder(() -> closed.add("a"), null, () -> closed.add("b"));
        assertThat(closed).containsExactly("a", "b");

        closed.clear();
        assertThatThrownBy(() -> Closer.closeInOrder(() -> closed.add("a"), () -> {
            throw new IllegalStateException("broken");
        }, () -> closed.add("c"))).isInstanceOf(IllegalStateException.class).hasMessage("broken");
        assertThat(closed).as("what comes after a failure stays open").containsExactly("a");

        assertThatThrownBy(() -> Closer.closeInOrder(() -> {
            throw new IOException("disk gone");
        })).isInstanceOf(IllegalStateException.class).hasCauseInstanceOf(IOException.class)
                .hasMessageContaining("disk gone");
    }

    @Test
    void shutdownNowInterruptsTheRunningTaskAndWaitsForIt() throws Exception {
        ExecutorService e = Executors.newSingleThreadExecutor();
        CountDownLatch running = new CountDownLatch(1);
        CountDownLatch interrupted = new CountDownLatch(1);
        e.execute(() -> {
            running.countDown();
            try {
                Thread.sleep(60_000);
            } catch (InterruptedException x) {
                interrupted.countDown();
            }
        });
        running.await();
        Closer.shutdownNow(e, Duration.ofSeconds(10));
        assertThat(interrupted.getCount()).isZero();
        assertThat(e.isTerminated()).isTrue();
        Closer.shutdownNow(null, Duration.ofSeconds(1));
    }
}
