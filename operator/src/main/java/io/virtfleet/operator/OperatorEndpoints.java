package io.virtfleet.operator;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * {@code /healthz} and {@code /readyz} (one port) and {@code /metrics} (another), as deploy/base's probes and
 * Service expect. Ready means "started, informers synced and healthy", for the standby replica too (it must be ready
 * for the PodDisruptionBudget to allow evicting the leader).
 */
final class OperatorEndpoints implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(OperatorEndpoints.class);

    private final HttpServer health;
    private final HttpServer metrics;

    /** Probe answers: null means OK, else why not. */
    record Probes(Supplier<String> live, Supplier<String> ready) {
    }

    private OperatorEndpoints(HttpServer health, HttpServer metrics) {
        this.health = health;
        this.metrics = metrics;
    }

    /** Negative ports are disabled; 0 picks a free port. Health and metrics may share a port. */
    static OperatorEndpoints start(int healthPort, int metricsPort, Probes probes, OperatorMetrics m)
            throws IOException {
        HttpServer h = healthPort >= 0 ? server(healthPort) : null;
        HttpServer x;
        if (metricsPort < 0) {
            x = null;
        } else if (h != null && metricsPort == healthPort && healthPort != 0) {
            x = h;
        } else {
            x = server(metricsPort);
        }
        if (h != null) {
            h.createContext("/healthz", ex -> probe(ex, probes.live().get()));
            h.createContext("/readyz", ex -> probe(ex, probes.ready().get()));
            h.start();
        }
        if (x != null) {
            x.createContext("/metrics", ex -> respond(ex, 200, "text/plain; version=0.0.4; charset=utf-8",
                    m.scrape()));
            if (x != h) {
                x.start();
            }
        }
        OperatorEndpoints e = new OperatorEndpoints(h, x);
        LOG.info("health on {}, metrics on {}", e.healthPort() < 0 ? "-" : ":" + e.healthPort() + "/healthz,/readyz",
                e.metricsPort() < 0 ? "-" : ":" + e.metricsPort() + "/metrics");
        return e;
    }

    int healthPort() {
        return health == null ? -1 : health.getAddress().getPort();
    }

    int metricsPort() {
        return metrics == null ? -1 : metrics.getAddress().getPort();
    }

    private static HttpServer server(int port) throws IOException {
        HttpServer s = HttpServer.create(new InetSocketAddress(port), 16);
        s.setExecutor(Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "virtfleet-operator-http-" + port);
            t.setDaemon(true);
            return t;
        }));
        return s;
    }

    private static void probe(HttpExchange ex, String problem) throws IOException {
        if (problem == null) {
            respond(ex, 200, "text/plain; charset=utf-8", "ok\n");
        } else {
            respond(ex, 503, "text/plain; charset=utf-8", problem + "\n");
        }
    }

    private static void respond(HttpExchange ex, int code, String type, String body) throws IOException {
        byte[] bytes = "HEAD".equals(ex.getRequestMethod()) ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", type);
        ex.sendResponseHeaders(code, bytes.length == 0 ? -1 : bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        if (metrics != null && metrics != health) {
            metrics.stop(0);
        }
        if (health != null) {
            health.stop(0);
        }
    }
}
