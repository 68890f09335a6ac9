package io.virtfleet.observability;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

class HttpEndpointsTest {

    @Test
    void servesProbesAndPrometheusTextFromTheRegistry() throws Exception {
        PrometheusMeterRegistry registry = Registries.prometheus();
        Counter.builder("virtfleet.test.things").tag("kind", "a\"b").register(registry).increment(3);
        Timer.builder("virtfleet.test.call").tag("op", "define").register(registry).record(Duration.ofMillis(5));
        AtomicReference<String> ready = new AtomicReference<>("starting");
        try (HttpEndpoints e = HttpEndpoints.start("test", 0, 0,
                new HttpEndpoints.Probes(() -> null, ready::get), registry::scrape)) {
            assertThat(e.healthPort()).isPositive();
            assertThat(e.metricsPort()).isPositive().isNotEqualTo(e.healthPort());
            assertThat(LocalHttp.get(e.healthPort(), "/healthz").statusCode()).isEqualTo(200);
            HttpResponse<String> r = LocalHttp.get(e.healthPort(), "/readyz");
            assertThat(r.statusCode()).isEqualTo(503);
            assertThat(r.body()).isEqualTo("starting\n");
            ready.set(null);
            assertThat(LocalHttp.get(e.healthPort(), "/readyz").statusCode()).isEqualTo(200);

            HttpResponse<String> m = LocalHttp.get(e.metricsPort(), "/metrics");
            assertThat(m.statusCode()).isEqualTo(200);
            assertThat(m.headers().firstValue("Content-Type")).hasValue(HttpEndpoints.PROMETHEUS_TEXT);
            PrometheusText text = PrometheusText.parse(m.body());
            assertThat(text.value("virtfleet_test_things_total", "kind", "a\"b")).hasValue(3);
            assertThat(text.type("virtfleet_test_things_total")).hasValue("counter");
            assertThat(text.value("virtfleet_test_call_seconds_count", "op", "define")).hasValue(1);
            assertThat(text.value("virtfleet_test_call_seconds_sum", "op", "define").getAsDouble())
                    .isBetween(0.004, 0.006);
            assertThat(text.samples("jvm_memory_used_bytes")).isNotEmpty();
            assertThat(LocalHttp.get(e.metricsPort(), "/healthz").statusCode()).isEqualTo(404);
        }
    }

    @Test
    void negativePortsAreOffAndOnePortCanServeBoth() throws Exception {
        try (HttpEndpoints off = HttpEndpoints.start("test", -1, -1, new HttpEndpoints.Probes(() -> null,
                () -> null), () -> "")) {
            assertThat(off.healthPort()).isEqualTo(-1);
            assertThat(off.metricsPort()).isEqualTo(-1);
        }
        int port;
        try (var s = new java.net.ServerSocket(0)) {
            port = s.getLocalPort();
        }
        try (HttpEndpoints one = HttpEndpoints.start("test", port, port, new HttpEndpoints.Probes(() -> null,
                () -> null), () -> "x 1\n")) {
            assertThat(one.metricsPort()).isEqualTo(one.healthPort()).isEqualTo(port);
            assertThat(LocalHttp.get(port, "/healthz").statusCode()).isEqualTo(200);
            assertThat(LocalHttp.get(port, "/metrics").body()).isEqualTo("x 1\n");
        }
    }
}
