package io.virtfleet.cli.vm;

import io.virtfleet.cli.kube.Refusal;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import javax.net.ssl.SSLSocket;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.net.Socket;

/**
 * {@code vm vnc}: the VM's VNC display at a local loopback address for any VNC viewer. Each viewer connection is one
 * session through the VM's host agent ({@link AgentSession}, RBAC {@code get} on {@code virtualmachines/vnc}), where
 * libvirt hands the agent a fresh client connection of QEMU's VNC server ({@code virDomainOpenGraphicsFD}); the
 * display itself listens on no network address. The first session is opened before the address is printed, so a
 * refusal (403, no VNC display, not running) is reported at once.
 */
@Command(name = "vnc",
        description = {"Serves a VirtualMachine's VNC display at a local address (127.0.0.1) for any VNC viewer, "
                + "until interrupted (Ctrl-C).",
                "Needs spec.graphics: vnc, RBAC `get` on virtualmachines/vnc in the VM's namespace, `get` on its Host, "
                        + "a bearer-token credential in the kubeconfig, and the host's agent running with "
                        + "--console-port."},
        footer = {"  virtfleet vm vnc web-1                       # prints 127.0.0.1:PORT; open it in a viewer",
                "  virtfleet vm vnc web-1 --port 5901 &  vncviewer 127.0.0.1::5901",
                "  kubectl virtfleet vm vnc web-1 -n prod --once"})
final class VncCommand extends AgentAccessCommand {
    @Option(names = "--port", paramLabel = "PORT", defaultValue = "0",
            description = "Local port on 127.0.0.1 (default: a free one, printed).")
    int port;

    @Option(names = "--once", description = "Stop after the first viewer disconnects.")
    boolean once;

    @Override
    public Integer call() throws Exception {
        if (port < 0 || port > 65535) {
            throw new Refusal(Refusal.FAILURE, "--port " + port + ": not a TCP port (0-65535)");
        }
        AgentSession agent = agent("the VNC display", "vnc");
        SSLSocket first = agent.open("vnc", "VNC display");
        ServerSocket local;
        try {
            local = listen(port, 8);
        } catch (Refusal r) {
            first.close();
            throw r;
        }
        PrintStream out = System.out;
        String address = "127.0.0.1:" + local.getLocalPort();
        out.println("VNC display of " + agent.who + " (host " + agent.hostName + ") at " + address
                + "  (vnc://" + address + "; Ctrl-C stops)");
        out.flush();
        try (local) {
            SSLSocket next = first;
            while (true) {
                Socket viewer = local.accept();
                SSLSocket session = next != null ? next : openOrReport(agent);
                next = null;
                if (session == null) {
                    viewer.close();
                    continue;
                }
                if (once) {
                    AgentSession.relay(viewer, session);
                    return Refusal.OK;
                }
                AgentSession.daemon("vnc-viewer", () -> AgentSession.relay(viewer, session));
            }
        }
    }

    private static SSLSocket openOrReport(AgentSession agent) {
        try {
            return agent.open("vnc", "VNC display");
        } catch (Refusal r) {
            System.err.println("virtfleet vm vnc: " + r.getMessage());
            return null;
        }
    }
}
