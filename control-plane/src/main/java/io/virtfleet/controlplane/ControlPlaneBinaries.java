package io.virtfleet.controlplane;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Where kube-apiserver, etcd and kubectl live. Built and cached by {@code scripts/install-control-plane}; this class
 * only finds them.
 *
 * <p>Lookup order: system property {@value #DIR_PROPERTY}, env {@value #DIR_ENV}, the directory that
 * {@code scripts/install-control-plane --print-dir} reports (when the repository is found from the working
 * directory), else {@code ${VIRTFLEET_CACHE:-~/.cache/virtfleet}/k8s/<version>-<os>-<arch>}.
 */
public record ControlPlaneBinaries(Path dir) {
    public static final String DIR_PROPERTY = "virtfleet.k8s.dir";
    public static final String DIR_ENV = "VIRTFLEET_K8S_DIR";
    /** Keep in sync with K8S_VERSION in scripts/install-control-plane (used only when the script is not found). */
    public static final String K8S_VERSION = "1.32.13";

    public Path kubeApiserver() {
        return dir.resolve("kube-apiserver");
    }

    public Path etcd() {
        return dir.resolve("etcd");
    }

    public Path kubectl() {
        return dir.resolve("kubectl");
    }

    /** Finds the binaries or throws with instructions to run the install script. */
    public static ControlPlaneBinaries locate() {
        String configured = System.getProperty(DIR_PROPERTY);
        String source = "system property " + DIR_PROPERTY;
        if (configured == null || configured.isBlank()) {
            configured = System.getenv(DIR_ENV);
            source = "environment variable " + DIR_ENV;
        }
        Path dir;
        if (configured != null && !configured.isBlank()) {
            dir = Path.of(configured);
        } else {
            dir = dirFromInstallScript().orElseGet(ControlPlaneBinaries::defaultDir);
            source = "the install cache";
        }
        ControlPlaneBinaries binaries = new ControlPlaneBinaries(dir.toAbsolutePath());
        binaries.verify(source);
        return binaries;
    }

    /** The default cache dir, mirroring scripts/install-control-plane. */
    public static Path defaultDir() {
        String cache = System.getenv("VIRTFLEET_CACHE");
        Path root = cache != null && !cache.isBlank()
                ? Path.of(cache)
                : Path.of(System.getProperty("user.home"), ".cache", "virtfleet");
        return root.resolve("k8s").resolve(K8S_VERSION + "-" + os() + "-" + arch());
    }

    private void verify(String source) {
        StringBuilder missing = new StringBuilder();
        for (Path p : new Path[] {kubeApiserver(), etcd(), kubectl()}) {
            if (!Files.isExecutable(p)) {
                missing.append(' ').append(p.getFileName());
            }
        }
        if (missing.length() > 0) {
            throw new IllegalStateException("Kubernetes control plane binaries missing in " + dir + " (from " + source
                    + "):" + missing + ". Run scripts/install-control-plane from the virtfleet repository (it builds "
                    + "them from source once, ~30 min) or point " + DIR_ENV + " / -D" + DIR_PROPERTY
                    + " at a directory holding kube-apiserver, etcd and kubectl.");
        }
    }

    private static Optional<Path> dirFromInstallScript() {
        Optional<Path> root = RepoRoot.find(Path.of("").toAbsolutePath());
        if (root.isEmpty()) {
            return Optional.empty();
        }
        Path script = root.get().resolve("scripts").resolve("install-control-plane");
        if (!Files.isExecutable(script)) {
            return Optional.empty();
        }
        try {
            Process p = new ProcessBuilder("bash", script.toString(), "--print-dir")
                    .redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0 || out.isEmpty()) {
                p.destroyForcibly();
                return Optional.empty();
            }
            String[] lines = out.split("\\R");
            return Optional.of(Path.of(lines[lines.length - 1].strip()));
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    static String os() {
        String os = System.getProperty("os.name").toLowerCase(Locale.ROOT);
        if (os.contains("linux")) {
            return "linux";
        }
        if (os.contains("mac") || os.contains("darwin")) {
            return "darwin";
        }
        return os.replaceAll("\\s+", "");
    }

    static String arch() {
        String arch = System.getProperty("os.arch").toLowerCase(Locale.ROOT);
        return switch (arch) {
            case "amd64", "x86_64" -> "amd64";
            case "aarch64", "arm64" -> "arm64";
            default -> arch;
        };
    }
}
