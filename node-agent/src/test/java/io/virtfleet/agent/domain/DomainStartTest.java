package io.virtfleet.agent.domain;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.http.BasicBuilder;
import io.fabric8.kubernetes.client.http.HttpRequest;
import io.fabric8.kubernetes.client.http.Interceptor;
import io.micrometer.core.instrument.Counter;
import io.virtfleet.agent.DomainObjects;
import io.virtfleet.agent.TestEnv;
import io.virtfleet.agent.TestHost;
import io.virtfleet.agent.libvirt.InspectedDomain;
import io.virtfleet.agent.libvirt.QemuProcesses;
import io.virtfleet.agent.libvirt.QemuWatcher;
import io.virtfleet.agent.loop.Result;
import io.virtfleet.api.v1alpha1.ApiGroup;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.DomainState;
import io.virtfleet.api.v1alpha1.DomainStatus;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@link DomainSyncer} passes with the start on its executor ({@link DomainStarts}), against the real kube-apiserver
 * and libvirt's test driver ({@code test:///default}), passes called one after another as the work queue would (the
 * start's end is seen in the UUIDs it queues again). The start is made slow (held on a latch) or failing through the
 * syncer's start seam; everything else — define, status, Events, the API requests counted on the client — is real.
 */
class DomainStartTest {
    private static final String URI = "test:///default";
    @RegisterExtension
    @Order(1)
    static final TestEnv.LibvirtFixture LIBVIRT = TestEnv.LibvirtFixture.connected(URI);
    @RegisterExtension
    @Order(2)
    static final TestHost ENV = TestHost.withoutAgent("start");

    /** Counts the API requests of the syncer's client, as {@code VERB path}. */
    static final class Requests implements Interceptor {
        final Map<String, AtomicLong> counts = new ConcurrentHashMap<>();

        @Override
        public void before(BasicBuilder builder, HttpRequest request, Interceptor.RequestTags tags) {
            counts.computeIfAbsent(request.method() + " " + request.uri().getPath(), k -> new AtomicLong())
                    .incrementAndGet();
        }

        /** Requests with this verb whose path ends with {@code suffix}. */
        long count(String verb, String suffix) {
            return counts.entrySet().stream().filter(e -> e.getKey().startsWith(verb + " ")
                    && e.getKey().endsWith(suffix)).mapToLong(e -> e.getValue().get()).sum();
        }
    }

    final Requests requests = new Requests();
    final List<String> requeued = new CopyOnWriteArrayList<>();
    final AtomicInteger startCalls = new AtomicInteger();
    final List<String> uuids = new ArrayList<>();
    KubernetesClient client;
    DomainSyncer syncer;

    @BeforeEach
    void client() {
        client = new KubernetesClientBuilder().withConfig(ENV.client().getConfiguration())
                .withHttpClientBuilderConsumer(b -> b.addOrReplaceInterceptor("count", requests)).build();
    }

    /** The Domains go the agent's way: deleted, then passes (a running one is shut down first) until they are gone. */
    @AfterEach
    void cleanUp() throws Exception {
        for (Domain d : ENV.client().resources(Domain.class).inNamespace(ENV.ns()).list().getItems()) {
            ENV.client().resource(d).delete();
            for (int pass = 0; pass < 5 && syncer != null
                    && ENV.objects().get(d.getMetadata().getName()) != null; pass++) {
                syncer.sync(d.getSpec().uuid);
            }
        }
        if (syncer != null) {
            syncer.close();
        }
        ENV.objects().deleteAll();
        for (String uuid : uuids) {
            Optional<InspectedDomain> i = LIBVIRT.connection().inspect(uuid);
            if (i.isPresent()) {
                if (i.get().active()) {
                    LIBVIRT.connection().destroy(uuid);
                }
                LIBVIRT.connection().undefine(uuid, 0);
            }
        }
        client.close();
    }

    /** A test-driver domain marked for this class's host, as a Domain carrying the agent's finalizer. */
    Domain domain(String name, String uuid) {
        uuids.add(uuid);
        String xml = "<domain type='test'><name>" + name + "</name><uuid>" + uuid + "</uuid><metadata>"
                + TestEnv.mark(ENV.host(), ENV.ns(), name) + "</metadata><memory unit='MiB'>64</memory>"
                + "<os><type>hvm</type></os></domain>";
        Domain d = TestEnv.domainObject(ENV.ns(), name, ENV.host(), new TestEnv.Guest(name, uuid, xml, null),
                "Running");
        // As the operator applies it: the agent's finalizer on from the first apply.
        d.getMetadata().setFinalizers(List.of(ApiGroup.AGENT_FINALIZER));
        return d;
    }

    DomainSyncer syncer(DomainStarts.Runner runner) {
        DomainValidator validator = new DomainValidator(ENV.host(), TestEnv.DOMAIN_PREFIX,
                new PathPolicy(List.of(TestEnv.IMAGES.toString())));
        // The Domains straight from the API server (the agent reads its informer's cache).
        syncer = new DomainSyncer(client, LIBVIRT.connection(), ENV.host(), validator, new QemuProcesses(),
                uuid -> ENV.client().resources(Domain.class).inNamespace(ENV.ns()).list().getItems().stream()
                        .filter(x -> uuid.equalsIgnoreCase(x.getSpec().uuid)).toList(),
                () -> true, Clock.systemUTC(), Duration.ofMinutes(5), new QemuWatcher((u, p) -> { }, "qemu-watch"),
                new DomainLocks(), requeued::add, runner);
        return syncer;
    }

    static String state(String uuid) throws Exception {
        return LIBVIRT.connection().inspect(uuid).map(i -> DomainState.of(i.state()).statusName())
                .orElse(DomainState.NOT_DEFINED);
    }

    static double defines() {
        Counter c = LIBVIRT.connection().metrics().registry().find("virtfleet.agent.lifecycle.actions")
                .tags("action", "define", "result", "ok").counter();
        return c == null ? 0 : c.count();
    }

    @Test
    void aPassDuringASlowCreateStartsAndDefinesNothingAndThePassAfterItsEndRecordsIt() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        DomainActuator real = new DomainActuator(LIBVIRT.connection(), (d, t, r, m) -> { });
        DomainSyncer s = syncer((action, d, c) -> {
            startCalls.incrementAndGet();
            try {
                assertThat(release.await(30, TimeUnit.SECONDS)).isTrue();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            return real.run(action, d, c);
        });
        String name = TestEnv.newDomainName();
        String uuid = UUID.randomUUID().toString();
        ENV.objects().create(domain(name, uuid));
        double definesBefore = defines();

        // The first pass defines and hands the start over: no finalizer patch (it is on), no status write yet.
        assertThat(s.sync(uuid)).isEqualTo(Result.HANDED_OFF);
        await().atMost(Duration.ofSeconds(10)).until(() -> startCalls.get() == 1);
        assertThat(state(uuid)).isEqualTo("Shutoff");
        assertThat(s.starting(uuid)).isTrue();
        // Passes while virDomainCreate runs (an informer update, libvirt's define event, a resync): nothing.
        for (int i = 0; i < 3; i++) {
            assertThat(s.sync(uuid)).isEqualTo(Result.HANDED_OFF);
        }
        assertThat(startCalls).hasValue(1);
        assertThat(defines() - definesBefore).as("defines").isEqualTo(1.0);
        assertThat(requests.count("PUT", "/status")).as("status writes before the start ended").isZero();
        assertThat(requeued).isEmpty();

        release.countDown();
        await().atMost(Duration.ofSeconds(10)).until(() -> requeued.contains(uuid));
        assertThat(s.starting(uuid)).isFalse();
        assertThat(state(uuid)).isEqualTo("Running");

        // The pass the start's end queued records it: one status write, Running, counted and served.
        assertThat(s.sync(uuid).failed()).isFalse();
        DomainStatus st = ENV.objects().status(name);
        assertThat(st.state).isEqualTo("Running");
        assertThat(st.startCount).isEqualTo(1L);
        assertThat(st.observedRestartGeneration).isEqualTo(1L);
        assertThat(st.lastError).isNull();
        assertThat(DomainObjects.condition(st, "Ready")).get().extracting(Condition::getStatus).isEqualTo("True");
        assertThat(requests.count("PUT", "/status")).isEqualTo(1);

        // ... and nothing more: no second start, no redefine (the spec hash and genid it stamped are what it finds).
        assertThat(s.sync(uuid).failed()).isFalse();
        assertThat(startCalls).hasValue(1);
        assertThat(defines() - definesBefore).as("defines").isEqualTo(1.0);
        assertThat(requests.count("PATCH", "/domains/" + name)).as("finalizer patches").isZero();
        assertThat(requests.count("PUT", "/status")).isEqualTo(1);
        assertThat(ENV.objects().get(name).getMetadata().getFinalizers()).containsExactly(ApiGroup.AGENT_FINALIZER);
    }

    @Test
    void aFailedCreateIsReportedByTheNextPassAndRetriedByTheOneAfter() throws Exception {
        DomainActuator real = new DomainActuator(LIBVIRT.connection(), (d, t, r, m) -> { });
        DomainSyncer s = syncer((action, d, c) -> {
            if (startCalls.incrementAndGet() == 1) {
                // libvirt's own error: a start of a domain it does not have (VIR_ERR_NO_DOMAIN)
                return real.run(action, d, new DomainActuator.Context(c.ref(), UUID.randomUUID().toString(),
                        c.host(), c.shutdownTimeout(), false));
            }
            return real.run(action, d, c);
        });
        String name = TestEnv.newDomainName();
        String uuid = UUID.randomUUID().toString();
        ENV.objects().create(domain(name, uuid));

        assertThat(s.sync(uuid)).isEqualTo(Result.HANDED_OFF);
        await().atMost(Duration.ofSeconds(10)).until(() -> requeued.contains(uuid));
        // The pass after the failure reports it as a failed step (status, Event) and asks for a retry with backoff;
        // it does not start again itself.
        assertThat(s.sync(uuid)).isEqualTo(Result.RETRY);
        assertThat(startCalls).hasValue(1);
        DomainStatus st = ENV.objects().status(name);
        assertThat(st.lastError).startsWith("start failed: ");
        assertThat(st.state).isEqualTo("Shutoff");
        assertThat(st.startCount == null ? 0L : st.startCount).isZero();
        assertThat(st.observedRestartGeneration).isNull();
        assertThat(DomainObjects.condition(st, "Synced")).get().extracting(Condition::getReason)
                .isEqualTo("LibvirtError");
        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(ENV.objects().eventReasons(name)).contains("LibvirtError"));

        // The retry starts it; the pass after records it and clears the error.
        requeued.clear();
        assertThat(s.sync(uuid)).isEqualTo(Result.HANDED_OFF);
        await().atMost(Duration.ofSeconds(10)).until(() -> requeued.contains(uuid));
        assertThat(s.sync(uuid).failed()).isFalse();
        assertThat(startCalls).hasValue(2);
        st = ENV.objects().status(name);
        assertThat(st.state).isEqualTo("Running");
        assertThat(st.lastError).isNull();
        assertThat(st.startCount).isEqualTo(1L);
        assertThat(st.observedRestartGeneration).isEqualTo(1L);
    }
}
