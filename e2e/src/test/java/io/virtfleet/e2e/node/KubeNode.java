package io.virtfleet.e2e.node;

import io.virtfleet.controlplane.RepoRoot;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** {@code scripts/kube-node}: the one-node cluster (kubelet + containerd) on this machine. */
final class KubeNode {
    static final Path REPO = RepoRoot.require();
    static final Path SCRIPT = REPO.resolve("scripts/kube-node");
    /** The node's name (the script's default) and so the agent's Host. */
    static final String NODE = "virtfleet-node";
    static final Path OVERLAY = REPO.resolve("deploy/local-node");

    private KubeNode() {
    }

    record Result(int exitCode, String stdout) {
        boolean ok() {
            return exitCode == 0;
        }

        String lastLine() {
            String[] lines = stdout.strip().split("\\R");
            return lines[lines.length - 1].strip();
        }
    }

    /** Runs the script; its stderr (progress) goes to {@code log}, appended. */
    static Result run(Path log, long timeoutSeconds, String... args) {
        List<String> cmd = new ArrayList<>(List.of(SCRIPT.toString()));
        cmd.addAll(List.of(args));
        try {
            Files.createDirectories(log.getParent());
            Process p = new ProcessBuilder(cmd).directory(REPO.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(String.join(" ", cmd) + " did not finish in " + timeoutSeconds
                        + " s; see " + log);
            }
            return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + SCRIPT, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted running " + SCRIPT, e);
        }
    }
}
