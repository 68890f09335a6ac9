package io.virtfleet.observability.serving;

import picocli.CommandLine.Option;

import java.nio.file.Path;

/**
 * The command-line options of {@link Serving}, shared by {@code virtfleet operator} and {@code virtfleet agent}
 * (a picocli mixin), named like kube-controller-manager's secure serving flags.
 */
public final class ServingOptions {
    @Option(names = "--health-address", paramLabel = "ADDR", defaultValue = Serving.ALL_ADDRESSES,
            description = "Address the health port binds (default: ${DEFAULT-VALUE}). HTTPS; /healthz and /readyz "
                    + "need no authentication (kubelet probes: scheme HTTPS), every other path a bearer token.")
    String healthAddress;

    @Option(names = "--metrics-address", paramLabel = "ADDR", defaultValue = Serving.ALL_ADDRESSES,
            description = "Address the metrics port binds (default: ${DEFAULT-VALUE}). HTTPS; /metrics needs a "
                    + "bearer token whose user may `get` the non-resource URL /metrics (TokenReview + "
                    + "SubjectAccessReview; ClusterRole virtfleet-metrics-reader): 401 without or with a bad token, "
                    + "403 without that permission.")
    String metricsAddress;

    @Option(names = "--tls-cert-file", paramLabel = "FILE",
            description = "PEM certificate (chain, leaf first) of the health and metrics ports, e.g. a cert-manager "
                    + "Secret's tls.crt (default: a self-signed certificate made at start-up, kept in memory).")
    Path tlsCertFile;

    @Option(names = "--tls-private-key-file", paramLabel = "FILE",
            description = "Unencrypted PEM private key of --tls-cert-file (PKCS#8, RSA or EC).")
    Path tlsKeyFile;

    @Option(names = "--plain-http",
            description = "Serve health and metrics over plain HTTP without authentication instead; only with "
                    + "loopback addresses (--health-address 127.0.0.1 --metrics-address 127.0.0.1), refused "
                    + "otherwise.")
    boolean plainHttp;

    public Serving serving() {
        return new Serving(healthAddress, metricsAddress, tlsCertFile, tlsKeyFile, plainHttp);
    }
}
