package io.virtfleet.cli.vm;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.virtfleet.api.v1alpha1.Host;
import io.virtfleet.api.v1alpha1.HostStatus;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.cli.kube.ApiErrors;
import io.virtfleet.cli.kube.KubeOptions;
import io.virtfleet.cli.kube.Refusal;

import javax.net.ssl.SSLSocket;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;

/**
 * The authenticated path from this CLI to a VM's host: where the VM runs ({@code status.host}), that host's agent
 * endpoint and certificate ({@code Host.status.accessEndpoint}, which only that host's agent can write), the user's own
 * bearer token from the kubeconfig, and one TLS connection per session that pins exactly that certificate. The agent
 * reviews the token (TokenReview) and the user's RBAC for the subresource (SubjectAccessReview) before any byte of the
 * VM flows; see the agent's {@code ConsoleServer}.
 */
final class AgentSession {
    final String who;
    final String hostName;
    private final String namespace;
    private final String name;
    private final URI endpoint;
    private final String certificate;
    private final String token;

    private AgentSession(String namespace, String name, String hostName, URI endpoint, String certificate,
                         String token) {
        this.namespace = namespace;
        this.name = name;
        this.who = "VirtualMachine " + namespace + "/" + name;
        this.hostName = hostName;
        this.endpoint = endpoint;
        this.certificate = certificate;
        this.token = token;
    }

    /** Finds the VM's host endpoint; a Refusal naming what is missing. {@code what}: "the console", ... */
    static AgentSession locate(KubeOptions kube, String name, String what, String subresource) {
        String ns = kube.namespace();
        String who = "VirtualMachine " + ns + "/" + name;
        String hostName;
        HostStatus.AccessEndpoint access;
        try (KubernetesClient client = kube.client()) {
            VirtualMachine vm = Vms.require(client, ns, name);
            hostName = vm.getStatus() != null ? vm.getStatus().host : null;
            if (hostName == null) {
                throw new Refusal("cannot open " + what + " of " + who + ": it is not placed on a host yet");
            }
            Host host;
            try {
                host = client.resources(Host.class).withName(hostName).get();
            } catch (KubernetesClientException e) {
                throw ApiErrors.refusal("cannot read Host " + hostName + " (where its agent publishes its "
                        + "endpoint)", e);
            }
            access = host == null || host.getStatus() == null ? null : host.getStatus().accessEndpoint;
            if (access == null || access.url == null || access.certificate == null) {
                throw new Refusal("cannot open " + what + " of " + who + ": host " + hostName + " serves no "
                        + "consoles (its agent runs without --console-port)");
            }
            if (access.subresources != null && !access.subresources.isEmpty()
                    && !access.subresources.contains(subresource)) {
                throw new Refusal("cannot open " + what + " of " + who + ": the agent of host " + hostName
                        + " is too old to serve virtualmachines/" + subresource);
            }
        }
        String token = token(kube.config());
        if (token == null) {
            throw new Refusal("cannot open " + what + " of " + who + ": the kubeconfig has no bearer token to "
                    + "present to the host (a token, OIDC or exec credential; client certificates cannot be forwarded)");
        }
        URI uri;
        try {
            uri = URI.create(access.url);
        } catch (IllegalArgumentException e) {
            throw new Refusal("host " + hostName + " publishes an unusable endpoint " + access.url);
        }
        return new AgentSession(ns, name, hostName, uri, access.certificate, token);
    }

    /**
     * One session: connects, asks for {@code virtualmachines/NAME/<path>} and returns the socket once the agent
     * switched protocols; a Refusal with the agent's one-line answer otherwise ({@code what}: for the message).
     */
    SSLSocket open(String path, String what) {
        SSLSocket socket;
        try {
            socket = (SSLSocket) ConsoleTls.pinned(certificate).getSocketFactory().createSocket();
            socket.connect(new InetSocketAddress(endpoint.getHost(), endpoint.getPort()), 10_000);
            socket.setSoTimeout(30_000);
            socket.startHandshake();
        } catch (IOException | GeneralSecurityException e) {
            throw new Refusal(Refusal.FAILURE, "cannot reach the endpoint " + endpoint + " of host " + hostName
                    + ": " + e.getMessage());
        }
        boolean ok = false;
        try {
            OutputStream out = socket.getOutputStream();
            InputStream in = socket.getInputStream();
            out.write(("GET /apis/virtfleet.io/v1alpha1/namespaces/" + namespace + "/virtualmachines/" + name
                    + "/" + path + " HTTP/1.1\r\nHost: " + endpoint.getHost() + "\r\nAuthorization: Bearer " + token
                    + "\r\nConnection: Upgrade\r\nUpgrade: virtfleet-" + path.replaceFirst("/.*", "") + "\r\n\r\n")
                    .getBytes(StandardCharsets.UTF_8));
            out.flush();
            String[] head = readHead(in);
            if (statusCode(head[0]) != 101) {
                String body = new String(in.readNBytes(4096), StandardCharsets.UTF_8).strip();
                String reason = head[0].replaceFirst("^HTTP/1\\.[01] ", "");
                throw new Refusal(what + " of " + who + " refused by host " + hostName + ": " + reason
                        + (body.isEmpty() ? "" : ": " + body.lines().findFirst().orElse("")));
            }
            socket.setSoTimeout(0);
            ok = true;
            return socket;
        } catch (IOException e) {
            throw new Refusal(Refusal.FAILURE, "the endpoint " + endpoint + " of host " + hostName + " failed: "
                    + e.getMessage());
        } finally {
            if (!ok) {
                closeQuietly(socket);
            }
        }
    }

    /** Closes {@code c} (null: nothing), ignoring a failure: the connection is being given up either way. */
    static void closeQuietly(java.io.Closeable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    /** Starts {@code body} on a daemon thread, which does not keep the CLI alive once the command returns. */
    static Thread daemon(String threadName, Runnable body) {
        Thread t = new Thread(body, threadName);
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** The bearer token the kubeconfig's user presents to the apiserver (static, OIDC or exec credential). */
    static String token(Config config) {
        if (config.getOauthToken() != null && !config.getOauthToken().isBlank()) {
            return config.getOauthToken();
        }
        if (config.getAutoOAuthToken() != null && !config.getAutoOAuthToken().isBlank()) {
            return config.getAutoOAuthToken();
        }
        if (config.getOauthTokenProvider() != null) {
            return config.getOauthTokenProvider().getToken();
        }
        return null;
    }

    static String[] readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        byte[] end = {'\r', '\n', '\r', '\n'};
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("the endpoint closed the connection without an answer");
            }
            head.write(b);
            matched = b == end[matched] ? matched + 1 : (b == '\r' ? 1 : 0);
            if (head.size() > 16384) {
                throw new IOException("the endpoint's answer is too long");
            }
        }
        return head.toString(StandardCharsets.ISO_8859_1).split("\r\n");
    }

    static int statusCode(String line) {
        String[] parts = line.split(" ");
        try {
            return parts.length >= 2 ? Integer.parseInt(parts[1]) : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /**
     * Copies bytes both ways between a local connection and an agent session until either side ends, then closes
     * both (the local viewer or client sees the VM's end as its connection closing).
     */
    static void relay(java.net.Socket local, SSLSocket remote) {
        Thread down = daemon("session-down", () -> copy(remote, local));
        copy(local, remote);
        try {
            down.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void copy(java.net.Socket from, java.net.Socket to) {
        // Each read is written at once: a socket's stream does not buffer, and an SSLSocket sends a TLS record per
        // write, so keystrokes and screen updates pass without a flush.
        try {
            from.getInputStream().transferTo(to.getOutputStream());
        } catch (IOException e) {
            // either side ended
        } finally {
            closeQuietly(from);
            closeQuietly(to);
        }
    }
}
