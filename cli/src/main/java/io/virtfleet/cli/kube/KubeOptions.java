package io.virtfleet.cli.kube;

import io.fabric8.kubernetes.api.model.NamedContext;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.jdkhttp.JdkHttpClientFactory;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * kubectl's connection flags, with kubectl's meaning: {@code --kubeconfig} (else {@code $KUBECONFIG}, else
 * {@code ~/.kube/config}, else the in-cluster service account), {@code --context} (else the current context) and
 * {@code -n/--namespace} (else the context's namespace, else {@code default}).
 */
public final class KubeOptions {
    @Option(names = "--kubeconfig", paramLabel = "FILE",
            description = "Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).")
    Path kubeconfig;

    @Option(names = "--context", paramLabel = "NAME", description = "The kubeconfig context to use (default: its "
            + "current-context).")
    String context;

    @Option(names = {"-n", "--namespace"}, paramLabel = "NS",
            description = "Namespace of the VM (default: the context's namespace, else default).")
    String namespace;

    @Option(names = "--request-timeout", paramLabel = "SECONDS", defaultValue = "30",
            description = "How long one API request may take (default: ${DEFAULT-VALUE}).")
    int requestTimeoutSeconds;

    private Config config;

    /** The client config the flags describe; a Refusal (exit 2) when the kubeconfig cannot be used. */
    public synchronized Config config() {
        if (config != null) {
            return config;
        }
        quietClientLogs();
        Config c;
        try {
            if (kubeconfig != null) {
                if (!Files.isRegularFile(kubeconfig)) {
                    throw new Refusal(Refusal.FAILURE, "--kubeconfig " + kubeconfig + ": no such file");
                }
                c = Config.fromKubeconfig(context, kubeconfig.toFile());
            } else {
                boolean anyFile = Config.getKubeconfigFilenames().stream().anyMatch(f -> Files.isRegularFile(Path.of(f)));
                if (!anyFile && !Files.isRegularFile(Path.of(Config.KUBERNETES_SERVICE_ACCOUNT_TOKEN_PATH))) {
                    throw new Refusal(Refusal.FAILURE, "no kubeconfig: pass --kubeconfig FILE or set $KUBECONFIG "
                            + "(looked for " + String.join(", ", Config.getKubeconfigFilenames()) + ")");
                }
                c = Config.autoConfigure(context);
            }
        } catch (KubernetesClientException | IllegalArgumentException e) {
            throw new Refusal(Refusal.FAILURE, "cannot use the kubeconfig: " + ApiErrors.oneLine(String.valueOf(
                    e.getMessage())));
        }
        if (context != null) {
            NamedContext current = c.getCurrentContext();
            if (current == null || !context.equals(current.getName())) {
                throw new Refusal(Refusal.FAILURE, "--context " + context + ": no such context in "
                        + (kubeconfig != null ? kubeconfig : "the kubeconfig ($KUBECONFIG or ~/.kube/config)"));
            }
        }
        c.setRequestTimeout(requestTimeoutSeconds * 1000);
        c.setConnectionTimeout(Math.min(requestTimeoutSeconds, 10) * 1000);
        // One try: a person wants the answer (or the reason there is none) now, not after the client's back-off.
        c.setRequestRetryBackoffLimit(0);
        config = c;
        return c;
    }

    /** A new client (the caller closes it). */
    public KubernetesClient client() {
        quietClientLogs();
        Config c = config();
        // One HTTP client explicitly (the jar carries two; fabric8 would pick one at random and warn about it).
        return new KubernetesClientBuilder().withConfig(c).withHttpClientFactory(new JdkHttpClientFactory()).build();
    }

    /**
     * The client's own INFO/WARN chatter (e.g. "unstable version v1alpha1") is noise on a person's terminal; what
     * went wrong is reported as one line by the command. Set before slf4j-simple reads its configuration.
     */
    static void quietClientLogs() {
        if (System.getProperty("org.slf4j.simpleLogger.log.io.fabric8") == null) {
            System.setProperty("org.slf4j.simpleLogger.log.io.fabric8", "error");
        }
    }

    /** -n, else the context's namespace, else default. */
    public String namespace() {
        if (namespace != null && !namespace.isBlank()) {
            return namespace;
        }
        String ns = config().getNamespace();
        return ns == null || ns.isBlank() ? "default" : ns;
    }
}
