package io.virtfleet.controlplane;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/** How to start an {@link EmbeddedControlPlane}: {@link EmbeddedControlPlane#builder()}. */
public final class ControlPlaneBuilder {
    private static final Logger LOG = LoggerFactory.getLogger(ControlPlaneBuilder.class);

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

    ControlPlaneBuilder() {
    }

    /** Binaries to use; default {@link ControlPlaneBinaries#locate()}. */
    public ControlPlaneBuilder binaries(ControlPlaneBinaries binaries) {
        this.binaries = binaries;
        return this;
    }

    /** Use (and keep) this data dir instead of a fresh temp dir. */
    public ControlPlaneBuilder dataDir(Path dir) {
        this.dataDir = dir;
        return this;
    }

    /** Leave the processes running when this JVM exits / on close (needs {@link #dataDir(Path)}). */
    public ControlPlaneBuilder detached(boolean detached) {
        this.detached = detached;
        return this;
    }

    /** Keep the temp data dir (logs, etcd data) after close; default false, or -Dvirtfleet.cp.keep=true. */
    public ControlPlaneBuilder keepDataDir(boolean keep) {
        this.keepDataDir = keep;
        return this;
    }

    /** Install the CRDs in these files. Default: the repository's {@link RepoRoot#crdFiles(Path)}, if found. */
    public ControlPlaneBuilder crds(List<Path> files) {
        this.crdFiles = List.copyOf(files);
        this.crdsExplicit = true;
        return this;
    }

    /** Install the CRDs of the repository at {@code repoRoot}. */
    public ControlPlaneBuilder crdsFromRepo(Path repoRoot) {
        return crds(RepoRoot.crdFiles(repoRoot));
    }

    /** Install no CRDs. */
    public ControlPlaneBuilder withoutCrds() {
        return crds(List.of());
    }

    public ControlPlaneBuilder startTimeout(Duration timeout) {
        this.startTimeout = Objects.requireNonNull(timeout);
        return this;
    }

    /** Extra kube-apiserver flags, e.g. {@code --feature-gates=...}; they come after (and so win over) ours. */
    public ControlPlaneBuilder apiserverArg(String arg) {
        this.extraApiserverArgs.add(arg);
        return this;
    }

    /**
     * Serve on this port instead of a free one (for clients configured with a fixed address, e.g. the pods of
     * {@code scripts/kube-node}); the start fails if it is taken. Pick one outside the ephemeral range
     * ({@code /proc/sys/net/ipv4/ip_local_port_range}), where the other control planes' free ports come from.
     */
    public ControlPlaneBuilder apiPort(int port) {
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
    public ControlPlaneBuilder serviceAccountAdmission(boolean on) {
        this.serviceAccountAdmission = on;
        return this;
    }

    /**
     * kube-apiserver's {@code --authorization-mode} (default {@code RBAC}), e.g. {@code Node,RBAC} when kubelets
     * connect. A list flag: an {@link #apiserverArg(String)} would add to it, not replace it.
     */
    public ControlPlaneBuilder authorizationMode(String modes) {
        this.authorizationMode = java.util.Objects.requireNonNull(modes);
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
        return ProcessLauncher.launch(bins, dataDir, detached, keep, crds, startTimeout, apiPort, args);
    }
}