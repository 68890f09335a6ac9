package io.virtfleet.observability;

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
 * {@code /healthz} and {@code /readyz} on one port and {@code /metrics} (Prometheus text) on another, on the JDK's own
 * HTTP server: what deploy/base's probes and scrape annotations expect, for the operator and the node agent alike.
 */
public final class HttpEndpoints implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(HttpEndpoints.class);
    /** The Prometheus text format the registry writes. */
    public static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

    private final HttpServer health;
    private final HttpServer metrics;

    /** Probe answers: null means OK, else why not (the 503 body). */
    public record Probes(Supplier<String> live, Supplier<String> ready) {
    }

    private HttpEndpoints(HttpServer health, HttpServer metrics) {
        this.health = health;
        this.metrics = metrics;
    }

    /**
     * Starts the servers. Negative ports are disabled; 0 picks a free port. Health and metrics may share a port.
     *
     * @param name   names the server threads and the log line, e.g. {@code operator}
     * @param scrape the Prometheus text, e.g. {@code registry::scrape}
     */
    public static HttpEndpoints start(String name, int healthPort, int metricsPort, Probes probes,
                                      Supplier<String> scrape) throws IOException {
        HttpServer h = healthPort >= 0 ? server(name, healthPort) : null;
        HttpServer x;
        try {
            if (metricsPort < 0) {
                x = null;
            } else if (h != null && metricsPort == healthPort && healthPort != 0) {
                x = h;
            } else {
                x = server(name, metricsPort);
            }
        } catch (IOException e) {
            if (h != null) {
                h.stop(0);
            }
            throw e;
        }
        if (h != null) {
            h.createContext("/healthz", ex -> probe(ex, probes.live().get()));
            h.createContext("/readyz", ex -> probe(ex, probes.ready().get()));
            h.start();
        }
        if (x != null) {
            x.createContext("/metrics", ex -> respond(ex, 200, PROMETHEUS_TEXT, scrape.get()));
            if (x != h) {
                x.start();
            }
        }
        HttpEndpoints e = new HttpEndpoints(h, x);
        LOG.info("{}: health on {}, metrics on {}", name,
                e.healthPort() < 0 ? "-" : ":" + e.healthPort() + "/healthz,/readyz",
                e.metricsPort() < 0 ? "-" : ":" + e.metricsPort() + "/metrics");
        return e;
    }

    /** The port of /healthz and /readyz, or -1. */
    public int healthPort() {
        return health == null ? -1 : health.getAddress().getPort();
    }

    /** The port of /metrics, or -1. */
    public int metricsPort() {
        return metrics == null ? -1 : metrics.getAddress().getPort();
    }

    private static HttpServer server(String name, int port) throws IOException {
        HttpServer s = HttpServer.create(new InetSocketAddress(port), 16);
        s.setExecutor(Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "virtfleet-" + name + "-http-" + port);
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
