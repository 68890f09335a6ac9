package io.virtfleet.controlplane;

import io.fabric8.kubernetes.api.model.APIResource;
import io.fabric8.kubernetes.api.model.APIResourceList;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionCondition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionVersion;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

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
 * <p>Not running: kube-controller-manager and kube-scheduler. So no garbage collection of owner references, no
 * namespace finalization (a deleted namespace stays Terminating), no default service accounts, no pods scheduled.
 */
public final class EmbeddedControlPlane implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedControlPlane.class);

    /** The admin user's name in the token file; member of {@code system:masters}. */
    public static final String ADMIN_USER = "virtfleet-admin";
    public static final String SERVICE_CLUSTER_IP_RANGE = "10.0.0.0/24";

    static final String STATE_FILE = "state.properties";
    static final String ETCD_PID = "etcd.pid";
    static final String APISERVER_PID = "kube-apiserver.pid";
    static final String OWNER_PID = "owner.pid";
    static final String EPHEMERAL_PREFIX = "virtfleet-cp-";

    private final ControlPlaneBinaries binaries;
    private final Path dataDir;
    private final boolean detached;
    private final boolean deleteDataDirOnClose;
    private final int etcdPort;
    private final int apiPort;
    private final String token;
    private final String caPem;
    private final Path kubeconfig;
    private final ProcessHandle etcd;
    private final ProcessHandle apiserver;
    private final Thread shutdownHook;
    private KubernetesClient client;
    private boolean closed;
    private volatile boolean sharedInstance;

    private EmbeddedControlPlane(ControlPlaneBinaries binaries, Path dataDir, boolean detached,
                                 boolean deleteDataDirOnClose, int etcdPort, int apiPort, String token, String caPem,
                                 Path kubeconfig, ProcessHandle etcd, ProcessHandle apiserver, Thread shutdownHook) {
        this.binaries = binaries;
        this.dataDir = dataDir;
        this.detached = detached;
        this.deleteDataDirOnClose = deleteDataDirOnClose;
        this.etcdPort = etcdPort;
        this.apiPort = apiPort;
        this.token = token;
        this.caPem = caPem;
        this.kubeconfig = kubeconfig;
        this.etcd = etcd;
        this.apiserver = apiserver;
        this.shutdownHook = shutdownHook;
    }

    // ---------------------------------------------------------------------------------------------------- entry points

    public static Builder builder() {
        return new Builder();
    }

    private static EmbeddedControlPlane shared;

    /**
     * One ephemeral control plane (with the repository's CRDs) for the whole JVM, started on first call. Its
     * {@link #close()} does nothing; the JVM shutdown hook stops it. Tests that use it must not assume an empty
     * cluster: use a fresh namespace per test.
     */
    public static synchronized EmbeddedControlPlane shared() {
        if (shared == null || !shared.apiserver.isAlive() || !shared.etcd.isAlive()) {
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
        boolean any = false;
        for (String pidFile : new String[] {APISERVER_PID, ETCD_PID}) {
            Path f = persistentDir.resolve(pidFile);
            Optional<ProcessHandle> p = Processes.fromPidFile(f);
            if (p.isPresent()) {
                LOG.info("stopping {} (pid {})", pidFile.replace(".pid", ""), p.get().pid());
                if (!Processes.terminate(p.get(), 15_000)) {
                    throw new IllegalStateException("could not stop pid " + p.get().pid() + " from " + f);
                }
                any = true;
            }
            try {
                Files.deleteIfExists(f);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return any;
    }

    /** What {@code persistentDir} says about a detached control plane, without touching it. */
    public static Status status(Path persistentDir) {
        Optional<ProcessHandle> e = Processes.fromPidFile(persistentDir.resolve(ETCD_PID));
        Optional<ProcessHandle> a = Processes.fromPidFile(persistentDir.resolve(APISERVER_PID));
        Properties state = readState(persistentDir);
        String server = state.getProperty("apiPort") == null ? null : "https://127.0.0.1:" + state.getProperty("apiPort");
        Path kc = persistentDir.resolve("kubeconfig");
        return new Status(e.map(ProcessHandle::pid).orElse(-1L), a.map(ProcessHandle::pid).orElse(-1L), server,
                Files.isRegularFile(kc) ? kc : null);
    }

    /** Default state dir for {@link #start(Path)}: {@code <repo>/.virtfleet/control-plane}, else under ~/.local/state. */
    public static Path defaultStateDir() {
        return RepoRoot.find(Path.of("").toAbsolutePath())
                .map(root -> root.resolve(".virtfleet").resolve("control-plane"))
                .orElseGet(() -> {
                    String xdg = System.getenv("XDG_STATE_HOME");
                    Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg)
                            : Path.of(System.getProperty("user.home"), ".local", "state");
                    return base.resolve("virtfleet").resolve("control-plane");
                });
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
                .withCaCertData(Base64.getEncoder().encodeToString(caPem.getBytes(StandardCharsets.US_ASCII)))
                .withOauthToken(token)
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
        return "https://127.0.0.1:" + apiPort;
    }

    public String etcdUrl() {
        return "http://127.0.0.1:" + etcdPort;
    }

    /** The admin kubeconfig file ({@code <dataDir>/kubeconfig}). */
    public Path kubeconfig() {
        return kubeconfig;
    }

    public Path dataDir() {
        return dataDir;
    }

    public ControlPlaneBinaries binaries() {
        return binaries;
    }

    public ProcessHandle etcdProcess() {
        return etcd;
    }

    public ProcessHandle apiserverProcess() {
        return apiserver;
    }

    public boolean isDetached() {
        return detached;
    }

    public Path etcdLog() {
        return dataDir.resolve("logs").resolve("etcd.log");
    }

    public Path apiserverLog() {
        return dataDir.resolve("logs").resolve("kube-apiserver.log");
    }

    // -------------------------------------------------------------------------------------------------------- kubectl

    /** Runs the built kubectl against this control plane's kubeconfig (60 s timeout). */
    public KubectlResult kubectl(String... args) {
        return kubectl(Duration.ofSeconds(60), args);
    }

    public KubectlResult kubectl(Duration timeout, String... args) {
        return kubectl(binaries, kubeconfig, dataDir.resolve("kubectl-cache"), timeout, args);
    }

    /** Runs {@code kubectl --kubeconfig <kubeconfig> args...}; stdout and stderr are captured separately. */
    public static KubectlResult kubectl(ControlPlaneBinaries binaries, Path kubeconfig, Path cacheDir, Duration timeout,
                                        String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(binaries.kubectl().toString());
        cmd.add("--kubeconfig=" + kubeconfig);
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        if (cacheDir != null) {
            pb.environment().put("KUBECACHEDIR", cacheDir.toString());
        }
        try {
            Process p = pb.start();
            CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> readAll(p.getErrorStream()));
            CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> readAll(p.getInputStream()));
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
                return new KubectlResult(cmd, -1, out.getNow(""), "kubectl timed out after " + timeout + "\n"
                        + err.getNow(""));
            }
            return new KubectlResult(cmd, p.exitValue(), out.get(10, TimeUnit.SECONDS), err.get(10, TimeUnit.SECONDS));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + cmd.get(0), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running kubectl", e);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("cannot read kubectl output", e);
        }
    }

    private static String readAll(InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    // ----------------------------------------------------------------------------------------------------------- CRDs

    /** Applies the CRDs in the given YAML files (server-side apply) and waits until each is Established and served. */
    public List<CustomResourceDefinition> installCrds(List<Path> files) {
        return installCrds(files, Duration.ofSeconds(60));
    }

    public List<CustomResourceDefinition> installCrds(List<Path> files, Duration timeout) {
        KubernetesClient c = client();
        List<CustomResourceDefinition> applied = new ArrayList<>();
        for (Path file : files) {
            List<HasMetadata> items;
            try (InputStream in = Files.newInputStream(file)) {
                items = c.load(in).items();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + file, e);
            }
            for (HasMetadata item : items) {
                if (!(item instanceof CustomResourceDefinition crd)) {
                    throw new IllegalArgumentException(file + " holds a " + item.getKind()
                            + ", expected only apiextensions.k8s.io/v1 CustomResourceDefinitions");
                }
                crd.getMetadata().setResourceVersion(null);
                crd.getMetadata().setManagedFields(null);
                applied.add(c.apiextensions().v1().customResourceDefinitions().resource(crd)
                        .fieldManager("virtfleet-control-plane").forceConflicts().serverSideApply());
                LOG.debug("applied CRD {} from {}", crd.getMetadata().getName(), file);
            }
        }
        for (CustomResourceDefinition crd : applied) {
            awaitServed(crd, timeout);
        }
        LOG.info("installed {} CRDs: {}", applied.size(),
                applied.stream().map(x -> x.getMetadata().getName()).toList());
        return applied;
    }

    /** Waits until the CRD is Established and its served versions appear in API discovery. */
    public void awaitServed(CustomResourceDefinition crd, Duration timeout) {
        String name = crd.getMetadata().getName();
        KubernetesClient c = client();
        poll("CRD " + name + " Established", timeout, () -> {
            CustomResourceDefinition live = c.apiextensions().v1().customResourceDefinitions().withName(name).get();
            if (live == null || live.getStatus() == null || live.getStatus().getConditions() == null) {
                return false;
            }
            for (CustomResourceDefinitionCondition cond : live.getStatus().getConditions()) {
                if ("Established".equals(cond.getType()) && "True".equals(cond.getStatus())) {
                    return true;
                }
            }
            return false;
        });
        String group = crd.getSpec().getGroup();
        String plural = crd.getSpec().getNames().getPlural();
        for (CustomResourceDefinitionVersion v : crd.getSpec().getVersions()) {
            if (!Boolean.TRUE.equals(v.getServed())) {
                continue;
            }
            String gv = group + "/" + v.getName();
            poll(plural + " in discovery of " + gv, timeout, () -> {
                try {
                    APIResourceList list = c.getApiResources(gv);
                    return list != null && list.getResources().stream().map(APIResource::getName)
                            .anyMatch(plural::equals);
                } catch (KubernetesClientException e) {
                    return false;
                }
            });
        }
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
        if (detached) {
            return;
        }
        if (shutdownHook != null) {
            try {
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
            } catch (IllegalStateException e) {
                // JVM is shutting down: the hook is running or will run; stopping twice is harmless.
            }
        }
        stopOwned(apiserver, etcd, deleteDataDirOnClose ? dataDir : null);
    }

    private static void stopOwned(ProcessHandle apiserver, ProcessHandle etcd, Path deleteDir) {
        if (apiserver != null) {
            Processes.terminate(apiserver, 10_000);
        }
        if (etcd != null) {
            Processes.terminate(etcd, 10_000);
        }
        if (deleteDir != null) {
            deleteRecursively(deleteDir);
        }
    }

    @Override
    public String toString() {
        return "EmbeddedControlPlane{" + serverUrl() + ", etcd " + etcdUrl() + ", dir " + dataDir
                + (detached ? ", detached" : "") + "}";
    }

    // -------------------------------------------------------------------------------------------------------- builder

    public static final class Builder {
        private ControlPlaneBinaries binaries;
        private Path dataDir;
        private boolean detached;
        private Boolean keepDataDir;
        private List<Path> crdFiles;
        private boolean crdsExplicit;
        private Duration startTimeout = Duration.ofSeconds(120);
        private final List<String> extraApiserverArgs = new ArrayList<>();
        private int apiPort;
        private boolean serviceAccountAdmission;
        private String authorizationMode = "RBAC";

        private Builder() {
        }

        /** Binaries to use; default {@link ControlPlaneBinaries#locate()}. */
        public Builder binaries(ControlPlaneBinaries binaries) {
            this.binaries = binaries;
            return this;
        }

        /** Use (and keep) this data dir instead of a fresh temp dir. */
        public Builder dataDir(Path dir) {
            this.dataDir = dir;
            return this;
        }

        /** Leave the processes running when this JVM exits / on close (needs {@link #dataDir(Path)}). */
        public Builder detached(boolean detached) {
            this.detached = detached;
            return this;
        }

        /** Keep the temp data dir (logs, etcd data) after close; default false, or -Dvirtfleet.cp.keep=true. */
        public Builder keepDataDir(boolean keep) {
            this.keepDataDir = keep;
            return this;
        }

        /** Install the CRDs in these files. Default: the repository's {@link RepoRoot#crdFiles(Path)}, if found. */
        public Builder crds(List<Path> files) {
            this.crdFiles = List.copyOf(files);
            this.crdsExplicit = true;
            return this;
        }

        /** Install the CRDs of the repository at {@code repoRoot}. */
        public Builder crdsFromRepo(Path repoRoot) {
            return crds(RepoRoot.crdFiles(repoRoot));
        }

        /** Install no CRDs. */
        public Builder withoutCrds() {
            return crds(List.of());
        }

        public Builder startTimeout(Duration timeout) {
            this.startTimeout = Objects.requireNonNull(timeout);
            return this;
        }

        /** Extra kube-apiserver flags, e.g. {@code --feature-gates=...}; they come after (and so win over) ours. */
        public Builder apiserverArg(String arg) {
            this.extraApiserverArgs.add(arg);
            return this;
        }

        /**
         * Serve on this port instead of a free one (for clients configured with a fixed address, e.g. the pods of
         * {@code scripts/kube-node}); the start fails if it is taken. Pick one outside the ephemeral range
         * ({@code /proc/sys/net/ipv4/ip_local_port_range}), where the other control planes' free ports come from.
         */
        public Builder apiPort(int port) {
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("apiPort must be 1-65535, was " + port);
            }
            this.apiPort = port;
            return this;
        }

        /**
         * Keep the ServiceAccount admission plugin on: pods are refused unless their ServiceAccount exists, and get
         * the projected token volume. Only with a kube-controller-manager, which creates each namespace's
         * {@code default} ServiceAccount and its {@code kube-root-ca.crt} ConfigMap.
         */
        public Builder serviceAccountAdmission(boolean on) {
            this.serviceAccountAdmission = on;
            return this;
        }

        /**
         * kube-apiserver's {@code --authorization-mode} (default {@code RBAC}), e.g. {@code Node,RBAC} when kubelets
         * connect. A list flag: an {@link #apiserverArg(String)} would add to it, not replace it.
         */
        public Builder authorizationMode(String modes) {
            this.authorizationMode = Objects.requireNonNull(modes);
            return this;
        }

        public EmbeddedControlPlane start() {
            if (detached && dataDir == null) {
                throw new IllegalArgumentException("a detached control plane needs a dataDir");
            }
            ControlPlaneBinaries bins = binaries != null ? binaries : ControlPlaneBinaries.locate();
            List<Path> crds = crdFiles;
            if (!crdsExplicit) {
                Optional<Path> root = RepoRoot.find(Path.of("").toAbsolutePath());
                if (root.isPresent()) {
                    crds = RepoRoot.crdFiles(root.get());
                } else {
                    LOG.warn("virtfleet repository not found above {}: installing no CRDs", Path.of("").toAbsolutePath());
                    crds = List.of();
                }
            }
            boolean keep = keepDataDir != null ? keepDataDir : Boolean.getBoolean("virtfleet.cp.keep");
            List<String> args = new ArrayList<>();
            args.add("--authorization-mode=" + authorizationMode);
            if (!serviceAccountAdmission) {
                // No controller-manager creates default service accounts; pods would be rejected.
                args.add("--disable-admission-plugins=ServiceAccount");
            }
            args.addAll(extraApiserverArgs);
            return Launcher.launch(bins, dataDir, detached, keep, crds, startTimeout, apiPort, args);
        }
    }

    // ------------------------------------------------------------------------------------------------------- launcher

    private static final class Launcher {
        static EmbeddedControlPlane launch(ControlPlaneBinaries bins, Path requestedDir, boolean detached, boolean keep,
                                          List<Path> crds, Duration timeout, int fixedApiPort,
                                          List<String> extraArgs) {
            if (requestedDir == null) {
                reapOrphans();
            }
            Path dir;
            try {
                dir = requestedDir != null ? requestedDir.toAbsolutePath() : Files.createTempDirectory(EPHEMERAL_PREFIX);
                Files.createDirectories(dir);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create the control plane's data dir", e);
            }
            boolean deleteOnClose = requestedDir == null && !keep;

            if (detached) {
                Status st = status(dir);
                if (st.running()) {
                    LOG.info("control plane already running in {} ({})", dir, st.server());
                    EmbeddedControlPlane cp = reconnect(bins, dir, timeout);
                    installAndReturn(cp, crds, timeout, true);
                    return cp;
                }
                if (st.etcdPid() > 0 || st.apiserverPid() > 0) {
                    LOG.info("control plane in {} half running; restarting it", dir);
                    stop(dir);
                }
            }

            IllegalStateException last = null;
            for (int attempt = 1; attempt <= 3; attempt++) {
                EmbeddedControlPlane cp;
                try {
                    cp = startProcesses(bins, dir, detached, deleteOnClose, timeout, fixedApiPort, extraArgs,
                            requestedDir == null);
                } catch (PortInUse e) {
                    if (fixedApiPort > 0) {
                        throw e;
                    }
                    LOG.warn("port race on attempt {}: {}; retrying with new ports", attempt, e.getMessage());
                    last = e;
                    Properties state = readState(dir);
                    state.remove("etcdPort");
                    state.remove("apiPort");
                    try {
                        writeState(dir, state);
                    } catch (IOException io) {
                        throw new UncheckedIOException(io);
                    }
                    continue;
                } catch (RuntimeException e) {
                    if (deleteOnClose) {
                        deleteRecursively(dir);
                    }
                    throw e;
                }
                installAndReturn(cp, crds, timeout, !detached);
                return cp;
            }
            if (deleteOnClose) {
                deleteRecursively(dir);
            }
            throw last;
        }

        private static void installAndReturn(EmbeddedControlPlane cp, List<Path> crds, Duration timeout,
                                             boolean closeOnFailure) {
            try {
                if (!crds.isEmpty()) {
                    cp.installCrds(crds, timeout);
                }
            } catch (RuntimeException e) {
                if (closeOnFailure) {
                    cp.close();
                }
                throw e;
            }
        }

        private static EmbeddedControlPlane reconnect(ControlPlaneBinaries bins, Path dir, Duration timeout) {
            Properties state = readState(dir);
            int etcdPort = Integer.parseInt(state.getProperty("etcdPort"));
            int apiPort = Integer.parseInt(state.getProperty("apiPort"));
            String token = state.getProperty("token");
            ProcessHandle etcd = Processes.fromPidFile(dir.resolve(ETCD_PID)).orElseThrow();
            ProcessHandle api = Processes.fromPidFile(dir.resolve(APISERVER_PID)).orElseThrow();
            try {
                String ca = awaitApiserverReady(dir, apiPort, token, api, timeout);
                Path kc = writeKubeconfig(dir, apiPort, ca, token);
                return new EmbeddedControlPlane(bins, dir, true, false, etcdPort, apiPort, token, ca, kc, etcd, api,
                        null);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        private static EmbeddedControlPlane startProcesses(ControlPlaneBinaries bins, Path dir, boolean detached,
                                                           boolean deleteOnClose, Duration timeout,
                                                           int fixedApiPort,
                                                           List<String> extraArgs, boolean ephemeral) {
            long deadline = System.nanoTime() + timeout.toNanos();
            Process etcd = null;
            Process api = null;
            Thread hook = null;
            try {
                Properties state = readState(dir);
                int etcdPort = reusePort(state.getProperty("etcdPort"));
                int apiPort;
                if (fixedApiPort > 0) {
                    if (!Processes.portFree(fixedApiPort)) {
                        throw new IllegalStateException("kube-apiserver port " + fixedApiPort
                                + " on 127.0.0.1 is taken by another process");
                    }
                    apiPort = fixedApiPort;
                } else {
                    apiPort = reusePort(state.getProperty("apiPort"));
                }
                while (apiPort == etcdPort) {
                    etcdPort = Processes.freePort();
                }
                String token = state.getProperty("token");
                if (token == null) {
                    byte[] b = new byte[24];
                    new SecureRandom().nextBytes(b);
                    token = HexFormat.of().formatHex(b);
                }
                state.setProperty("etcdPort", Integer.toString(etcdPort));
                state.setProperty("apiPort", Integer.toString(apiPort));
                state.setProperty("token", token);
                state.setProperty("binaries", bins.dir().toString());
                writeState(dir, state);
                if (ephemeral) {
                    Files.writeString(dir.resolve(OWNER_PID), ProcessHandle.current().pid() + "\n");
                }
                Path tokenFile = dir.resolve("tokens.csv");
                Files.writeString(tokenFile, token + "," + ADMIN_USER + "," + ADMIN_USER + ",\"system:masters\"\n");
                restrict(tokenFile);
                Path saKey = dir.resolve("sa.key");
                Path saPub = dir.resolve("sa.pub");
                if (!Files.isRegularFile(saKey) || !Files.isRegularFile(saPub)) {
                    writeServiceAccountKey(saKey, saPub);
                }
                Path logs = Files.createDirectories(dir.resolve("logs"));
                Path etcdLog = logs.resolve("etcd.log");
                Path apiLog = logs.resolve("kube-apiserver.log");
                if (ephemeral) {
                    Files.deleteIfExists(etcdLog);
                    Files.deleteIfExists(apiLog);
                }

                String etcdUrl = "http://127.0.0.1:" + etcdPort;
                List<String> etcdCmd = new ArrayList<>(List.of(
                        bins.etcd().toString(),
                        "--name=default",
                        "--data-dir=" + dir.resolve("etcd-data"),
                        "--listen-client-urls=" + etcdUrl,
                        "--advertise-client-urls=" + etcdUrl,
                        // The peer listener is unused by a single member; port 0 avoids a second port to pick.
                        "--listen-peer-urls=http://127.0.0.1:0",
                        "--log-level=warn"));
                if (ephemeral) {
                    etcdCmd.add("--unsafe-no-fsync=true");
                }
                etcd = Processes.start(etcdCmd, etcdLog, detached);
                Processes.writePidFile(dir.resolve(ETCD_PID), etcd.toHandle(), bins.etcd());
                if (!detached) {
                    Process e0 = etcd;
                    hook = new Thread(() -> {
                        Optional<ProcessHandle> a = Processes.fromPidFile(dir.resolve(APISERVER_PID));
                        stopOwned(a.orElse(null), e0.toHandle(), deleteOnClose ? dir : null);
                    }, "virtfleet-control-plane-shutdown");
                    Runtime.getRuntime().addShutdownHook(hook);
                }
                awaitEtcdHealthy(etcdUrl, etcd, etcdLog, remaining(deadline));

                List<String> apiCmd = new ArrayList<>(List.of(
                        bins.kubeApiserver().toString(),
                        "--etcd-servers=" + etcdUrl,
                        "--bind-address=127.0.0.1",
                        "--advertise-address=127.0.0.1",
                        "--secure-port=" + apiPort,
                        "--cert-dir=" + dir.resolve("certs"),
                        "--token-auth-file=" + tokenFile,
                        "--service-cluster-ip-range=" + SERVICE_CLUSTER_IP_RANGE,
                        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                        "--service-account-key-file=" + saPub,
                        "--service-account-signing-key-file=" + saKey,
                        "--allow-privileged=true",
                        // Endpoints cannot hold a loopback address; nothing needs the kubernetes service's endpoints.
                        "--endpoint-reconciler-type=none",
                        "--enable-priority-and-fairness=false",
                        "--profiling=false",
                        "--v=1"));
                apiCmd.addAll(extraArgs);
                api = Processes.start(apiCmd, apiLog, detached);
                Processes.writePidFile(dir.resolve(APISERVER_PID), api.toHandle(), bins.kubeApiserver());
                String ca = awaitApiserverReady(dir, apiPort, token, api.toHandle(), remaining(deadline));
                Path kc = writeKubeconfig(dir, apiPort, ca, token);
                EmbeddedControlPlane cp = new EmbeddedControlPlane(bins, dir, detached, deleteOnClose, etcdPort,
                        apiPort, token, ca, kc, etcd.toHandle(), api.toHandle(), hook);
                KubernetesClient c = cp.client();
                poll("namespace default", remaining(deadline),
                        () -> c.namespaces().withName("default").get() != null);
                LOG.info("control plane up: {} (etcd pid {}, kube-apiserver pid {})", cp, etcd.pid(), api.pid());
                return cp;
            } catch (IOException | RuntimeException e) {
                Path logs = dir.resolve("logs");
                String diag = "\n--- tail of " + logs.resolve("etcd.log") + "\n" + Processes.tail(logs.resolve("etcd.log"), 20)
                        + "--- tail of " + logs.resolve("kube-apiserver.log") + "\n"
                        + Processes.tail(logs.resolve("kube-apiserver.log"), 40);
                boolean portRace = diag.contains("address already in use");
                if (api != null) {
                    Processes.terminate(api.toHandle(), 5_000);
                }
                if (etcd != null) {
                    Processes.terminate(etcd.toHandle(), 5_000);
                }
                if (hook != null) {
                    try {
                        Runtime.getRuntime().removeShutdownHook(hook);
                    } catch (IllegalStateException ignored) {
                        // shutting down
                    }
                }
                try {
                    Files.deleteIfExists(dir.resolve(APISERVER_PID));
                    Files.deleteIfExists(dir.resolve(ETCD_PID));
                } catch (IOException ignored) {
                    // best effort
                }
                String msg = "control plane failed to start in " + dir + ": " + e.getMessage();
                if (portRace) {
                    throw new PortInUse(msg + diag, e);
                }
                LOG.error("{}{}", msg, diag);
                throw new IllegalStateException(msg + diag, e);
            }
        }

        private static int reusePort(String stored) throws IOException {
            if (stored != null) {
                int p = Integer.parseInt(stored);
                if (Processes.portFree(p)) {
                    return p;
                }
            }
            return Processes.freePort();
        }

        private static Duration remaining(long deadlineNanos) {
            long left = deadlineNanos - System.nanoTime();
            if (left <= 0) {
                throw new IllegalStateException("timed out starting the control plane");
            }
            return Duration.ofNanos(left);
        }

        private static void awaitEtcdHealthy(String etcdUrl, Process etcd, Path log, Duration timeout) {
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
            HttpRequest req = HttpRequest.newBuilder(URI.create(etcdUrl + "/health")).timeout(Duration.ofSeconds(3))
                    .GET().build();
            poll("etcd healthy at " + etcdUrl, timeout, () -> {
                if (!etcd.isAlive()) {
                    throw new IllegalStateException("etcd exited with code " + etcd.exitValue());
                }
                try {
                    HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
                    return r.statusCode() == 200 && r.body().contains("\"health\":\"true\"");
                } catch (IOException e) {
                    return false;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted", e);
                }
            });
        }

        /** Waits for the self-signed serving cert to appear and /readyz to answer 200; returns the cert PEM. */
        private static String awaitApiserverReady(Path dir, int apiPort, String token, ProcessHandle api,
                                                  Duration timeout) throws IOException {
            long deadline = System.nanoTime() + timeout.toNanos();
            Path crt = dir.resolve("certs").resolve("apiserver.crt");
            poll("kube-apiserver serving certificate " + crt, timeout, () -> {
                if (!api.isAlive()) {
                    throw new IllegalStateException("kube-apiserver exited");
                }
                return Files.isRegularFile(crt) && sizeOf(crt) > 0;
            });
            String ca = awaitStable(crt);
            HttpClient http = HttpClient.newBuilder().sslContext(trusting(ca)).connectTimeout(Duration.ofSeconds(2))
                    .build();
            HttpRequest req = HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + apiPort + "/readyz"))
                    .header("Authorization", "Bearer " + token).timeout(Duration.ofSeconds(5)).GET().build();
            String[] lastBody = {""};
            try {
                poll("kube-apiserver /readyz on port " + apiPort, remaining(deadline), () -> {
                    if (!api.isAlive()) {
                        throw new IllegalStateException("kube-apiserver exited");
                    }
                    try {
                        HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
                        lastBody[0] = r.statusCode() + " " + r.body();
                        return r.statusCode() == 200;
                    } catch (IOException e) {
                        lastBody[0] = e.toString();
                        return false;
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IllegalStateException("interrupted", e);
                    }
                });
            } catch (IllegalStateException e) {
                throw new IllegalStateException(e.getMessage() + " (last /readyz answer: " + lastBody[0] + ")", e);
            }
            return ca;
        }

        private static long sizeOf(Path p) {
            try {
                return Files.size(p);
            } catch (IOException e) {
                return 0;
            }
        }

        /** Reads a file the apiserver may still be writing until it parses as certificates. */
        private static String awaitStable(Path crt) throws IOException {
            IOException lastError = null;
            for (int i = 0; i < 50; i++) {
                String pem = Files.readString(crt, StandardCharsets.US_ASCII);
                try {
                    if (!parseCerts(pem).isEmpty()) {
                        return pem;
                    }
                } catch (GeneralSecurityException e) {
                    lastError = new IOException("cannot parse " + crt, e);
                }
                sleep(100);
            }
            throw lastError != null ? lastError : new IOException("no certificate in " + crt);
        }
    }

    /** A start attempt lost a race for a random port. */
    private static final class PortInUse extends IllegalStateException {
        PortInUse(String message, Throwable cause) {
            super(message, cause);
        }
    }

    // -------------------------------------------------------------------------------------------------------- helpers

    /** Stops the processes of ephemeral control planes whose owning JVM died (e.g. a killed test run). */
    static void reapOrphans() {
        Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
        try (Stream<Path> dirs = Files.list(tmp)) {
            dirs.filter(d -> d.getFileName().toString().startsWith(EPHEMERAL_PREFIX))
                    .filter(d -> Files.isRegularFile(d.resolve(OWNER_PID)))
                    .forEach(d -> {
                        try {
                            long owner = Long.parseLong(Files.readString(d.resolve(OWNER_PID)).strip());
                            if (Processes.alive(owner)) {
                                return;
                            }
                            Optional<ProcessHandle> a = Processes.fromPidFile(d.resolve(APISERVER_PID));
                            Optional<ProcessHandle> e = Processes.fromPidFile(d.resolve(ETCD_PID));
                            if (a.isPresent() || e.isPresent()) {
                                LOG.warn("stopping control plane left behind by dead JVM {} in {}", owner, d);
                            }
                            stopOwned(a.orElse(null), e.orElse(null), d);
                        } catch (IOException | RuntimeException ex) {
                            LOG.debug("cannot reap {}: {}", d, ex.toString());
                        }
                    });
        } catch (IOException e) {
            LOG.debug("cannot list {}: {}", tmp, e.toString());
        }
    }

    static Properties readState(Path dir) {
        Properties p = new Properties();
        Path f = dir.resolve(STATE_FILE);
        if (Files.isRegularFile(f)) {
            try (InputStream in = Files.newInputStream(f)) {
                p.load(in);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + f, e);
            }
        }
        return p;
    }

    private static void writeState(Path dir, Properties state) throws IOException {
        Path tmp = dir.resolve(STATE_FILE + ".tmp");
        try (var out = Files.newOutputStream(tmp)) {
            state.store(out, "virtfleet control plane (token = admin bearer token)");
        }
        restrict(tmp);
        Files.move(tmp, dir.resolve(STATE_FILE), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static Path writeKubeconfig(Path dir, int apiPort, String caPem, String token) throws IOException {
        String ca = Base64.getEncoder().encodeToString(caPem.getBytes(StandardCharsets.US_ASCII));
        String yaml = "apiVersion: v1\n"
                + "kind: Config\n"
                + "clusters:\n"
                + "- name: virtfleet\n"
                + "  cluster:\n"
                + "    server: https://127.0.0.1:" + apiPort + "\n"
                + "    certificate-authority-data: " + ca + "\n"
                + "users:\n"
                + "- name: " + ADMIN_USER + "\n"
                + "  user:\n"
                + "    token: " + token + "\n"
                + "contexts:\n"
                + "- name: virtfleet\n"
                + "  context:\n"
                + "    cluster: virtfleet\n"
                + "    user: " + ADMIN_USER + "\n"
                + "    namespace: default\n"
                + "current-context: virtfleet\n";
        Path kc = dir.resolve("kubeconfig");
        Path tmp = dir.resolve("kubeconfig.tmp");
        Files.writeString(tmp, yaml, StandardCharsets.UTF_8);
        restrict(tmp);
        Files.move(tmp, kc, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return kc;
    }

    /** RSA service-account signing key: PKCS#8 private key and X.509 public key, PEM. */
    private static void writeServiceAccountKey(Path keyFile, Path pubFile) throws IOException {
        try {
            KeyPairGenerator gen = KeyPairGenerator.getInstance("RSA");
            gen.initialize(2048);
            KeyPair kp = gen.generateKeyPair();
            Files.writeString(keyFile, pem("PRIVATE KEY", kp.getPrivate().getEncoded()), StandardCharsets.US_ASCII);
            restrict(keyFile);
            Files.writeString(pubFile, pem("PUBLIC KEY", kp.getPublic().getEncoded()), StandardCharsets.US_ASCII);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot generate the service account key", e);
        }
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    private static List<? extends Certificate> parseCerts(String pem) throws GeneralSecurityException {
        return new ArrayList<>(CertificateFactory.getInstance("X.509")
                .generateCertificates(new java.io.ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII))));
    }

    private static SSLContext trusting(String pem) {
        try {
            KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
            ks.load(null, null);
            int i = 0;
            for (Certificate c : parseCerts(pem)) {
                ks.setCertificateEntry("ca-" + i++, c);
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ks);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException("cannot trust the apiserver certificate", e);
        }
    }

    private static void restrict(Path file) {
        try {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        } catch (IOException | UnsupportedOperationException e) {
            LOG.debug("cannot restrict permissions of {}: {}", file, e.toString());
        }
    }

    static void poll(String what, Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        long sleep = 50;
        RuntimeException lastError = null;
        while (true) {
            try {
                if (condition.getAsBoolean()) {
                    return;
                }
            } catch (IllegalStateException e) {
                throw e;
            } catch (RuntimeException e) {
                lastError = e;
            }
            if (System.nanoTime() > deadline) {
                IllegalStateException ex = new IllegalStateException("timed out after " + timeout.toSeconds()
                        + " s waiting for " + what);
                if (lastError != null) {
                    ex.addSuppressed(lastError);
                }
                throw ex;
            }
            sleep(sleep);
            sleep = Math.min(500, sleep * 2);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    static void deleteRecursively(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try {
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
                    Files.deleteIfExists(d);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            LOG.warn("cannot delete {}: {}", dir, e.toString());
        }
    }
}
