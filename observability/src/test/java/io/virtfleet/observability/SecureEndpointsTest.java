package io.virtfleet.observability;

import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBuilder;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.virtfleet.controlplane.EmbeddedControlPlane;
import io.virtfleet.observability.access.AccessReviews;
import io.virtfleet.observability.serving.Serving;
import io.virtfleet.observability.serving.ServingFailure;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The secure serving of /healthz, /readyz and /metrics against the real kube-apiserver: HTTPS, the probes without a
 * token, /metrics only for a token the apiserver accepts of a user RBAC lets {@code get} the non-resource URL
 * {@code /metrics}; plain HTTP refused on a non-loopback address.
 */
class SecureEndpointsTest {
    static final String RUN = Long.toString(ThreadLocalRandom.current().nextLong(1L << 40, 1L << 41), 36);
    static final String NS = "default";
    static KubernetesClient client;
    static String readerToken;
    static String nobodyToken;

    @BeforeAll
    static void serviceAccounts() {
        client = EmbeddedControlPlane.shared().client();
        client.rbac().clusterRoles().resource(new ClusterRoleBuilder().withNewMetadata().withName("obs-" + RUN
                + "-metrics").endMetadata().withRules(new PolicyRuleBuilder().withNonResourceURLs("/metrics")
                .withVerbs("get").build()).build()).create();
        readerToken = serviceAccount("obs-" + RUN + "-reader");
        client.rbac().clusterRoleBindings().resource(new ClusterRoleBindingBuilder().withNewMetadata()
                .withName("obs-" + RUN + "-reader").endMetadata()
                .withNewRoleRef("rbac.authorization.k8s.io", "ClusterRole", "obs-" + RUN + "-metrics")
                .addNewSubject().withKind("ServiceAccount").withName("obs-" + RUN + "-reader").withNamespace(NS)
                .endSubject().build()).create();
        nobodyToken = serviceAccount("obs-" + RUN + "-nobody");
    }

    @AfterAll
    static void cleanUp() {
        if (client != null) {
            client.rbac().clusterRoleBindings().withName("obs-" + RUN + "-reader").delete();
            client.rbac().clusterRoles().withName("obs-" + RUN + "-metrics").delete();
            client.serviceAccounts().inNamespace(NS).withName("obs-" + RUN + "-reader").delete();
            client.serviceAccounts().inNamespace(NS).withName("obs-" + RUN + "-nobody").delete();
        }
    }

    static String serviceAccount(String name) {
        client.serviceAccounts().inNamespace(NS).resource(new ServiceAccountBuilder().withNewMetadata().withName(name)
                .endMetadata().build()).create();
        return client.serviceAccounts().inNamespace(NS).withName(name).tokenRequest(new TokenRequestBuilder()
                .withNewSpec().withExpirationSeconds(3600L).endSpec().build()).getStatus().getToken();
    }

    static HttpResponse<String> get(int port, String path, String token) throws Exception {
        return HttpsProbe.get(port, path, token);
    }

    static HttpEndpoints secure(int health, int metrics, Serving serving) {
        return HttpEndpoints.start("test", health, metrics, serving,
                AccessReviews.cached(client, AccessReviews.Ttl.SCRAPES),
                new HttpEndpoints.Probes(() -> null, () -> null), () -> "virtfleet_test_up 1\n");
    }

    @Test
    void probesAreOpenAndMetricsNeedAnAuthorizedToken() throws Exception {
        try (HttpEndpoints e = secure(0, 0, Serving.secure("127.0.0.1"))) {
            int h = e.healthPort();
            int m = e.metricsPort();
            assertThat(get(h, "/healthz", null).statusCode()).isEqualTo(200);
            assertThat(get(h, "/readyz", null).body()).isEqualTo("ok\n");

            HttpResponse<String> none = get(m, "/metrics", null);
            assertThat(none.statusCode()).isEqualTo(401);
            assertThat(none.headers().firstValue("WWW-Authenticate")).hasValue("Bearer");
            assertThat(none.body()).contains("bearer token is required").doesNotContain("virtfleet_test_up");

            String forged = readerToken.substring(0, readerToken.lastIndexOf('.') + 1) + "AAAA";
            HttpResponse<String> bad = get(m, "/metrics", forged);
            assertThat(bad.statusCode()).isEqualTo(401);
            assertThat(bad.body()).contains("not accepted").doesNotContain("virtfleet_test_up");
            assertThat(get(m, "/metrics", "not-a-token").statusCode()).isEqualTo(401);

            HttpResponse<String> noRbac = get(m, "/metrics", nobodyToken);
            assertThat(noRbac.statusCode()).isEqualTo(403);
            assertThat(noRbac.body()).contains("User \"system:serviceaccount:" + NS + ":obs-" + RUN + "-nobody\" "
                    + "cannot get path \"/metrics\"").doesNotContain("virtfleet_test_up");

            HttpResponse<String> ok = get(m, "/metrics", readerToken);
            assertThat(ok.statusCode()).isEqualTo(200);
            assertThat(ok.headers().firstValue("Content-Type")).hasValue(HttpEndpoints.PROMETHEUS_TEXT);
            assertThat(ok.body()).isEqualTo("virtfleet_test_up 1\n");

            // Authentication comes before the path, as on kube's secure ports: nothing is revealed to strangers.
            assertThat(get(m, "/healthz", null).statusCode()).as("probes only on the health port").isEqualTo(401);
            assertThat(get(h, "/metrics", null).statusCode()).isEqualTo(401);
            assertThat(get(h, "/metrics", readerToken).statusCode()).as("no metrics on the health port")
                    .isEqualTo(404);
            assertThat(get(m, "/debug", readerToken).statusCode()).as("only /metrics is granted").isEqualTo(403);

            assertThat(plainHttpAnswer(m)).as("plain HTTP gets no HTTP answer").doesNotStartWith("HTTP");
            assertThat(plainHttpAnswer(h)).doesNotStartWith("HTTP");
            assertThat(HttpsProbe.lastPeer().getSubjectX500Principal().getName()).isEqualTo("CN=virtfleet-test");
        }
    }

    @Test
    void oneSharedPortServesProbesOpenlyAndMetricsWithAuthentication() throws Exception {
        int port;
        try (var s = new java.net.ServerSocket(0)) {
            port = s.getLocalPort();
        }
        try (HttpEndpoints e = secure(port, port, Serving.secure("127.0.0.1"))) {
            assertThat(e.metricsPort()).isEqualTo(e.healthPort()).isEqualTo(port);
            assertThat(get(port, "/healthz", null).statusCode()).isEqualTo(200);
            assertThat(get(port, "/metrics", null).statusCode()).isEqualTo(401);
            assertThat(get(port, "/metrics", readerToken).statusCode()).isEqualTo(200);
        }
    }

    @Test
    void plainHttpIsRefusedOnANonLoopbackAddress() {
        for (Serving s : List.of(new Serving("0.0.0.0", "127.0.0.1", null, null, true),
                new Serving("127.0.0.1", "::", null, null, true))) {
            assertThatThrownBy(() -> secure(0, 0, s)).isInstanceOf(ServingFailure.class)
                    .hasMessageStartingWith("--plain-http serves health and metrics without TLS or authentication, "
                            + "which is only allowed on a loopback address: --")
                    .hasMessageNotContaining("\n")
                    .matches(t -> ((ServingFailure) t).badSettings());
        }
        // Off ports are not checked: plain HTTP on every address is fine when nothing listens.
        assertThat(new Serving("0.0.0.0", "0.0.0.0", null, null, true).problem(-1, -1)).isNull();
        assertThat(new Serving("0.0.0.0", "127.0.0.1", null, null, true).problem(-1, 0)).isNull();
        assertThat(Serving.LOOPBACK_PLAIN.problem(0, 0)).isNull();
        assertThat(new Serving("0.0.0.0", "0.0.0.0", Path.of("c.pem"), null, false).problem(0, 0))
                .contains("--tls-cert-file and --tls-private-key-file go together");
        assertThat(new Serving("127.0.0.1", "0.0.0.0", null, null, false).problem(9090, 9090))
                .contains("must be the same");
        assertThat(new Serving("no-such-host.invalid", "0.0.0.0", null, null, false).problem(0, -1))
                .startsWith("--health-address no-such-host.invalid is not an address of this machine");
    }

    @Test
    void aCertificateFromPemFilesIsServed() throws Exception {
        Path dir = Files.createTempDirectory("obs-tls");
        try {
            // PKCS#1 RSA and SEC1 EC keys, as cert-manager writes them by default, and PKCS#8.
            for (List<String> key : List.of(List.of("genrsa", "-traditional", "-out", "k.pem", "2048"),
                    List.of("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "k.pem"),
                    List.of("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "k.pem"))) {
                openssl(dir, key);
                openssl(dir, List.of("req", "-new", "-x509", "-key", "k.pem", "-out", "c.pem", "-days", "2",
                        "-subj", "/CN=metrics.example", "-addext", "subjectAltName=IP:127.0.0.1"));
                String keyPem = Files.readString(dir.resolve("k.pem"));
                try (HttpEndpoints e = secure(-1, 0, new Serving("127.0.0.1", "127.0.0.1", dir.resolve("c.pem"),
                        dir.resolve("k.pem"), false))) {
                    assertThat(get(e.metricsPort(), "/metrics", readerToken).statusCode()).isEqualTo(200);
                    Certificate file;
                    try (InputStream in = Files.newInputStream(dir.resolve("c.pem"))) {
                        file = CertificateFactory.getInstance("X.509").generateCertificate(in);
                    }
                    assertThat(HttpsProbe.lastPeer()).as(keyPem.lines().findFirst().orElse("")).isEqualTo(file);
                }
            }
            // A key of another certificate: refused at start, naming both files.
            openssl(dir, List.of("genrsa", "-out", "other.pem", "2048"));
            assertThatThrownBy(() -> secure(-1, 0, new Serving("127.0.0.1", "127.0.0.1", dir.resolve("c.pem"),
                    dir.resolve("other.pem"), false))).isInstanceOf(ServingFailure.class)
                    .hasMessageContaining("does not belong to the certificate in " + dir.resolve("c.pem"));
        } finally {
            try (var files = Files.walk(dir)) {
                for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    static void openssl(Path dir, List<String> args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("openssl"));
        cmd.addAll(args);
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0).as(cmd + ": " + out).isTrue();
    }

    static String plainHttpAnswer(int port) {
        return HttpsProbe.plainHttpAnswer("127.0.0.1", port);
    }
}
