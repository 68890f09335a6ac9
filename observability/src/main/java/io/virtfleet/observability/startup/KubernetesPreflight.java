package io.virtfleet.observability.startup;

import io.fabric8.kubernetes.api.model.APIResource;
import io.fabric8.kubernetes.api.model.APIResourceList;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectAccessReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectAccessReviewBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.virtfleet.api.v1alpha1.ApiGroup;
import io.virtfleet.observability.serving.Serving;

import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLException;

/**
 * What a daemon checks before it starts its controllers, so that the usual set-up mistakes end in one line naming
 * what was tried and what to check, with an exit code of {@link ExitCodes}, instead of a stack trace from deep inside
 * an informer: a kubeconfig exists and parses, the apiserver answers ({@code /version}), it serves virtfleet's CRDs
 * (API discovery of {@code virtfleet.io/v1alpha1}), and RBAC grants what the daemon will do
 * ({@code SelfSubjectAccessReview}, which every authenticated user may create: {@code system:basic-user}).
 */
public final class KubernetesPreflight {
    /** Where an in-cluster client finds its credentials (Kubernetes mounts the ServiceAccount token there). */
    static final Path SERVICE_ACCOUNT_TOKEN = Path.of("/var/run/secrets/kubernetes.io/serviceaccount/token");

    /** One permission the daemon needs; namespace null or empty: cluster-wide; name null: any. */
    public record Permission(String verb, String group, String resource, String namespace, String name) {
        public static Permission of(String verb, String resource) {
            return new Permission(verb, ApiGroup.GROUP, resource, null, null);
        }

        String describe() {
            String r = resource + (group == null || group.isEmpty() ? "" : "." + group)
                    + (name != null ? " " + name : "");
            return verb + " " + r + (namespace == null || namespace.isEmpty() ? " (cluster-wide)"
                    : " in namespace " + namespace);
        }
    }

    /** A resolved kubeconfig and where it came from (for messages: "kubeconfig /x", "in-cluster service account"). */
    public record Source(Config config, String description) {
    }

    private KubernetesPreflight() {
    }

    /**
     * Resolves the kubeconfig as the daemons document it: {@code --kubeconfig FILE}, else {@code $KUBECONFIG}, else
     * {@code ~/.kube/config}, else the in-cluster service account.
     */
    public static Source resolve(Path kubeconfig, Map<String, String> env) throws StartupFailure {
        if (kubeconfig != null) {
            return fromFile(kubeconfig, "--kubeconfig " + kubeconfig);
        }
        String fromEnv = env.get("KUBECONFIG");
        if (fromEnv != null && !fromEnv.isBlank()) {
            for (String part : fromEnv.split(java.io.File.pathSeparator)) {
                if (!part.isBlank() && Files.isRegularFile(Path.of(part))) {
                    return fromFile(Path.of(part), "$KUBECONFIG " + part);
                }
            }
            throw new StartupFailure(ExitCodes.NO_KUBECONFIG, "no kubeconfig: $KUBECONFIG is " + fromEnv
                    + ", which names no existing file; set it to a kubeconfig file or pass --kubeconfig FILE");
        }
        String home = env.getOrDefault("HOME", System.getProperty("user.home"));
        Path dflt = Path.of(home == null ? "/" : home, ".kube", "config");
        if (Files.isRegularFile(dflt)) {
            return fromFile(dflt, "kubeconfig " + dflt);
        }
        if (env.get("KUBERNETES_SERVICE_HOST") != null && Files.isRegularFile(SERVICE_ACCOUNT_TOKEN)) {
            return new Source(Config.autoConfigure(null), "the in-cluster service account (" + SERVICE_ACCOUNT_TOKEN
                    + ")");
        }
        throw new StartupFailure(ExitCodes.NO_KUBECONFIG, "no kubeconfig: tried --kubeconfig (not given), $KUBECONFIG "
                + "(not set), " + dflt + " (no such file) and the in-cluster service account (not in a pod: no "
                + "KUBERNETES_SERVICE_HOST or no " + SERVICE_ACCOUNT_TOKEN + "); pass --kubeconfig FILE or set "
                + "KUBECONFIG");
    }

    private static Source fromFile(Path file, String what) throws StartupFailure {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new StartupFailure(ExitCodes.NO_KUBECONFIG, what + ": no such file; pass --kubeconfig with an "
                    + "existing kubeconfig file", e);
        } catch (java.nio.file.AccessDeniedException e) {
            throw new StartupFailure(ExitCodes.NO_KUBECONFIG, what + ": permission denied reading it; check the "
                    + "file's owner and mode", e);
        } catch (IOException e) {
            throw new StartupFailure(ExitCodes.NO_KUBECONFIG, what + ": cannot be read (" + e.getMessage() + ")", e);
        }
        try {
            Config c = Config.fromKubeconfig(null, text, file.toString());
            if (c.getMasterUrl() == null || c.getMasterUrl().isBlank()) {
                throw new StartupFailure(ExitCodes.NO_KUBECONFIG, what + ": its current context names no server; "
                        + "check current-context and the cluster's server in the file");
            }
            return new Source(c, "kubeconfig " + file);
        } catch (RuntimeException e) {
            // fabric8 throws whatever its YAML parser or its kubeconfig model throws; all mean "not a kubeconfig".
            throw new StartupFailure(ExitCodes.NO_KUBECONFIG, what + " is not a usable kubeconfig ("
                    + firstLine(e.getMessage()) + "); check the file (kubectl --kubeconfig " + file
                    + " config view)", e);
        }
    }

    /**
     * A daemon's start, before its controllers: the serving settings make sense ({@link Serving#problem}), the
     * kubeconfig resolves ({@link #resolve}, from the process environment) and {@link #check} passes for
     * {@code needed} plus what serving the health and metrics ports needs; then a client on that kubeconfig.
     *
     * @param rbacHint where the daemon's RBAC is defined, for the message ("deploy/base/operator/rbac.yaml")
     */
    public static KubernetesClient connect(Path kubeconfig, Serving serving, int healthPort, int metricsPort,
                                           Collection<String> resources, Collection<Permission> needed,
                                           String rbacHint) throws StartupFailure {
        String servingProblem = serving.problem(healthPort, metricsPort);
        if (servingProblem != null) {
            throw new StartupFailure(ExitCodes.USAGE, servingProblem);
        }
        Source source = resolve(kubeconfig, System.getenv());
        List<Permission> all = new ArrayList<>(needed);
        all.addAll(serving.permissions(healthPort, metricsPort));
        check(source, resources, all.stream().distinct().toList(), rbacHint);
        return new KubernetesClientBuilder().withConfig(source.config()).build();
    }

    /**
     * Checks that the apiserver of {@code source} answers, serves {@code resources} of virtfleet.io/v1alpha1 and
     * grants {@code permissions}; returns normally when it does.
     *
     * @param rbacHint where the daemon's RBAC is defined, for the message ("deploy/base/operator/rbac.yaml")
     */
    public static void check(Source source, Collection<String> resources, List<Permission> permissions,
                             String rbacHint) throws StartupFailure {
        // Short timeouts and no retries: this is a diagnosis; the daemon's own client keeps the usual ones. HTTP/1.1:
        // kube-apiserver answers an unauthenticated HTTP/2 client with GOAWAY (its mitigation of HTTP/2 rapid reset,
        // CVE-2023-44487), which the JDK client reports instead of the 401 it got.
        Config c = new ConfigBuilder(source.config()).withConnectionTimeout(5_000).withRequestTimeout(10_000)
                .withRequestRetryBackoffLimit(1).withRequestRetryBackoffInterval(200).withHttp2Disable(true).build();
        String server = c.getMasterUrl();
        try (KubernetesClient client = new KubernetesClientBuilder().withConfig(c).build()) {
            reachable(client, server, source);
            crds(client, server, resources);
            permissions(client, server, source, permissions, rbacHint);
        }
    }

    private static void reachable(KubernetesClient client, String server, Source source) throws StartupFailure {
        try {
            client.getKubernetesVersion();
        } catch (KubernetesClientException e) {
            if (e.getCode() == 401 || e.getCode() == 403) {
                throw notAuthenticated(e, server, source);
            }
            throw new StartupFailure(ExitCodes.APISERVER_UNREACHABLE, "cannot reach the Kubernetes API at " + server
                    + " (from " + source.description() + "): " + why(e) + "; check that the apiserver runs and that "
                    + "this address is right and reachable from here", e);
        }
    }

    private static void crds(KubernetesClient client, String server, Collection<String> resources)
            throws StartupFailure {
        Set<String> served = new HashSet<>();
        try {
            APIResourceList list = client.getApiResources(ApiGroup.API_VERSION);
            if (list != null && list.getResources() != null) {
                for (APIResource r : list.getResources()) {
                    served.add(r.getName());
                }
            }
        } catch (KubernetesClientException e) {
            if (e.getCode() != 404) {
                throw new StartupFailure(ExitCodes.APISERVER_UNREACHABLE, "the Kubernetes API at " + server
                        + " failed API discovery of " + ApiGroup.API_VERSION + ": " + why(e), e);
            }
        }
        List<String> missing = new ArrayList<>();
        for (String r : resources) {
            if (!served.contains(r)) {
                missing.add(r);
            }
        }
        if (!missing.isEmpty()) {
            throw new StartupFailure(ExitCodes.CRDS_MISSING, "the Kubernetes API at " + server + " does not serve "
                    + String.join(", ", missing) + " (" + ApiGroup.API_VERSION + "): virtfleet's CRDs are not "
                    + "installed; install them with kubectl apply --server-side -k deploy/base (or -f crds/)");
        }
    }

    private static void permissions(KubernetesClient client, String server, Source source,
                                    List<Permission> permissions, String rbacHint) throws StartupFailure {
        List<String> denied = new ArrayList<>();
        for (Permission p : permissions) {
            SelfSubjectAccessReview review;
            try {
                review = client.resource(new SelfSubjectAccessReviewBuilder().withNewSpec().withNewResourceAttributes()
                        .withVerb(p.verb()).withGroup(p.group()).withResource(p.resource())
                        .withNamespace(p.namespace()).withName(p.name()).endResourceAttributes().endSpec().build())
                        .create();
            } catch (KubernetesClientException e) {
                if (e.getCode() == 401 || e.getCode() == 403) {
                    throw notAuthenticated(e, server, source);
                }
                throw new StartupFailure(ExitCodes.APISERVER_UNREACHABLE, "the Kubernetes API at " + server
                        + " failed a SelfSubjectAccessReview: " + why(e), e);
            }
            if (review.getStatus() == null || !Boolean.TRUE.equals(review.getStatus().getAllowed())) {
                denied.add(p.describe());
            }
        }
        if (!denied.isEmpty()) {
            throw new StartupFailure(ExitCodes.NOT_PERMITTED, user(source) + " may not " + String.join(", ", denied)
                    + " (Kubernetes API at " + server + "); check the RoleBindings and ClusterRoleBindings of that "
                    + "user (" + rbacHint + ")");
        }
    }

    private static StartupFailure notAuthenticated(KubernetesClientException e, String server, Source source) {
        return new StartupFailure(ExitCodes.NOT_PERMITTED, "the Kubernetes API at " + server + " refused the "
                + "credentials of " + source.description() + " (" + e.getCode() + " " + (e.getCode() == 401
                ? "Unauthorized" : "Forbidden") + "); check the user's token or client certificate in it", e);
    }

    private static String user(Source source) {
        Config c = source.config();
        if (c.getImpersonateUsername() != null) {
            return "user " + c.getImpersonateUsername() + " (impersonated, " + source.description() + ")";
        }
        if (c.getUsername() != null) {
            return "user " + c.getUsername() + " (" + source.description() + ")";
        }
        return "the user of " + source.description();
    }

    /** The root cause in a few words: connection refused, unknown host x, TLS handshake failed: ..., timed out. */
    static String why(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ConnectException) {
                return "connection refused";
            }
            if (t instanceof UnknownHostException u) {
                return "unknown host " + u.getMessage();
            }
            if (t instanceof NoRouteToHostException) {
                return "no route to host";
            }
            if (t instanceof SSLException s) {
                return "TLS handshake failed (" + firstLine(s.getMessage()) + "); check certificate-authority and "
                        + "the server name";
            }
            if (t instanceof HttpTimeoutException || t instanceof TimeoutException
                    || t instanceof java.net.SocketTimeoutException) {
                return "no answer (timed out)";
            }
            if (t.getCause() == null && t instanceof KubernetesClientException k && k.getCode() > 0) {
                return "HTTP " + k.getCode() + " " + firstLine(k.getMessage());
            }
        }
        Throwable root = e;
        while (root.getCause() != null) {
            root = root.getCause();
        }
        return firstLine(root.getMessage() != null ? root.getMessage() : root.getClass().getSimpleName());
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
