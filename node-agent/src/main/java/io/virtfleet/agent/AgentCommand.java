package io.virtfleet.agent;

import io.virtfleet.agent.console.ConsoleServer;
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
 * subcommand; {@link #main} runs it standalone.
 */
@Command(name = "agent", mixinStandardHelpOptions = true,
        description = {"Run the virtfleet node agent: register this host, keep its heartbeat Lease, and make libvirt "
                + "match the Domains assigned to it."})
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
            description = "Port of /healthz (live) and /readyz (libvirt connected, Domains listed); -1 turns them off, "
                    + "0 picks a free port (default: ${DEFAULT-VALUE}; the DaemonSet uses 8080).")
    int healthPort;

    @Option(names = "--metrics-port", paramLabel = "PORT", defaultValue = "-1",
            description = "Port of /metrics (Prometheus text format); -1 turns it off; may equal --health-port "
                    + "(default: ${DEFAULT-VALUE}; the DaemonSet uses 9090).")
    int metricsPort;

    @Option(names = "--console-port", paramLabel = "PORT", defaultValue = "-1",
            description = "Serve the VMs' serial consoles to Kubernetes-authorized users (`virtfleet vm console`) on "
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

    /** The configuration these options describe. */
    public AgentConfig config() {
        return new AgentConfig(host, libvirtUri, allowedRoots, domainPrefix, leaseDuration, resync, workers, null,
                consoleLogDir, guestChannelDir, healthPort, metricsPort, sharedRoots, migrationUri);
    }

    @Override
    public Integer call() throws Exception {
        AgentConfig cfg = config();
        NodeAgent agent = NodeAgent.withKubeconfig(cfg, kubeconfig);
        CountDownLatch stopped = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            agent.close();
            stopped.countDown();
        }, "virtfleet-agent-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        ConsoleServer[] console = {null};
        try {
            agent.start();
            if (consolePort >= 0) {
                console[0] = new ConsoleServer(agent.client(), host, libvirtUri,
                        new InetSocketAddress(consoleAddress, consolePort), consoleAdvertise).start();
            }
        } catch (RuntimeException e) {
            Runtime.getRuntime().removeShutdownHook(hook);
            agent.close();
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

    public static void main(String[] args) {
        System.exit(new CommandLine(new AgentCommand()).execute(args));
    }
}
