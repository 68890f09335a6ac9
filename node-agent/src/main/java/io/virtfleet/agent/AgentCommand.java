package io.virtfleet.agent;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.virtfleet.api.v1alpha1.ApiGroup;
import io.virtfleet.observability.startup.ExitCodes;
import io.virtfleet.observability.startup.KubernetesPreflight;
import io.virtfleet.observability.startup.KubernetesPreflight.Permission;
import io.virtfleet.observability.startup.StartupFailure;
import io.virtfleet.agent.console.ConsoleServer;
import io.virtfleet.observability.serving.ServingFailure;
import io.virtfleet.observability.serving.ServingOptions;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * {@code virtfleet agent}: runs the node agent in the foreground until SIGTERM/SIGINT. The CLI module adds it as a
 * subcommand; {@link #main} runs it standalone. Before it starts it checks the kubeconfig, the apiserver, the CRDs
 * and its permissions ({@link KubernetesPreflight}), and after starting it waits up to {@code --libvirt-wait} for a
 * first libvirt connection; a failure there is one line and an exit code of {@link ExitCodes}.
 */
@Command(name = "agent", mixinStandardHelpOptions = true,
        footerHeading = "%nExamples:%n",
        footer = {"  virtfleet agent --host node-a --allowed-root /var/lib/virtfleet",
                "  virtfleet agent --host node-a --console-port 8443 --console-address 0.0.0.0 "
                        + "--console-advertise node-a.example.org",
                "  virtfleet agent --host node-a --health-port 8080 --metrics-port 9090 "
                        + "--tls-cert-file /etc/virtfleet/tls.crt --tls-private-key-file /etc/virtfleet/tls.key",
                "  virtfleet agent --host node-a --health-port 8080 --metrics-port 9090 --plain-http "
                        + "--health-address 127.0.0.1 --metrics-address 127.0.0.1"},
        description = {"Run the virtfleet node agent: register this host, keep its heartbeat Lease, and make libvirt "
                + "match the Domains assigned to it."},
        exitCodeListHeading = "Exit codes:%n",
        exitCodeList = {"0:stopped (SIGTERM/SIGINT)", "1:failed while running", "2:bad command line",
                "3:no usable kubeconfig", "4:Kubernetes API unreachable", "5:credentials refused or RBAC missing",
                "6:virtfleet CRDs not installed", "7:libvirt unreachable at start (socket missing, refused, "
                + "permission denied)"})
public class AgentCommand implements Callable<Integer> {
    @Option(names = "--host", required = true, description = "Name of this host (the Host object and the "
            + "virtfleet.io/host label value).")
    String host;

    @Option(names = "--libvirt-uri", defaultValue = AgentConfig.DEFAULT_URI,
            description = "libvirt connection URI (default: ${DEFAULT-VALUE}).")
    String libvirtUri;

    @Option(names = "--kubeconfig", description = "kubeconfig file (default: $KUBECONFIG, ~/.kube/config or "
            + "in-cluster).")
    Path kubeconfig;

    @Option(names = "--allowed-root", paramLabel = "DIR", description = "Directory under which disk images, kernels "
            + "and other files of domains may live; repeatable (default: /var/lib/virtfleet).")
    List<String> allowedRoots = new ArrayList<>();

    @Option(names = "--shared-root", paramLabel = "DIR", description = "An allowed root that is on storage other "
            + "hosts mount at the same path (NFS, a cluster filesystem); repeatable. A VM is live-migrated only when "
            + "all its disks, kernel and initrd are under roots both hosts declare shared (default: none).")
    List<String> sharedRoots = new ArrayList<>();

    @Option(names = "--migration-uri", paramLabel = "URI", description = "libvirt URI by which other hosts' libvirtd "
            + "reach this host's for a peer-to-peer live migration, e.g. qemu+tls://node-b.example/system; published "
            + "in Host.spec.migrationUri (default: none, this host accepts no live migrations).")
    String migrationUri;

    @Option(names = "--domain-prefix", defaultValue = "", description = "Required prefix of libvirt domain names "
            + "(lets several agents share one libvirtd).")
    String domainPrefix;

    @Option(names = "--console-log-dir", paramLabel = "DIR", description = "Log each domain's serial console to "
            + "DIR/<domain>.log (DIR must lie under an allowed root).")
    String consoleLogDir;

    @Option(names = "--guest-channel-dir", paramLabel = "DIR", description = "Give each kvm/qemu domain a guest channel "
            + "(virtio-serial port io.virtfleet.guest.0) on the socket DIR/<domain>.chan.sock (under an allowed root).")
    String guestChannelDir;

    @Option(names = "--lease-duration", defaultValue = "15s", converter = DurationConverter.class,
            description = "Heartbeat Lease duration; renewed every third of it (default: ${DEFAULT-VALUE}).")
    Duration leaseDuration;

    @Option(names = "--resync", defaultValue = "30s", converter = DurationConverter.class,
            description = "Full resync period, the safety net behind libvirt events (default: ${DEFAULT-VALUE}).")
    Duration resync;

    @Option(names = "--workers", defaultValue = "4", description = "Domains synced in parallel "
            + "(default: ${DEFAULT-VALUE}).")
    int workers;

    @Option(names = "--health-port", paramLabel = "PORT", defaultValue = "-1",
            description = "Port of /healthz (live) and /readyz (libvirt connected, Domains listed), HTTPS unless "
                    + "--plain-http; -1 turns them off, 0 picks a free port (default: ${DEFAULT-VALUE}; the DaemonSet "
                    + "uses 8080).")
    int healthPort;

    @Option(names = "--metrics-port", paramLabel = "PORT", defaultValue = "-1",
            description = "Port of /metrics (Prometheus text format), HTTPS and a bearer token unless --plain-http; "
                    + "-1 turns it off; may equal --health-port (default: ${DEFAULT-VALUE}; the DaemonSet uses 9090).")
    int metricsPort;

    @CommandLine.Mixin
    ServingOptions serving = new ServingOptions();

    @Option(names = "--max-image-size", paramLabel = "SIZE", defaultValue = "32Gi", converter = ByteSizeConverter.class,
            description = "Largest disk image this host downloads into its image cache, as a Kubernetes quantity; a "
                    + "bigger one fails naming the VM's spec.disks[N].volume.image.url and its partial file is "
                    + "removed (default: ${DEFAULT-VALUE}).")
    long maxImageSize;

    @Option(names = "--image-cache-interval", paramLabel = "DURATION", defaultValue = "5m",
            converter = DurationConverter.class,
            description = "How often the agent checks its image cache against the Host's spec.imageCache.maxSize and "
                    + "deletes cached bases no disk here uses, least recently used first; it also checks after each "
                    + "download (default: ${DEFAULT-VALUE}).")
    Duration imageCacheInterval;

    @Option(names = "--image-cache-grace", paramLabel = "DURATION", defaultValue = "2m",
            converter = DurationConverter.class,
            description = "A cached base used (downloaded, or given a new VM disk) less than this long ago is never "
                    + "evicted, so a VM being created cannot lose its base (default: ${DEFAULT-VALUE}).")
    Duration imageCacheGrace;

    @Option(names = "--libvirt-wait", defaultValue = "60s", converter = DurationConverter.class,
            description = "How long to wait at start for a first connection to libvirt before exiting with code 7 "
                    + "(default: ${DEFAULT-VALUE}; 0: fail at once). Once connected, libvirtd restarts are "
                    + "retried for ever.")
    Duration libvirtWait;

    @Option(names = {"-v", "--verbose"}, description = "Show the stack trace of a start-up failure.")
    boolean verbose;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** The virtfleet.io/v1alpha1 resources the agent watches or writes. */
    static final List<String> RESOURCES = List.of("domains", "hosts", "virtualmachinesnapshots",
            "virtualmachinerestores", "virtualmachineclones", "virtualmachinebackups");

    /** What the agent's informers and writes need (a subset of deploy/base/agent/rbac.yaml). */
    static List<Permission> permissions() {
        List<Permission> out = new ArrayList<>();
        for (String r : RESOURCES) {
            if (!r.equals("hosts")) {
                out.add(Permission.of("list", r));
                out.add(Permission.of("watch", r));
            }
        }
        out.add(Permission.of("patch", "domains/status"));
        out.add(Permission.of("get", "hosts"));
        out.add(Permission.of("create", "hosts"));
        out.add(new Permission("get", "coordination.k8s.io", "leases", ApiGroup.SYSTEM_NAMESPACE, null));
        out.add(new Permission("create", "coordination.k8s.io", "leases", ApiGroup.SYSTEM_NAMESPACE, null));
        return out;
    }
    @Option(names = "--console-port", paramLabel = "PORT", defaultValue = "-1",
            description = "Serve the VMs' serial consoles, VNC displays and guest ports to Kubernetes-authorized users "
                    + "(`virtfleet vm console|vnc|port-forward`) on "
                    + "this TLS port; -1 turns it off, 0 picks a free port (default: ${DEFAULT-VALUE}).")
    int consolePort;

    @Option(names = "--console-address", paramLabel = "ADDR", defaultValue = "127.0.0.1",
            description = "Address the console endpoint binds to (default: ${DEFAULT-VALUE}; 0.0.0.0 for clients on "
                    + "other machines: the endpoint is TLS and checks every caller's token with the apiserver).")
    String consoleAddress;

    @Option(names = "--console-advertise", paramLabel = "HOST",
            description = "Name or address clients reach the console endpoint at (default: the bind address, or "
                    + "this machine's name when binding 0.0.0.0).")
    String consoleAdvertise;

    /** Converts 15s / 500ms / 2m / PT15S. */
    public static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            return AgentConfig.parseDuration(value);
        }
    }

    /** Converts a Kubernetes quantity (32Gi, 500M, 1073741824) to a positive number of bytes. */
    public static final class ByteSizeConverter implements CommandLine.ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            java.math.BigDecimal b;
            try {
                b = io.fabric8.kubernetes.api.model.Quantity.getAmountInBytes(
                        io.fabric8.kubernetes.api.model.Quantity.parse(value));
            } catch (RuntimeException e) {
                throw new CommandLine.TypeConversionException("'" + value + "' is not a quantity (e.g. 32Gi)");
            }
            if (b.signum() <= 0 || b.compareTo(java.math.BigDecimal.valueOf(Long.MAX_VALUE)) > 0) {
                throw new CommandLine.TypeConversionException("'" + value + "' must be a positive size (e.g. 32Gi)");
            }
            return b.setScale(0, java.math.RoundingMode.FLOOR).longValueExact();
        }
    }

    /** The configuration these options describe. */
    public AgentConfig config() {
        return new AgentConfig(host, libvirtUri, allowedRoots, domainPrefix, leaseDuration, resync, workers, null,
                consoleLogDir, guestChannelDir, healthPort, metricsPort, sharedRoots, migrationUri, serving.serving(),
                new AgentConfig.Images(maxImageSize, imageCacheInterval, imageCacheGrace));
    }

    @Override
    public Integer call() throws Exception {
        AgentConfig cfg = config();
        List<Permission> needed = new ArrayList<>(permissions());
        if (consolePort >= 0) {
            needed.addAll(io.virtfleet.observability.serving.Serving.REVIEW_PERMISSIONS);
        }
        KubernetesClient client;
        try {
            client = KubernetesPreflight.connect(kubeconfig, cfg.serving(), healthPort, metricsPort, RESOURCES, needed,
                    "the agent's are in deploy/base/agent/rbac.yaml");
        } catch (StartupFailure f) {
            return ExitCodes.report("agent", f, verbose, spec.commandLine().getErr());
        }
        NodeAgent agent = new NodeAgent(cfg, client);
        CountDownLatch stopped = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            agent.close();
            client.close();
            stopped.countDown();
        }, "virtfleet-agent-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        ConsoleServer[] console = {null};
        try {
            agent.start();
            awaitLibvirt(agent);
            if (consolePort >= 0) {
                console[0] = new ConsoleServer(agent.client(), host, libvirtUri,
                        new InetSocketAddress(consoleAddress, consolePort), consoleAdvertise).start();
            }
        } catch (RuntimeException | StartupFailure e) {
            Runtime.getRuntime().removeShutdownHook(hook);
            agent.close();
            client.close();
            if (e instanceof StartupFailure f) {
                return ExitCodes.report("agent", f, verbose, spec.commandLine().getErr());
            }
            if (e instanceof ServingFailure f) {
                return ExitCodes.report("agent", StartupFailure.of(f), verbose, spec.commandLine().getErr());
            }
            throw e;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            if (console[0] != null) {
                console[0].close();
            }
        }, "virtfleet-console-shutdown"));
        stopped.await();
        return 0;
    }

    /**
     * A first libvirt connection within {@code --libvirt-wait}: an agent that never reached libvirtd is
     * misconfigured (wrong URI, socket not mounted, daemon not installed), which a restart loop with a clear reason
     * shows better than a pod that runs and does nothing. Later outages are retried in the background.
     */
    private void awaitLibvirt(NodeAgent agent) throws StartupFailure, InterruptedException {
        long deadline = System.nanoTime() + Math.max(0, libvirtWait.toNanos());
        while (!agent.isLibvirtConnected()) {
            if (System.nanoTime() >= deadline) {
                String error = agent.libvirtError();
                throw new StartupFailure(ExitCodes.LIBVIRT_UNREACHABLE, "cannot connect to libvirt at " + libvirtUri
                        + (libvirtWait.isZero() ? "" : " within " + libvirtWait.toSeconds() + " s") + ": " + error
                        + "; " + hint(error));
            }
            Thread.sleep(100);
        }
    }

    /** What to check, from libvirt's error (its messages quote the socket and the errno text). */
    static String hint(String error) {
        String e = error == null ? "" : error;
        if (e.contains("No such file or directory")) {
            return "the socket does not exist: check that libvirtd (or, with the modular daemons, virtqemud / "
                    + "virtxend) runs on this host and, in a pod, that the host's /run/libvirt is mounted at "
                    + "/run/libvirt";
        }
        if (e.contains("Connection refused")) {
            return "the socket exists but no daemon accepts on it: libvirtd is stopped or restarting; start it "
                    + "(systemctl start libvirtd, or scripts/install-libvirt) and check its log";
        }
        if (e.contains("Permission denied") || e.contains("authentication") || e.contains("polkit")) {
            return "this user may not use the socket: run the agent as root, or give it the group of "
                    + "unix_sock_group with unix_sock_rw_perms 0770 in libvirtd.conf (deploy/README.md)";
        }
        return "check --libvirt-uri and that libvirtd runs on this host";
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new AgentCommand()).execute(args));
    }
}
