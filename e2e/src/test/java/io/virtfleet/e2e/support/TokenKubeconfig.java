package io.virtfleet.e2e.support;

import io.virtfleet.controlplane.EmbeddedControlPlane;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A kubeconfig a CLI process reads: the control plane's apiserver and CA, one user authenticated by a bearer token,
 * and its current context (named as the user) in a namespace, so commands run without {@code -n}.
 */
public final class TokenKubeconfig {
    private TokenKubeconfig() {
    }

    /** Writes it to {@code file}; {@code otherContexts}: more contexts of the same user, name → namespace. */
    public static Path write(Path file, EmbeddedControlPlane cp, String user, String token, String namespace,
                             Map<String, String> otherContexts) throws IOException {
        StringBuilder contexts = new StringBuilder(context(user, user, namespace));
        otherContexts.forEach((name, ns) -> contexts.append(context(name, user, ns)));
        Files.writeString(file, """
                apiVersion: v1
                kind: Config
                clusters:
                - name: e2e
                  cluster: {server: "%s", certificate-authority-data: "%s"}
                users:
                - name: %s
                  user: {token: "%s"}
                contexts:
                %scurrent-context: %s
                """.formatted(cp.serverUrl(), cp.config().getCaCertData(), user, token, contexts, user),
                StandardCharsets.UTF_8);
        return file;
    }

    public static Path write(Path file, EmbeddedControlPlane cp, String user, String token, String namespace)
            throws IOException {
        return write(file, cp, user, token, namespace, Map.of());
    }

    private static String context(String name, String user, String namespace) {
        return "- name: " + name + "\n  context: {cluster: e2e, user: " + user + ", namespace: \"" + namespace + "\"}\n";
    }
}
