package io.virtfleet.cli.vm;

import io.virtfleet.cli.kube.Refusal;
import picocli.CommandLine.Command;

import javax.net.ssl.SSLSocket;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code vm console}: the VM's serial console, interactive, through its host's agent — authenticated with the user's
 * own bearer token and authorized by Kubernetes RBAC ({@code get} on {@code virtualmachines/console}); see
 * {@link AgentSession}. Ctrl-] leaves, as with {@code virsh console}.
 */
@Command(name = "console",
        description = {"Connects your terminal to a VirtualMachine's serial console (Ctrl-] leaves).",
                "Needs RBAC `get` on virtualmachines/console in the VM's namespace, `get` on its Host, a bearer-token "
                        + "credential in the kubeconfig, and the host's agent running with --console-port."},
        footer = {"  virtfleet vm console web-1                 # type; Ctrl-] leaves",
                "  kubectl virtfleet vm console web-1 -n prod",
                "  virtfleet vm console web-1 --context staging --kubeconfig ~/.kube/staging"})
final class ConsoleCommand extends AgentAccessCommand {
    /** Ctrl-]: the escape character of virsh console and telnet. */
    static final int ESCAPE = 0x1d;

    @Override
    public Integer call() throws Exception {
        AgentSession agent = agent("the console", "console");
        SSLSocket socket = agent.open("console", "console");
        try (socket) {
            return session(socket, socket.getInputStream(), socket.getOutputStream(), agent.who, agent.hostName);
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
        Thread output = AgentSession.daemon("console-output", () -> {
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
                AgentSession.closeQuietly(socket);
            }
        });
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
}
