package io.virtfleet.agent.libvirt;

import io.virtfleet.agent.AgentMetrics;
import io.virtfleet.agent.TestEnv;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.libvirt.Connect;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * A connection is never closed under a running call. libvirt's API takes no reference on the {@code virConnectPtr} a
 * call runs on, so closing it from another thread while a call is inside libvirt frees the connection under that call
 * (seen as a SIGSEGV in libvirt.so in a periodic {@code virConnectNumOfNetworks} right after a keepalive timeout made
 * the agent reconnect). On libvirt's test driver ({@code test:///default}, in this process): a call holds its
 * connection on a latch while the connection is dropped the way libvirt's close callback drops it, or while the whole
 * {@link LibvirtConnection} is closed. libvirt-java's {@link Connect#isConnected()} says whether
 * {@code virConnectClose} has been called on that object.
 */
class LibvirtConnectionTest {
    private static final String URI = "test:///default";
    private static final Duration SHORT = Duration.ofSeconds(10);

    ScheduledExecutorService scheduler;
    ExecutorService callers;
    LibvirtConnection libvirt;
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);
    final AtomicReference<Connect> held = new AtomicReference<>();

    @BeforeEach
    void setUp() {
        // One thread: a close the reconnect hands to the scheduler has run once a later task has.
        scheduler = Executors.newSingleThreadScheduledExecutor();
        callers = Executors.newSingleThreadExecutor();
    }

    @AfterEach
    void tearDown() {
        release.countDown();
        if (libvirt != null) {
            libvirt.close();
        }
        callers.shutdownNow();
        scheduler.shutdownNow();
    }

    private LibvirtConnection connect(Duration closeWait) {
        LibvirtConnection c = new LibvirtConnection(URI, TestEnv.NO_EVENTS, scheduler, new AgentMetrics(), closeWait);
        c.start();
        assertThat(c.isConnected()).as("connected to %s", URI).isTrue();
        return c;
    }

    /** A call that keeps its connection until {@link #release}, then calls libvirt on it once more. */
    private Future<Integer> blockedCall() throws InterruptedException {
        Future<Integer> f = callers.submit(() -> libvirt.call("networks", c -> {
            held.set(c);
            entered.countDown();
            try {
                if (!release.await(30, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("never released");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while held", e);
            }
            return c.numOfNetworks(); // what crashed: a call on a connection closed meanwhile
        }));
        assertThat(entered.await(10, TimeUnit.SECONDS)).as("the call started").isTrue();
        return f;
    }

    private void drainScheduler() throws Exception {
        scheduler.submit(() -> { }).get(10, TimeUnit.SECONDS);
    }

    @Test
    void aReconnectNeverClosesAConnectionUnderARunningCall() throws Exception {
        libvirt = connect(SHORT);
        Future<Integer> call = blockedCall();
        Connect old = held.get();

        libvirt.dropConnection("keepalive timeout (simulated)");
        await().atMost(SHORT).until(() -> libvirt.connections() == 2 && libvirt.isConnected());
        drainScheduler();

        assertThat(old.isConnected()).as("the running call's connection after the reconnect").isTrue();
        Connect next = libvirt.call(c -> c);
        assertThat(next).as("a call after the reconnect runs on the new connection, not the retired one")
                .isNotSameAs(old);
        assertThat(next.isConnected()).isTrue();

        release.countDown();
        assertThat(call.get(10, TimeUnit.SECONDS)).as("the running call's libvirt call after the reconnect")
                .isGreaterThanOrEqualTo(0);
        assertThat(old.isConnected()).as("the retired connection once its last call returned").isFalse();
        assertThat(libvirt.call(Connect::numOfNetworks)).isGreaterThanOrEqualTo(0);
    }

    @Test
    void aReconnectClosesAnIdleConnectionAtOnce() throws Exception {
        libvirt = connect(SHORT);
        Connect old = libvirt.call(c -> c);
        libvirt.dropConnection("keepalive timeout (simulated)");
        drainScheduler();
        assertThat(old.isConnected()).as("the dropped connection with no call running").isFalse();
        await().atMost(SHORT).until(() -> libvirt.connections() == 2 && libvirt.isConnected());
    }

    @Test
    void closeWaitsForTheRunningCallsAndTheLastOneClosesTheConnection() throws Exception {
        libvirt = connect(SHORT);
        Future<Integer> call = blockedCall();
        Connect c = held.get();

        CompletableFuture<Void> closing = CompletableFuture.runAsync(libvirt::close);
        Thread.sleep(300);
        assertThat(closing).as("close() while a call runs").isNotDone();
        assertThat(c.isConnected()).isTrue();
        assertThatThrownBy(() -> libvirt.call(Connect::numOfNetworks))
                .isInstanceOf(LibvirtConnection.UnavailableException.class).hasMessageContaining("is closed");

        release.countDown();
        assertThat(call.get(10, TimeUnit.SECONDS)).isGreaterThanOrEqualTo(0);
        closing.get(10, TimeUnit.SECONDS);
        assertThat(c.isConnected()).as("the connection after close() returned").isFalse();
    }

    @Test
    void closeGivesUpWaitingAfterItsBoundAndTheCallStillClosesItsConnection() throws Exception {
        libvirt = connect(Duration.ofMillis(200));
        Future<Integer> call = blockedCall();
        Connect c = held.get();

        long t0 = System.nanoTime();
        libvirt.close();
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(SHORT);
        assertThat(c.isConnected()).as("the connection of a call still running after close()'s wait").isTrue();

        release.countDown();
        assertThat(call.get(10, TimeUnit.SECONDS)).isGreaterThanOrEqualTo(0);
        assertThat(c.isConnected()).isFalse();
    }
}
