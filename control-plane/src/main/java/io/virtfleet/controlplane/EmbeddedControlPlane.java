package io.virtfleet.controlplane;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;

/**
 * A real etcd + kube-apiserver on 127.0.0.1, for tests and the local demo.
 *
 * <p>Modes:
 * <ul>
 *   <li><b>shared</b> ({@link #shared()}): one ephemeral control plane per JVM for test suites.</li>
 *   <li><b>ephemeral</b> ({@link #start()}, {@link #builder()}): a temp data dir, random ports, processes owned by
 *   this JVM. {@link #close()} (and a JVM shutdown hook) kills them and deletes the data dir.</li>
 *   <li><b>detached</b> ({@link #start(Path)}): state in a given directory, processes in their own session so they
 *   outlive the JVM (for {@code virtfleet control-plane up}); {@link #stop(Path)} ends them later. Calling
 *   {@link #start(Path)} again while they run just reconnects.</li>
 * </ul>
 *
 * <p>Security: the apiserver serves TLS with a self-signed certificate it generates into {@code <dir>/certs}
 * ({@code --cert-dir}); clients trust exactly that certificate. The admin authenticates with a random bearer token
 * from a static token file and is in {@code system:masters}. Authorization is {@code RBAC}, so impersonated users
 * are subject to real RBAC. The service-account signing key is an RSA key generated here.
 *
 * <p>This class is the API; the parts behind it each do one job: {@link ControlPlaneBuilder} (options),
 * {@link ProcessLauncher} (start or reconnect etcd and kube-apiserver, wait until they serve), {@link StateDir} (the
 * data dir's state and pid files: status, stop, reaping), {@link ControlPlanePki} (keys, trust),
 * {@link KubeconfigWriter}, {@link CrdInstaller}, {@link Kubectl}.
 *
 * <p>Not running: kube-controller-manager and kube-scheduler. So no garbage collection of owner references, no
 * namespace finalization (a deleted namespace stays Terminating), no default service accounts, no pods scheduled.
 */
public final class EmbeddedControlPlane implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedControlPlane.class);

    /** The admin user's name in the token file; member of {@code system:masters}. */
    public static final String ADMIN_USER = "virtfleet-admin";
    public static final String SERVICE_CLUSTER_IP_RANGE = "10.0.0.0/24";


    private final Parts parts;
    private KubernetesClient client;
    private boolean closed;
    private volatile boolean sharedInstance;

    EmbeddedControlPlane(ControlPlaneBinaries binaries, Path dataDir, boolean detached,
                         boolean deleteDataDirOnClose, int etcdPort, int apiPort, String token, String caPem,
                         Path kubeconfig, ProcessHandle etcd, ProcessHandle apiserver, Thread shutdownHook) {
        this.parts = new Parts(binaries, dataDir, detached, deleteDataDirOnClose, etcdPort, apiPort, token, caPem,
                kubeconfig, etcd, apiserver, shutdownHook);
    }

    /**
     * What {@link ProcessLauncher} started (or reconnected to): the binaries, the data dir, the ports, the admin token
     * and the apiserver's CA, the admin kubeconfig, the two processes, and the shutdown hook that stops them (null
     * when the processes outlive the JVM).
     */
    private record Parts(ControlPlaneBinaries binaries, Path dataDir, boolean detached, boolean deleteDataDirOnClose,
                         int etcdPort, int apiPort, String token, String caPem, Path kubeconfig, ProcessHandle etcd,
                         ProcessHandle apiserver, Thread shutdownHook) {
    }

    // ---------------------------------------------------------------------------------------------------- entry points

    public static ControlPlaneBuilder builder() {
        return new ControlPlaneBuilder();
    }

    private static EmbeddedControlPlane shared;

    /**
     * One ephemeral control plane (with the repository's CRDs) for the whole JVM, started on first call. Its
     * {@link #close()} does nothing; the JVM shutdown hook stops it. Tests that use it must not assume an empty
     * cluster: use a fresh namespace per test.
     */
    public static synchronized EmbeddedControlPlane shared() {
        if (shared == null || !shared.parts.apiserver().isAlive() || !shared.parts.etcd().isAlive()) {
            if (shared != null) {
                LOG.warn("shared control plane died (see {}); starting a new one", shared.apiserverLog());
                shared.sharedInstance = false;
                shared.close();
            }
            EmbeddedControlPlane cp = builder().start();
            cp.sharedInstance = true;
            shared = cp;
        }
        return shared;
    }

    /** Ephemeral control plane with the repository's CRDs installed (when the repository is found). */
    public static EmbeddedControlPlane start() {
        return builder().start();
    }

    /**
     * Starts (or reconnects to) a detached control plane whose state lives in {@code persistentDir}; the processes
     * keep running after this JVM exits. The repository's CRDs are (re)applied. {@link #close()} of the returned
     * object only closes the client; use {@link #stop(Path)} to end the processes.
     */
    public static EmbeddedControlPlane start(Path persistentDir) {
        return builder().dataDir(persistentDir).detached(true).start();
    }

    /**
     * Stops the detached control plane recorded in {@code persistentDir} (kube-apiserver first, then etcd). Its data
     * stays. Returns true if a running process was stopped.
     */
    public static boolean stop(Path persistentDir) {
        return StateDir.stop(persistentDir);
    }

    /** What {@code persistentDir} says about a detached control plane, without touching it. */
    public static Status status(Path persistentDir) {
        return StateDir.status(persistentDir);
    }

    /** Default state dir for {@link #start(Path)}: {@code <repo>/.virtfleet/control-plane}, else under ~/.local/state. */
    public static Path defaultStateDir() {
        return StateDir.defaultStateDir();
    }

    /** State of a detached control plane as seen from its directory. Pids are -1 when not running. */
    public record Status(long etcdPid, long apiserverPid, String server, Path kubeconfig) {
        public boolean running() {
            return etcdPid > 0 && apiserverPid > 0;
        }
    }

    // ------------------------------------------------------------------------------------------------------ accessors

    /** A fabric8 client authenticated as the admin (system:masters). Created on first use, closed by {@link #close()}. */
    public synchronized KubernetesClient client() {
        if (closed) {
            throw new IllegalStateException("control plane is closed");
        }
        if (client == null) {
            client = new KubernetesClientBuilder().withConfig(config()).build();
        }
        return client;
    }

    /** A fresh client config (admin); e.g. {@code new ConfigBuilder(cp.config()).withImpersonateUsername("alice")}. */
    public Config config() {
        return new ConfigBuilder(Config.empty())
                .withMasterUrl(serverUrl())
                .withCaCertData(Base64.getEncoder().encodeToString(
                        parts.caPem().getBytes(StandardCharsets.US_ASCII)))
                .withOauthToken(parts.token())
                .withNamespace("default")
                .withRequestTimeout(30_000)
                .withConnectionTimeout(10_000)
                .build();
    }

    /** A new client (the caller closes it) that acts as {@code user} in {@code groups} via impersonation. */
    public KubernetesClient impersonatingClient(String user, String... groups) {
        Config cfg = new ConfigBuilder(config()).withImpersonateUsername(user).withImpersonateGroups(groups).build();
        return new KubernetesClientBuilder().withConfig(cfg).build();
    }

    public String serverUrl() {
        return "https://127.0.0.1:" + parts.apiPort();
    }

    public String etcdUrl() {
        return "http://127.0.0.1:" + parts.etcdPort();
    }

    /** The admin kubeconfig file ({@code <dataDir>/kubeconfig}). */
    public Path kubeconfig() {
        return parts.kubeconfig();
    }

    public Path dataDir() {
        return parts.dataDir();
    }

    public ControlPlaneBinaries binaries() {
        return parts.binaries();
    }

    public ProcessHandle etcdProcess() {
        return parts.etcd();
    }

    public ProcessHandle apiserverProcess() {
        return parts.apiserver();
    }

    public boolean isDetached() {
        return parts.detached();
    }

    public Path etcdLog() {
        return parts.dataDir().resolve("logs").resolve("etcd.log");
    }

    public Path apiserverLog() {
        return parts.dataDir().resolve("logs").resolve("kube-apiserver.log");
    }

    // -------------------------------------------------------------------------------------------------------- kubectl

    /** Runs the built kubectl against this control plane's kubeconfig (60 s timeout). */
    public KubectlResult kubectl(String... args) {
        return kubectl(Duration.ofSeconds(60), args);
    }

    public KubectlResult kubectl(Duration timeout, String... args) {
        return Kubectl.run(parts.binaries(), parts.kubeconfig(), parts.dataDir().resolve("kubectl-cache"), timeout,
                args);
    }

    /** Runs kubectl without a control plane of this JVM (e.g. {@code kubectl kustomize}); see {@link Kubectl#run}. */
    public static KubectlResult kubectl(ControlPlaneBinaries binaries, Path kubeconfig, Path cacheDir, Duration timeout,
                                        String... args) {
        return Kubectl.run(binaries, kubeconfig, cacheDir, timeout, args);
    }

    // ----------------------------------------------------------------------------------------------------------- CRDs

    /** Applies the CRDs in the given YAML files (server-side apply) and waits until each is Established and served. */
    public List<CustomResourceDefinition> installCrds(List<Path> files) {
        return installCrds(files, Duration.ofSeconds(60));
    }

    public List<CustomResourceDefinition> installCrds(List<Path> files, Duration timeout) {
        return new CrdInstaller(client()).install(files, timeout);
    }

    /** Waits until the CRD is Established and its served versions appear in API discovery. */
    public void awaitServed(CustomResourceDefinition crd, Duration timeout) {
        new CrdInstaller(client()).awaitServed(crd, timeout);
    }

    // ---------------------------------------------------------------------------------------------------------- close

    /**
     * Ephemeral: stops kube-apiserver and etcd (SIGTERM, then SIGKILL) and deletes the temp data dir. Detached: only
     * closes the client; the processes keep running.
     */
    @Override
    public void close() {
        if (sharedInstance) {
            return;
        }
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            if (client != null) {
                try {
                    client.close();
                } catch (RuntimeException e) {
                    LOG.debug("closing client", e);
                }
                client = null;
            }
        }
        if (parts.detached()) {
            return;
        }
        if (parts.shutdownHook() != null) {
            try {
                Runtime.getRuntime().removeShutdownHook(parts.shutdownHook());
            } catch (IllegalStateException e) {
                // JVM is shutting down: the hook is running or will run; stopping twice is harmless.
            }
        }
        StateDir.stopOwned(parts.apiserver(), parts.etcd(), parts.deleteDataDirOnClose() ? parts.dataDir() : null);
    }

    @Override
    public String toString() {
        return "EmbeddedControlPlane{" + serverUrl() + ", etcd " + etcdUrl() + ", dir " + parts.dataDir()
                + (parts.detached() ? ", detached" : "") + "}";
    }
}
