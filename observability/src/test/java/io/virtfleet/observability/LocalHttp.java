package io.virtfleet.observability;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** GETs of the health and metrics endpoints on loopback, for the tests of the operator, the agent and this module. */
public final class LocalHttp {
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private LocalHttp() {
    }

    /** {@code GET http://127.0.0.1:<port><path>} (10 s timeout), the body as text. */
    public static HttpResponse<String> get(int port, String path) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** {@code /metrics} on {@code port}, parsed; fails unless it answers 200. */
    public static PrometheusText scrape(int port) throws IOException, InterruptedException {
        HttpResponse<String> r = get(port, "/metrics");
        if (r.statusCode() != 200) {
            throw new AssertionError("GET /metrics on port " + port + ": " + r.statusCode() + " " + r.body());
        }
        return PrometheusText.parse(r.body());
    }
}
