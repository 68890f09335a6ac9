package io.virtfleet.observability;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import io.virtfleet.observability.access.AccessReviews;
import io.virtfleet.observability.access.BearerAuth;
import io.virtfleet.observability.serving.Serving;
import io.virtfleet.observability.serving.ServingFailure;
import io.virtfleet.observability.serving.TlsIdentity;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * {@code /healthz} and {@code /readyz} on one port and {@code /metrics} (Prometheus text) on another, on the JDK's own
 * HTTP server: what deploy/base's probes and scrape annotations expect, for the operator and the node agent alike.
 *
 * <p>Served as {@link Serving} says: by default HTTPS, where every request but the probes needs a bearer token the
 * apiserver accepts (TokenReview) for a user who may {@code get} that path (SubjectAccessReview of the non-resource
 * URL, e.g. {@code /metrics}), checked before the path is even looked up, as kube-controller-manager does (401, 403;
 * 404 only for an authorized caller). Plain HTTP, unauthenticated, only on a loopback address.
 */
public final class HttpEndpoints implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(HttpEndpoints.class);
    /** The Prometheus text format the registry writes. */
    public static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";
    /** Answered without authentication (kube-controller-manager's {@code --authorization-always-allow-paths}). */
    public static final Set<String> ALWAYS_ALLOWED = Set.of("/healthz", "/readyz");
    private static final String TEXT = "text/plain; charset=utf-8";

    private final HttpServer health;
    private final HttpServer metrics;
    private final List<ExecutorService> pools;

    /** Probe answers: null means OK, else why not (the 503 body). */
    public record Probes(Supplier<String> live, Supplier<String> ready) {
    }

    private HttpEndpoints(HttpServer health, HttpServer metrics, List<ExecutorService> pools) {
        this.health = health;
        this.metrics = metrics;
        this.pools = pools;
    }

    /** Plain HTTP on 127.0.0.1 ({@link Serving#LOOPBACK_PLAIN}): for tests and embedding. */
    public static HttpEndpoints start(String name, int healthPort, int metricsPort, Probes probes,
                                      Supplier<String> scrape) {
        return start(name, healthPort, metricsPort, Serving.LOOPBACK_PLAIN, null, probes, scrape);
    }

    /**
     * Starts the servers. Negative ports are disabled; 0 picks a free port. Health and metrics may share a port.
     *
     * @param name    names the server threads, the self-signed certificate and the log line, e.g. {@code operator}
     * @param reviews checks callers of the HTTPS ports; may be null only with {@link Serving#plainHttp()}
     * @param scrape  the Prometheus text, e.g. {@code registry::scrape}
     * @throws ServingFailure settings refused by {@link Serving#problem}, an unusable certificate, a bind failure
     */
    public static HttpEndpoints start(String name, int healthPort, int metricsPort, Serving serving,
                                      AccessReviews reviews, Probes probes, Supplier<String> scrape) {
        String problem = serving.problem(healthPort, metricsPort);
        if (problem != null) {
            throw new ServingFailure(problem, true, null);
        }
        if (healthPort < 0 && metricsPort < 0) {
            return new HttpEndpoints(null, null, List.of());
        }
        if (!serving.plainHttp() && reviews == null) {
            throw new IllegalArgumentException("HTTPS endpoints need AccessReviews to check their callers");
        }
        SSLContext tls = serving.plainHttp() ? null : tls(name, serving);
        BearerAuth auth = serving.plainHttp() ? null : new BearerAuth(reviews);
        boolean shared = healthPort >= 0 && metricsPort == healthPort && healthPort != 0;
        List<ExecutorService> pools = new ArrayList<>();
        HttpServer h = null;
        HttpServer x = null;
        try {
            h = healthPort >= 0 ? server(name, serving.healthAddress(), healthPort, tls, pools) : null;
            x = metricsPort < 0 ? null : shared ? h : server(name, serving.metricsAddress(), metricsPort, tls, pools);
        } catch (IOException e) {
            if (h != null) {
                h.stop(0);
            }
            pools.forEach(ExecutorService::shutdownNow);
            int port = h == null ? healthPort : metricsPort;
            throw new ServingFailure("cannot listen on " + (h == null ? serving.healthAddress()
                    : serving.metricsAddress()) + ":" + port + " for " + (h == null ? "health" : "metrics") + ": "
                    + e.getMessage(), false, e);
        }
        HttpServer hs = h;
        HttpServer xs = x;
        if (h != null) {
            h.createContext("/", ex -> handle(ex, true, hs == xs, probes, scrape, auth));
            h.start();
        }
        if (x != null && x != h) {
            x.createContext("/", ex -> handle(ex, false, true, probes, scrape, auth));
            x.start();
        }
        HttpEndpoints e = new HttpEndpoints(h, x, pools);
        LOG.info("{}: health on {}, metrics on {} ({})", name,
                e.healthPort() < 0 ? "-" : serving.healthAddress() + ":" + e.healthPort() + "/healthz,/readyz",
                e.metricsPort() < 0 ? "-" : serving.metricsAddress() + ":" + e.metricsPort() + "/metrics",
                tls == null ? "plain HTTP, loopback only, no authentication"
                        : "HTTPS with " + (serving.tlsCertFile() == null ? "a self-signed certificate"
                        : serving.tlsCertFile()) + "; /metrics for bearer tokens the apiserver authorizes");
        return e;
    }

    private static SSLContext tls(String name, Serving serving) {
        try {
            if (serving.tlsCertFile() != null) {
                return TlsIdentity.fromPemFiles(serving.tlsCertFile(), serving.tlsKeyFile()).context;
            }
            List<String> sans = new ArrayList<>(List.of("dns:localhost", "ip:127.0.0.1"));
            try {
                String me = InetAddress.getLocalHost().getHostName();
                if (me.matches("[A-Za-z0-9]([-.A-Za-z0-9]*[A-Za-z0-9])?") && !me.equals("localhost")) {
                    sans.add("dns:" + me);
                }
            } catch (IOException e) {
                // no name of its own: localhost only
            }
            return TlsIdentity.selfSigned("virtfleet-" + name, sans).context;
        } catch (IOException | GeneralSecurityException e) {
            throw new ServingFailure((serving.tlsCertFile() == null ? "cannot make a self-signed certificate: "
                    : "--tls-cert-file/--tls-private-key-file: ") + oneLine(e.getMessage()), true, e);
        }
    }

    /** The port of /healthz and /readyz, or -1. */
    public int healthPort() {
        return health == null ? -1 : health.getAddress().getPort();
    }

    /** The port of /metrics, or -1. */
    public int metricsPort() {
        return metrics == null ? -1 : metrics.getAddress().getPort();
    }

    private static HttpServer server(String name, String address, int port, SSLContext tls,
                                     List<ExecutorService> pools) throws IOException {
        InetSocketAddress bind = new InetSocketAddress(InetAddress.getByName(address), port);
        HttpServer s;
        if (tls == null) {
            s = HttpServer.create(bind, 16);
        } else {
            HttpsServer https = HttpsServer.create(bind, 16);
            https.setHttpsConfigurator(new HttpsConfigurator(tls) {
                @Override
                public void configure(HttpsParameters params) {
                    SSLParameters p = tls.getDefaultSSLParameters();
                    p.setProtocols(new String[] {"TLSv1.3", "TLSv1.2"});
                    params.setSSLParameters(p);
                }
            });
            s = https;
        }
        // Two threads: a probe must not wait behind a slow scrape (or a slow TLS handshake).
        ExecutorService pool = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "virtfleet-" + name + "-http-" + port);
            t.setDaemon(true);
            return t;
        });
        pools.add(pool);
        s.setExecutor(pool);
        return s;
    }

    private static void handle(HttpExchange ex, boolean healthPort, boolean metricsPort, Probes probes,
                               Supplier<String> scrape, BearerAuth auth) throws IOException {
        String path = ex.getRequestURI().getPath();
        if (healthPort && ALWAYS_ALLOWED.contains(path)) {
            String problem = path.equals("/healthz") ? probes.live().get() : probes.ready().get();
            respond(ex, problem == null ? 200 : 503, TEXT, problem == null ? "ok\n" : problem + "\n");
            return;
        }
        if (auth != null) {
            // Kubernetes' non-resource verb is the lower-cased HTTP method.
            String verb = ex.getRequestMethod().toLowerCase(Locale.ROOT);
            BearerAuth.Outcome o = auth.check(ex.getRequestHeaders().getFirst("Authorization"), verb, path);
            if (!o.allowed()) {
                LOG.debug("{} {} refused ({}): {}", ex.getRequestMethod(), path, o.status(), o.message());
                if (o.status() == 401) {
                    ex.getResponseHeaders().set("WWW-Authenticate", "Bearer");
                }
                respond(ex, o.status(), TEXT, o.message() + "\n");
                return;
            }
        }
        if (metricsPort && path.equals("/metrics")) {
            respond(ex, 200, PROMETHEUS_TEXT, scrape.get());
        } else {
            respond(ex, 404, TEXT, "404 page not found\n");
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

    private static String oneLine(String s) {
        return s == null ? "" : s.strip().lines().findFirst().orElse("");
    }

    @Override
    public void close() {
        if (metrics != null && metrics != health) {
            metrics.stop(0);
        }
        if (health != null) {
            health.stop(0);
        }
        pools.forEach(ExecutorService::shutdownNow);
    }
}
