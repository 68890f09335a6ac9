package io.virtfleet.observability;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;
import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.time.Duration;

/**
 * A test client for the HTTPS health and metrics ports as the kubelet's probes and an {@code insecure_skip_verify}
 * Prometheus scrape see them: TLS without verifying the (self-signed) certificate, an optional bearer token. Also
 * what a plain-HTTP client gets from a port. In the test-jar, for the operator's, the agent's and e2e's tests.
 */
public final class HttpsProbe {
    private static volatile X509Certificate lastPeer;
    private static final SSLContext TRUST_ANY;

    static {
        try {
            TRUST_ANY = SSLContext.getInstance("TLS");
            // An X509ExtendedTrustManager: the JDK adds no host name check around it (it would for a plain
            // X509TrustManager), as the kubelet's probes check neither the chain nor the name.
            TRUST_ANY.init(null, new TrustManager[] {new X509ExtendedTrustManager() {
                @Override
                public void checkClientTrusted(X509Certificate[] chain, String authType) {
                }

                @Override
                public void checkServerTrusted(X509Certificate[] chain, String authType) {
                    lastPeer = chain[0];
                }

                @Override
                public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {
                }

                @Override
                public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) {
                    lastPeer = chain[0];
                }

                @Override
                public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
                }

                @Override
                public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
                    lastPeer = chain[0];
                }

                @Override
                public X509Certificate[] getAcceptedIssuers() {
                    return new X509Certificate[0];
                }
            }}, null);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static final HttpClient HTTPS = HttpClient.newBuilder().sslContext(TRUST_ANY)
            .connectTimeout(Duration.ofSeconds(10)).build();

    private HttpsProbe() {
    }

    /** GET https://127.0.0.1:PORT/PATH with {@code token} (null: none). */
    public static HttpResponse<String> get(int port, String path, String token) throws IOException,
            InterruptedException {
        return get("127.0.0.1", port, path, token);
    }

    /** GET https://HOST:PORT/PATH with {@code token} (null: none). */
    public static HttpResponse<String> get(String host, int port, String path, String token) throws IOException,
            InterruptedException {
        String h = host.contains(":") ? "[" + host + "]" : host;
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("https://" + h + ":" + port + path))
                .timeout(Duration.ofSeconds(30));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return HTTPS.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The certificate the last handshake was shown. */
    public static X509Certificate lastPeer() {
        return lastPeer;
    }

    /**
     * The first bytes a plain-HTTP client reads back after {@code GET /metrics} on {@code host:port}; empty when the
     * server closed or reset the connection. A TLS port never answers with an HTTP status line.
     */
    public static String plainHttpAnswer(String host, int port) {
        try (Socket s = new Socket(host, port)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            return new String(s.getInputStream().readNBytes(5), StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            return "";
        }
    }
}
