package io.virtfleet.bench;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.virtfleet.api.v1alpha1.ApiGroup;
import io.virtfleet.controlplane.EmbeddedControlPlane;
import io.virtfleet.controlplane.Namespaces;
import io.virtfleet.controlplane.RepoRoot;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * One bench run: its size, output directory, the unique name prefix of everything it creates
 * ({@code bench-<pid>-<random>-}: libvirt domains, hosts, namespaces), and the clean-up of all of it, also when the
 * run is interrupted (a shutdown hook).
 */
public final class BenchContext implements AutoCloseable {
    private final Size size;
    private final Path out;
    private final PrintStream console;
    private final Path repo;
    private final String runId;
    private final boolean profile;
    private final Deque<AutoCloseable> cleanups = new ArrayDeque<>();
    private final Thread hook;
    private EmbeddedControlPlane controlPlane;
    private Integer scaleVms;
    private Integer scaleHosts;
    private boolean closed;

    public BenchContext(Size size, Path out, PrintStream console, boolean profile) throws IOException {
        this.size = size;
        this.out = out.toAbsolutePath();
        this.console = console;
        this.profile = profile;
        Files.createDirectories(this.out);
        String home = System.getenv("VIRTFLEET_HOME");
        this.repo = home != null && !home.isBlank() ? Path.of(home) : RepoRoot.require();
        SecureRandom r = new SecureRandom();
        StringBuilder rand = new StringBuilder();
        for (int i = 0; i < 4; i++) {
            rand.append(Character.forDigit(r.nextInt(36), 36));
        }
        this.runId = ProcessHandle.current().pid() + "-" + rand;
        this.hook = new Thread(this::close, "bench-cleanup");
        Runtime.getRuntime().addShutdownHook(hook);
    }

    public Size size() {
        return size;
    }

    /** --scale-vms / --scale-hosts (null: the size's). */
    public void scaleOverride(Integer vms, Integer hosts) {
        this.scaleVms = vms;
        this.scaleHosts = hosts;
    }

    public int scaleVms(int bySize) {
        return scaleVms != null ? scaleVms : bySize;
    }

    public int scaleHosts(int bySize) {
        return scaleHosts != null ? scaleHosts : bySize;
    }

    public Path out() {
        return out;
    }

    public Path repo() {
        return repo;
    }

    public boolean profile() {
        return profile;
    }

    public PrintStream console() {
        return console;
    }

    /** {@code <pid>-<random>}: unique among concurrent runs on this machine. */
    public String runId() {
        return runId;
    }

    /** Prefix of every libvirt domain this run creates: {@code bench-<pid>-<random>-}. */
    public String domainPrefix() {
        return "bench-" + runId + "-";
    }

    /** A Kubernetes name unique to this run: {@code bench-<pid>-<random>-<what>}. */
    public String name(String what) {
        return "bench-" + runId + "-" + what;
    }

    public Path jsonl() {
        return out.resolve("results.jsonl");
    }

    public void log(String message) {
        console.println("  .. " + message);
        console.flush();
    }

    /** Runs on {@link #close()}, last registered first. */
    public synchronized <T extends AutoCloseable> T onClose(T c) {
        cleanups.push(c);
        return c;
    }

    /** Runs a clean-up registered with {@link #onClose} now (and not again later). */
    public void closeNow(AutoCloseable c) {
        synchronized (this) {
            cleanups.remove(c);
        }
        closeQuietly(c);
    }

    /** The run's control plane (real etcd + kube-apiserver, repository CRDs), started on first use. */
    public synchronized EmbeddedControlPlane controlPlane() {
        if (controlPlane == null) {
            long t0 = System.nanoTime();
            controlPlane = EmbeddedControlPlane.builder().crdsFromRepo(repo).start();
            log(String.format("control plane up in %.1f s (%s)", (System.nanoTime() - t0) / 1e9,
                    controlPlane.serverUrl()));
            ensureNamespace(controlPlane.client(), ApiGroup.SYSTEM_NAMESPACE);
        }
        return controlPlane;
    }

    /** A fresh control plane for one scenario (its apiserver's counters then only count that scenario). */
    public EmbeddedControlPlane newControlPlane() {
        long t0 = System.nanoTime();
        EmbeddedControlPlane cp = onClose(EmbeddedControlPlane.builder().crdsFromRepo(repo).start());
        log(String.format("control plane up in %.1f s (%s)", (System.nanoTime() - t0) / 1e9, cp.serverUrl()));
        ensureNamespace(cp.client(), ApiGroup.SYSTEM_NAMESPACE);
        return cp;
    }

    /** A client of its own (as a separate process would have), closed with the run. */
    public KubernetesClient newClient(EmbeddedControlPlane cp) {
        return onClose(new KubernetesClientBuilder().withConfig(cp.config()).build());
    }

    /** A client whose requests {@code counter} counts. */
    public KubernetesClient newCountingClient(EmbeddedControlPlane cp, ApiCounter counter) {
        return onClose(new KubernetesClientBuilder().withConfig(cp.config())
                .withHttpClientBuilderConsumer(b -> b.addOrReplaceInterceptor("bench-counter", counter)).build());
    }

    public static void ensureNamespace(KubernetesClient client, String ns) {
        Namespaces.ensure(client, ns);
    }

    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        while (true) {
            AutoCloseable c;
            synchronized (this) {
                c = cleanups.poll();
            }
            if (c == null) {
                break;
            }
            closeQuietly(c);
        }
        if (controlPlane != null) {
            closeQuietly(controlPlane);
        }
        // Whatever a scenario left in libvirt (an interrupted run): every domain of this run has the prefix.
        if (RawLibvirt.unavailable() == null) {
            try (RawLibvirt lv = RawLibvirt.open()) {
                int n = lv.purge(domainPrefix());
                if (n > 0) {
                    console.println("  .. clean-up: destroyed and undefined " + n + " leftover domain(s) "
                            + domainPrefix() + "*");
                }
            } catch (Exception e) {
                console.println("  .. clean-up: cannot reach libvirt: " + e.getMessage());
            }
        }
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // running inside the hook
        }
    }

    private void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception e) {
            console.println("  .. clean-up: " + c + ": " + e);
        }
    }
}
