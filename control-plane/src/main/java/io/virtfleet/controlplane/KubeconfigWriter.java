package io.virtfleet.controlplane;

import io.fabric8.kubernetes.client.Config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Base64;

/** Writes the admin kubeconfig of a control plane ({@code <dir>/kubeconfig}, owner-only, replaced atomically). */
final class KubeconfigWriter {
    private KubeconfigWriter() {
    }

    static Path write(Path dir, int apiPort, String caPem, String token) throws IOException {
        String ca = Base64.getEncoder().encodeToString(caPem.getBytes(StandardCharsets.US_ASCII));
        String yaml = "apiVersion: v1\n"
                + "kind: Config\n"
                + "clusters:\n"
                + "- name: virtfleet\n"
                + "  cluster:\n"
                + "    server: https://127.0.0.1:" + apiPort + "\n"
                + "    certificate-authority-data: " + ca + "\n"
                + "users:\n"
                + "- name: " + EmbeddedControlPlane.ADMIN_USER + "\n"
                + "  user:\n"
                + "    token: " + token + "\n"
                + "contexts:\n"
                + "- name: virtfleet\n"
                + "  context:\n"
                + "    cluster: virtfleet\n"
                + "    user: " + EmbeddedControlPlane.ADMIN_USER + "\n"
                + "    namespace: default\n"
                + "current-context: virtfleet\n";
        Path kc = dir.resolve("kubeconfig");
        Path tmp = dir.resolve("kubeconfig.tmp");
        Files.writeString(tmp, yaml, StandardCharsets.UTF_8);
        StateDir.restrict(tmp);
        Files.move(tmp, kc, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return kc;
    }
}
