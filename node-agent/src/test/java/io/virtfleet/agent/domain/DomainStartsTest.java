package io.virtfleet.agent.domain;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.virtfleet.agent.libvirt.LibvirtCallException;
import io.virtfleet.agent.libvirt.LibvirtConnection;
import io.virtfleet.api.v1alpha1.Domain;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** The start executor on its own: in flight, the domain's lock, the outcome kept until reported, the requeue. */
class DomainStartsTest {
    static final String UUID = "0b7d6c1e-4f3a-4d2e-9c1b-2a3b4c5d6e7f";
    static final DomainActuator.Context CONTEXT = new DomainActuator.Context("ns/vm", UUID, "h",
            Duration.ofSeconds(60), false);

    static Domain domain() {
        Domain d = new Domain();
        d.setMetadata(new ObjectMetaBuilder().withNamespace("ns").withName("vm").build());
        return d;
    }

    @Test
    void aStartRunsUnderTheDomainsLockIsInFlightUntilItEndsAndItsOutcomeWaitsForTheReport() throws Exception {
        DomainLocks locks = new DomainLocks();
        List<String> requeued = new CopyOnWriteArrayList<>();
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean probeGotLockDuringStart = new AtomicBoolean();
        AtomicBoolean running = new AtomicBoolean();
        CountDownLatch probeDone = new CountDownLatch(1);
        try (DomainStarts starts = new DomainStarts((a, d, c) -> {
            running.set(true);
            // another thread asking for the domain's lock (a snapshot, a pass) waits until the start ended
            new Thread(() -> {
                try (DomainLocks.Held h = locks.hold(UUID)) {
                    probeGotLockDuringStart.set(running.get());
                }
                probeDone.countDown();
            }).start();
            try {
                release.await(10, TimeUnit.SECONDS);
                Thread.sleep(100);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            running.set(false);
            return true;
        }, locks, requeued::add, "test-start")) {
            starts.submit(UUID, LifecycleAction.START, domain(), CONTEXT, 3);
            assertThat(starts.inFlight(UUID.toUpperCase())).isTrue();
            assertThatThrownBy(() -> starts.submit(UUID, LifecycleAction.START, domain(), CONTEXT, 3))
                    .isInstanceOf(IllegalStateException.class);
            assertThat(starts.finished(UUID)).isNull();
            release.countDown();
            await().atMost(Duration.ofSeconds(10)).until(() -> requeued.contains(UUID));
            assertThat(probeDone.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(probeGotLockDuringStart).as("the lock was taken while the start ran").isFalse();
            assertThat(starts.inFlight(UUID)).isFalse();
            DomainStarts.Finished f = starts.finished(UUID);
            assertThat(f).isEqualTo(new DomainStarts.Finished(3L, 1, null, null));
            assertThat(starts.finished(UUID)).as("kept until reported").isEqualTo(f);
            starts.reported(UUID, f);
            assertThat(starts.finished(UUID)).isNull();
        }
    }

    @Test
    void outcomesNotReportedYetAddUpAndTheLastFailureStays() throws Exception {
        List<String> requeued = new CopyOnWriteArrayList<>();
        int[] n = {0};
        try (DomainStarts starts = new DomainStarts((a, d, c) -> {
            switch (++n[0]) {
                case 2 -> throw new LibvirtCallException("internal error: qemu unexpectedly closed the monitor");
                case 3 -> throw new LibvirtConnection.UnavailableException("not connected");
                default -> {
                    return true;
                }
            }
        }, new DomainLocks(), requeued::add, "test-start")) {
            starts.submit(UUID, LifecycleAction.START, domain(), CONTEXT, 1);
            await().atMost(Duration.ofSeconds(10)).until(() -> requeued.size() == 1);
            starts.submit(UUID, LifecycleAction.START, domain(), CONTEXT, 2);
            await().atMost(Duration.ofSeconds(10)).until(() -> requeued.size() == 2);
            DomainStarts.Finished f = starts.finished(UUID);
            assertThat(f.served()).isEqualTo(1L);
            assertThat(f.started()).isEqualTo(1);
            assertThat(f.error()).hasMessageContaining("qemu unexpectedly closed");
            assertThat(f.failed()).isTrue();
            starts.submit(UUID, LifecycleAction.START, domain(), CONTEXT, 2);
            await().atMost(Duration.ofSeconds(10)).until(() -> requeued.size() == 3);
            f = starts.finished(UUID);
            assertThat(f.error()).isNull();
            assertThat(f.thrown()).isInstanceOf(LibvirtConnection.UnavailableException.class);
            assertThat(f.started()).isEqualTo(1);
            starts.forget(UUID);
            assertThat(starts.finished(UUID)).isNull();
        }
    }
}
