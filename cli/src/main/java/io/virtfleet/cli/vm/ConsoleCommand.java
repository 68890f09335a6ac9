package io.virtfleet.cli.vm;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.virtfleet.api.v1alpha1.Host;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.cli.kube.ApiErrors;
import io.virtfleet.cli.kube.KubeOptions;
import io.virtfleet.cli.kube.Refusal;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import javax.net.ssl.SSLSocket;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code vm console}: the VM's serial console, interactive, through its host's agent — authenticated with the user's
 * own bearer token and authorized by Kubernetes RBAC ({@code get} on {@code virtualmachines/console}); see the agent's
 * {@code ConsoleServer}. The endpoint and the certificate to trust come from the Host object, so the bytes travel over
 * TLS to exactly that agent. Ctrl-] leaves, as with {@code virsh console}.
 */
@Command(name = "console", mixinStandardHelpOptions = true,
        description = {"Connects your terminal to a VirtualMachine's serial console (Ctrl-] leaves).",
                "Needs RBAC `get` on virtualmachines/console in the VM's namespace, `get` on its Host, a bearer-token "
                        + "credential in the kubeconfig, and the host's agent running with --console-port."},
        footerHeading = "%nExamples:%n",
        footer = {"  virtfleet vm console web-1", "  kubectl virtfleet vm console web-1 -n prod"})
final class ConsoleCommand implements Callable<Integer> {
    /** Ctrl-]: the escape character of virsh console and telnet. */
    static final int ESCAPE = 0x1d;
    static final String ENDPOINT_ANNOTATION = "virtfleet.io/console-endpoint";
    static final String CERTIFICATE_ANNOTATION = "virtfleet.io/console-certificate";

    @Mixin
    KubeOptions kube;

    @Parameters(index = "0", paramLabel = "VM", description = "Name of the VirtualMachine.")
    String name;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        String ns = kube.namespace();
        String who = "VirtualMachine " + ns + "/" + name;
        String hostName;
        String endpoint;
        String pem;
        try (KubernetesClient client = kube.client()) {
            VirtualMachine vm = Vms.require(client, ns, name);
            hostName = vm.getStatus() != null ? vm.getStatus().host : null;
            if (hostName == null) {
                throw new Refusal("cannot open the console of " + who + ": it is not placed on a host yet");
            }
            Host host;
            try {
                host = client.resources(Host.class).withName(hostName).get();
            } catch (KubernetesClientException e) {
                throw ApiErrors.refusal("cannot read Host " + hostName + " (where the console endpoint is "
                        + "published)", e);
            }
            Map<String, String> ann = host == null ? null : host.getMetadata().getAnnotations();
            endpoint = ann == null ? null : ann.get(ENDPOINT_ANNOTATION);
            pem = ann == null ? null : ann.get(CERTIFICATE_ANNOTATION);
            if (endpoint == null || pem == null) {
                throw new Refusal("cannot open the console of " + who + ": host " + hostName + " does not serve "
                        + "consoles (its agent runs without --console-port)");
            }
        }
        String token = token(kube.config());
        if (token == null) {
            throw new Refusal("cannot open the console of " + who + ": the kubeconfig has no bearer token to present "
                    + "to the host (a token, OIDC or exec credential; client certificates cannot be forwarded)");
        }
        URI uri = URI.create(endpoint);
        SSLSocket socket;
        try {
            socket = (SSLSocket) ConsoleTls.pinned(pem).getSocketFactory().createSocket();
            socket.connect(new InetSocketAddress(uri.getHost(), uri.getPort()), 10_000);
            socket.setSoTimeout(30_000);
            socket.startHandshake();
        } catch (IOException | GeneralSecurityException e) {
            throw new Refusal(Refusal.FAILURE, "cannot reach the console endpoint " + endpoint + " of host "
                    + hostName + ": " + e.getMessage());
        }
        try (socket) {
            OutputStream out = socket.getOutputStream();
            InputStream in = socket.getInputStream();
            out.write(("GET /apis/virtfleet.io/v1alpha1/namespaces/" + ns + "/virtualmachines/" + name
                    + "/console HTTP/1.1\r\nHost: " + uri.getHost() + "\r\nAuthorization: Bearer " + token
                    + "\r\nConnection: Upgrade\r\nUpgrade: virtfleet-console\r\n\r\n")
                    .getBytes(StandardCharsets.UTF_8));
            out.flush();
            String[] head = readHead(in);
            int code = statusCode(head[0]);
            if (code != 101) {
                String body = new String(in.readNBytes(4096), StandardCharsets.UTF_8).strip();
                String reason = head[0].replaceFirst("^HTTP/1\\.[01] ", "");
                throw new Refusal("console of " + who + " refused by host " + hostName + ": " + reason
                        + (body.isEmpty() ? "" : ": " + body.lines().findFirst().orElse("")));
            }
            socket.setSoTimeout(0);
            return session(socket, in, out, who, hostName);
        }
    }

    private int session(SSLSocket socket, InputStream in, OutputStream out, String who, String host)
            throws IOException, InterruptedException {
        PrintStream err = System.err;
        boolean tty = System.console() != null;
        String saved = tty ? stty("-g") : null;
        err.print("Connected to the serial console of " + who + " on host " + host + " (Ctrl-] to leave)"
                + (tty ? "\r\n" : "\n"));
        err.flush();
        if (tty) {
            stty("raw", "-echo");
        }
        AtomicBoolean remoteClosed = new AtomicBoolean();
        AtomicBoolean leaving = new AtomicBoolean(); // the user left: the output thread's end is ours, not the host's
        Thread output = new Thread(() -> {
            byte[] buf = new byte[8192];
            try {
                int n;
                while ((n = in.read(buf)) > 0) {
                    System.out.write(buf, 0, n);
                    System.out.flush();
                }
            } catch (IOException e) {
                // the session ends
            }
            remoteClosed.set(!leaving.get());
            if (!socket.isClosed()) {
                try {
                    socket.close();
                } catch (IOException ignored) {
                    // closing anyway
                }
            }
        }, "console-output");
        output.setDaemon(true);
        output.start();
        try {
            byte[] buf = new byte[1024];
            int n;
            outer:
            while ((n = System.in.read(buf)) > 0 && !socket.isClosed()) {
                for (int i = 0; i < n; i++) {
                    if (buf[i] == ESCAPE) {
                        if (i > 0) {
                            out.write(buf, 0, i);
                            out.flush();
                        }
                        break outer;
                    }
                }
                out.write(buf, 0, n);
                out.flush();
            }
        } catch (IOException e) {
            // the host closed the session
        } finally {
            leaving.set(true);
            if (tty && saved != null) {
                stty(saved);
            }
            socket.close();
            output.join(2000);
        }
        err.print((tty ? "\r\n" : "\n") + (remoteClosed.get() ? "The host closed the console of " + who + ".\n"
                : "Disconnected from the console of " + who + ".\n"));
        err.flush();
        return Refusal.OK;
    }

    /** {@code stty ARGS} on the controlling terminal; its output (for -g). */
    private static String stty(String... args) {
        try {
            String[] cmd = new String[args.length + 1];
            cmd[0] = "stty";
            System.arraycopy(args, 0, cmd, 1, args.length);
            Process p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/tty")))
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            p.waitFor(5, TimeUnit.SECONDS);
            return out;
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
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
                throw new IOException("the console endpoint closed the connection without an answer");
            }
            head.write(b);
            matched = b == end[matched] ? matched + 1 : (b == '\r' ? 1 : 0);
            if (head.size() > 16384) {
                throw new IOException("the console endpoint's answer is too long");
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
}
