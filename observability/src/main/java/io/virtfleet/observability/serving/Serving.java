package io.virtfleet.observability.serving;

import io.virtfleet.observability.startup.KubernetesPreflight;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.List;

/**
 * How the health and metrics ports are served, following Kubernetes' own components (kube-controller-manager's
 * secure port): HTTPS with the certificate of {@code tlsCertFile}/{@code tlsKeyFile}, or one made at start-up when
 * none is given; {@code /metrics} (and every other path) only for a bearer token that passes a TokenReview and a
 * SubjectAccessReview; {@code /healthz} and {@code /readyz} without authentication, as kube's
 * {@code --authorization-always-allow-paths} default, for the kubelet's probes.
 *
 * <p>{@code plainHttp}: HTTP without TLS or authentication, which is only accepted on a loopback address (a local
 * run, {@code virtfleet demo}, a sidecar scraping on 127.0.0.1): anything that reaches it already runs on this
 * machine.
 */
public record Serving(String healthAddress, String metricsAddress, Path tlsCertFile, Path tlsKeyFile,
                      boolean plainHttp) {
    /** Every IPv4 address: what a pod needs for the kubelet's probes and Prometheus to reach it. */
    public static final String ALL_ADDRESSES = "0.0.0.0";
    /** Plain HTTP on 127.0.0.1: the in-process default (tests, embedding); safe because nothing else reaches it. */
    public static final Serving LOOPBACK_PLAIN = new Serving("127.0.0.1", "127.0.0.1", null, null, true);

    /** HTTPS with a self-signed certificate and delegated authentication, on {@code address}. */
    public static Serving secure(String address) {
        return new Serving(address, address, null, null, false);
    }

    public Serving {
        healthAddress = healthAddress == null || healthAddress.isBlank() ? ALL_ADDRESSES : healthAddress.strip();
        metricsAddress = metricsAddress == null || metricsAddress.isBlank() ? ALL_ADDRESSES : metricsAddress.strip();
    }

    /**
     * Null when these settings may serve {@code healthPort}/{@code metricsPort} (negative: off); else why not, one
     * line naming the flags.
     */
    public String problem(int healthPort, int metricsPort) {
        if ((tlsCertFile == null) != (tlsKeyFile == null)) {
            return "--tls-cert-file and --tls-private-key-file go together (give both, or neither for a "
                    + "self-signed certificate)";
        }
        if (plainHttp && tlsCertFile != null) {
            return "--plain-http serves no TLS: drop it or --tls-cert-file/--tls-private-key-file";
        }
        if (healthPort >= 0 && healthPort == metricsPort && healthPort != 0 && !healthAddress.equals(metricsAddress)) {
            return "--health-port and --metrics-port are both " + healthPort + ", so --health-address ("
                    + healthAddress + ") and --metrics-address (" + metricsAddress + ") must be the same";
        }
        for (String[] a : new String[][] {{"--health-address", healthAddress, Integer.toString(healthPort)},
                {"--metrics-address", metricsAddress, Integer.toString(metricsPort)}}) {
            if (Integer.parseInt(a[2]) < 0) {
                continue;
            }
            InetAddress address;
            try {
                address = InetAddress.getByName(a[1]);
            } catch (UnknownHostException e) {
                return a[0] + " " + a[1] + " is not an address of this machine (an IP address, e.g. 0.0.0.0 or "
                        + "127.0.0.1)";
            }
            if (plainHttp && !address.isLoopbackAddress()) {
                return "--plain-http serves health and metrics without TLS or authentication, which is only allowed "
                        + "on a loopback address: " + a[0] + " is " + a[1] + " (use 127.0.0.1, or drop --plain-http "
                        + "for HTTPS with bearer-token authentication)";
            }
        }
        return null;
    }

    /**
     * What serving {@code healthPort}/{@code metricsPort} needs of RBAC (for the start-up check): creating
     * TokenReviews and SubjectAccessReviews, unless everything is off or plain HTTP.
     */
    public List<KubernetesPreflight.Permission> permissions(int healthPort, int metricsPort) {
        if (plainHttp || (healthPort < 0 && metricsPort < 0)) {
            return List.of();
        }
        return REVIEW_PERMISSIONS;
    }

    /** {@code create} on tokenreviews and subjectaccessreviews, cluster-wide (RBAC's system:auth-delegator). */
    public static final List<KubernetesPreflight.Permission> REVIEW_PERMISSIONS = List.of(
            new KubernetesPreflight.Permission("create", "authentication.k8s.io", "tokenreviews", null, null),
            new KubernetesPreflight.Permission("create", "authorization.k8s.io", "subjectaccessreviews", null, null));

    /** The address {@code metrics}' or the health port binds. */
    public String address(boolean metrics) {
        return metrics ? metricsAddress : healthAddress;
    }
}
