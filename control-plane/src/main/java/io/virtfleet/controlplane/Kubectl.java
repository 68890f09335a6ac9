package io.virtfleet.controlplane;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Runs the control plane's own kubectl (the one {@code scripts/install-control-plane} built) as a child process. */
public final class Kubectl {
    private Kubectl() {
    }

    /** Runs {@code kubectl --kubeconfig <kubeconfig> args...}; stdout and stderr are captured separately. */
    public static KubectlResult run(ControlPlaneBinaries binaries, Path kubeconfig, Path cacheDir, Duration timeout,
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
}
