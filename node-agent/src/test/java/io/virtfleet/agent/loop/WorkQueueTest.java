package io.virtfleet.agent.loop;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

import static org.assertj.core.api.Assertions.assertThat;

class WorkQueueTest {
    final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    final WorkQueue q = new WorkQueue(scheduler);

    @AfterEach
    void stop() {
        q.shutdown();
        scheduler.shutdownNow();
    }

    @Test
    void deduplicatesAndKeepsOrder() throws Exception {
        q.add("a");
        q.add("b");
        q.add("a");
        assertThat(q.size()).isEqualTo(2);
        assertThat(q.take()).isEqualTo("a");
        assertThat(q.take()).isEqualTo("b");
    }

    @Test
    void aKeyAddedWhileProcessingComesBackAfterDone() throws Exception {
        q.add("a");
        String k = q.take();
        q.add("a");
        assertThat(q.size()).isZero();
        q.done(k);
        assertThat(q.size()).isEqualTo(1);
        assertThat(q.take()).isEqualTo("a");
    }

    @Test
    void delayedAndRateLimitedAdds() throws Exception {
        q.addAfter("late", Duration.ofMillis(50));
        assertThat(q.take()).isEqualTo("late");
        q.done("late");
        assertThat(q.addRateLimited("x")).isEqualTo(Duration.ofMillis(500));
        assertThat(q.addRateLimited("x")).isEqualTo(Duration.ofSeconds(1));
        q.forget("x");
        assertThat(q.addRateLimited("x")).isEqualTo(Duration.ofMillis(500));
    }

    @Test
    void shutdownReleasesWaitingWorkers() throws Exception {
        Thread t = new Thread(() -> {
            try {
                assertThat(q.take()).isNull();
            } catch (InterruptedException e) {
                throw new RuntimeException(e);
            }
        });
        t.start();
        q.shutdown();
        t.join(5000);
        assertThat(t.isAlive()).isFalse();
    }
}
