package io.virtfleet.operator;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.virtfleet.api.v1alpha1.ApiGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * {@code virtfleet operator}: runs the operator until interrupted. The cli module adds it as a subcommand.
 */
@Command(name = "operator", mixinStandardHelpOptions = true,
        description = {"Runs the virtfleet operator: schedules VirtualMachines to Hosts, renders their domain XML into "
                + "Domain objects for the node agents, and reports status. Runs until interrupted."})
public final class OperatorCommand implements Callable<Integer> {
    @Option(names = "--kubeconfig", paramLabel = "FILE",
            description = "kubeconfig to use (default: $KUBECONFIG, ~/.kube/config, or the in-cluster service account).")
    Path kubeconfig;

    @Option(names = "--leader-election", description = "Elect a leader through a Lease so several replicas are safe; "
            + "a replica that loses the Lease exits.")
    boolean leaderElection;

    @Option(names = {"-n", "--namespace"}, paramLabel = "NS", split = ",",
            description = "Only reconcile VirtualMachines in these namespaces (repeatable or comma-separated; default: "
                    + "all).")
    List<String> namespaces;

    @Option(names = "--lease-namespace", paramLabel = "NS", defaultValue = ApiGroup.SYSTEM_NAMESPACE,
            description = "Namespace of the leader-election Lease (default: ${DEFAULT-VALUE}).")
    String leaseNamespace;

    @Option(names = "--lease-name", paramLabel = "NAME", defaultValue = OperatorConfig.DEFAULT_LEASE_NAME,
            description = "Name of the leader-election Lease (default: ${DEFAULT-VALUE}).")
    String leaseName;

    @Option(names = "--identity", paramLabel = "ID", description = "This replica's identity in the Lease (default: "
            + "$HOSTNAME plus a random suffix).")
    String identity;

    @Option(names = "--shutdown-timeout", paramLabel = "SECONDS", defaultValue = "120",
            description = "Seconds a graceful guest shutdown may take before the domain is destroyed (default: "
                    + "${DEFAULT-VALUE}).")
    int shutdownTimeoutSeconds;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "4",
            description = "Concurrent reconciliations (default: ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--health-port", paramLabel = "PORT", defaultValue = "" + OperatorConfig.DEFAULT_HEALTH_PORT,
            description = "Port of /healthz and /readyz; -1 turns them off, 0 picks a free port (default: "
                    + "${DEFAULT-VALUE}).")
    int healthPort;

    @Option(names = "--metrics-port", paramLabel = "PORT", defaultValue = "" + OperatorConfig.DEFAULT_METRICS_PORT,
            description = "Port of /metrics (Prometheus text format); -1 turns it off (default: ${DEFAULT-VALUE}).")
    int metricsPort;

    @Option(names = "--request-pending-deadline", paramLabel = "DURATION", defaultValue = "10m",
            converter = DurationConverter.class,
            description = "How long a snapshot, restore, clone or backup may wait to be taken up (no phase, or "
                    + "Pending) after its creation before it fails (default: ${DEFAULT-VALUE}).")
    Duration requestPendingDeadline;

    @Option(names = "--request-work-deadline", paramLabel = "DURATION", defaultValue = "60m",
            converter = DurationConverter.class,
            description = "How long a snapshot, restore, clone or backup may take in all (copying disks, creating "
                    + "the new VM) after its creation before it fails (default: ${DEFAULT-VALUE}).")
    Duration requestWorkDeadline;

    /** Converts 15s / 500ms / 2m / 1h / PT15S. */
    public static final class DurationConverter implements picocli.CommandLine.ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            return io.virtfleet.reconcilers.lifecycle.Durations.parse(value);
        }
    }

    @Override
    public Integer call() throws Exception {
        OperatorConfig.Builder b = OperatorConfig.builder()
                .leaderElection(leaderElection)
                .leaseNamespace(leaseNamespace)
                .leaseName(leaseName)
                .shutdownTimeoutSeconds(shutdownTimeoutSeconds)
                .reconcileThreads(threads)
                .healthPort(healthPort)
                .metricsPort(metricsPort)
                .exitOnLostLeadership(true)
                .requestDeadlines(new io.virtfleet.reconcilers.requests.RequestDeadlines.Limits(requestPendingDeadline,
                        requestWorkDeadline));
        if (namespaces != null && !namespaces.isEmpty()) {
            Set<String> ns = new LinkedHashSet<>();
            for (String n : namespaces) {
                if (!n.isBlank()) {
                    ns.add(n.trim());
                }
            }
            b.namespaces(ns);
        }
        if (identity != null && !identity.isBlank()) {
            b.identity(identity);
        }
        try (KubernetesClient client = client(kubeconfig)) {
            VirtfleetOperator operator = new VirtfleetOperator(b.build()).start(client);
            Thread hook = new Thread(operator::close, "virtfleet-operator-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
            try {
                operator.awaitTermination();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                operator.close();
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException e) {
                    // the JVM is already shutting down
                }
            }
            return 0;
        }
    }

    static KubernetesClient client(Path kubeconfig) throws java.io.IOException {
        if (kubeconfig == null) {
            return new KubernetesClientBuilder().build();
        }
        Config config = Config.fromKubeconfig(Files.readString(kubeconfig, StandardCharsets.UTF_8));
        return new KubernetesClientBuilder().withConfig(config).build();
    }
}
