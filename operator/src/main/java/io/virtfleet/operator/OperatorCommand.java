package io.virtfleet.operator;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.virtfleet.api.v1alpha1.ApiGroup;
import io.virtfleet.observability.startup.ExitCodes;
import io.virtfleet.observability.startup.KubernetesPreflight;
import io.virtfleet.observability.startup.KubernetesPreflight.Permission;
import io.virtfleet.observability.startup.StartupFailure;
import io.virtfleet.observability.serving.ServingFailure;
import io.virtfleet.observability.serving.ServingOptions;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * {@code virtfleet operator}: runs the operator until interrupted. The cli module adds it as a subcommand. Before it
 * starts the controllers it checks the kubeconfig, the apiserver, the CRDs and its permissions
 * ({@link KubernetesPreflight}); a failure there is one line and an exit code of {@link ExitCodes}.
 */
@Command(name = "operator", mixinStandardHelpOptions = true,
        footerHeading = "%nExamples:%n",
        footer = {"  virtfleet operator --kubeconfig ~/.kube/config",
                "  virtfleet operator --leader-election --health-port 8080 --metrics-port 9090",
                "  virtfleet operator --tls-cert-file /etc/virtfleet/tls.crt --tls-private-key-file /etc/virtfleet/tls.key",
                "  virtfleet operator --plain-http --health-address 127.0.0.1 --metrics-address 127.0.0.1"},
        description = {"Runs the virtfleet operator: schedules VirtualMachines to Hosts, renders their domain XML into "
                + "Domain objects for the node agents, and reports status. Runs until interrupted."},
        exitCodeListHeading = "Exit codes:%n",
        exitCodeList = {"0:stopped (SIGTERM/SIGINT)", "1:failed while running (e.g. lost the leader Lease)",
                "2:bad command line", "3:no usable kubeconfig", "4:Kubernetes API unreachable",
                "5:credentials refused or RBAC missing", "6:virtfleet CRDs not installed"})
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
            description = "Port of /healthz and /readyz, HTTPS unless --plain-http; -1 turns them off, 0 picks a "
                    + "free port (default: ${DEFAULT-VALUE}).")
    int healthPort;

    @Option(names = "--metrics-port", paramLabel = "PORT", defaultValue = "" + OperatorConfig.DEFAULT_METRICS_PORT,
            description = "Port of /metrics (Prometheus text format, JOSDK's metrics included), HTTPS and a bearer "
                    + "token unless --plain-http; -1 turns it off (default: ${DEFAULT-VALUE}).")
    int metricsPort;

    @CommandLine.Mixin
    ServingOptions serving = new ServingOptions();

    @Option(names = {"-v", "--verbose"}, description = "Show the stack trace of a start-up failure.")
    boolean verbose;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** The virtfleet.io/v1alpha1 resources the operator watches or writes. */
    static final List<String> RESOURCES = List.of("virtualmachines", "domains", "hosts", "virtualmachinesnapshots",
            "virtualmachinerestores", "virtualmachineclones", "virtualmachinebackups", "virtualmachinefailovers",
            "virtualmachinemigrations");
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

    @Option(names = "--start-grace", paramLabel = "DURATION", defaultValue = "2s",
            converter = DurationConverter.class,
            description = "After creating a VM's Domain, how long its status waits for the agent's first report, so "
                    + "that one status write says scheduled and running (0s: write at once; default: "
                    + "${DEFAULT-VALUE}).")
    Duration startGrace;

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
                .serving(serving.serving())
                .exitOnLostLeadership(true)
                .startGrace(startGrace)
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
        OperatorConfig config = b.build();
        KubernetesClient connected;
        try {
            connected = KubernetesPreflight.connect(kubeconfig, config.serving(), healthPort, metricsPort, RESOURCES,
                    permissions(config), "the operator's are in deploy/base/operator/rbac.yaml");
        } catch (StartupFailure f) {
            return ExitCodes.report("operator", f, verbose, spec.commandLine().getErr());
        }
        // The operator's own client interns the short strings it reads (InterningSerialization): the preflight's
        // client, same configuration, is replaced by one with that mapping before any informer starts.
        Config checked = connected.getConfiguration();
        connected.close();
        try (KubernetesClient client = new KubernetesClientBuilder().withConfig(checked)
                .withKubernetesSerialization(InterningSerialization.create()).build()) {
            VirtfleetOperator operator;
            try {
                operator = new VirtfleetOperator(config).start(client);
            } catch (ServingFailure f) {
                return ExitCodes.report("operator", StartupFailure.of(f), verbose, spec.commandLine().getErr());
            }
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

    /** What the operator's informers and writes need (a subset of deploy/base/operator/rbac.yaml). */
    static List<Permission> permissions(OperatorConfig config) {
        List<Permission> out = new ArrayList<>();
        List<String> scopes = config.namespaces().isEmpty() ? List.of("") : List.copyOf(config.namespaces());
        for (String ns : scopes) {
            for (String r : RESOURCES) {
                if (r.equals("hosts")) {
                    continue;
                }
                out.add(new Permission("list", ApiGroup.GROUP, r, ns, null));
                out.add(new Permission("watch", ApiGroup.GROUP, r, ns, null));
            }
            out.add(new Permission("patch", ApiGroup.GROUP, "virtualmachines/status", ns, null));
            out.add(new Permission("create", ApiGroup.GROUP, "domains", ns, null));
        }
        out.add(Permission.of("list", "hosts"));
        out.add(Permission.of("watch", "hosts"));
        out.add(new Permission("list", "coordination.k8s.io", "leases", ApiGroup.SYSTEM_NAMESPACE, null));
        out.add(new Permission("watch", "coordination.k8s.io", "leases", ApiGroup.SYSTEM_NAMESPACE, null));
        if (config.leaderElection()) {
            out.add(new Permission("create", "coordination.k8s.io", "leases", config.leaseNamespace(), null));
            out.add(new Permission("update", "coordination.k8s.io", "leases", config.leaseNamespace(),
                    config.leaseName()));
        }
        return out;
    }

    static KubernetesClient client(Path kubeconfig) throws java.io.IOException {
        if (kubeconfig == null) {
            return new KubernetesClientBuilder().build();
        }
        Config config = Config.fromKubeconfig(Files.readString(kubeconfig, StandardCharsets.UTF_8));
        return new KubernetesClientBuilder().withConfig(config).build();
    }
}
