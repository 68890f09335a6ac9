package io.virtfleet.cli.vm;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectAccessReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectAccessReviewBuilder;
import io.virtfleet.cli.kube.Refusal;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import javax.net.ssl.SSLSocket;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code vm port-forward}: local loopback ports that lead to TCP ports inside the guest (its SSH, a web UI), like
 * {@code kubectl port-forward}. Each local connection is one session through the VM's host agent
 * ({@link AgentSession}, RBAC {@code get} on {@code virtualmachines/portforward}), which carries it over the VM's
 * virtio-serial channel to the relay in the guest: no route to the host or to the guest's network is needed.
 */
@Command(name = "port-forward",
        description = {"Forwards local ports on 127.0.0.1 to TCP ports inside a VirtualMachine, until interrupted "
                + "(Ctrl-C).",
                "Each mapping is LOCAL:GUEST (or :GUEST for a free local port, or GUEST for the same number). The guest "
                        + "runs the relay virtfleet-guest-forward (see guest-tools/); RBAC `get` on "
                        + "virtualmachines/portforward in the VM's namespace and `get` on its Host are needed, and the "
                        + "host's agent must run with --console-port. One connection per VM at a time."},
        footer = {"  virtfleet vm port-forward web-1 2222:22 &  ssh -p 2222 user@127.0.0.1",
                "  virtfleet vm port-forward web-1 :8080     # prints the local port it chose",
                "  kubectl virtfleet vm port-forward web-1 -n prod 5432"})
final class PortForwardCommand extends AgentAccessCommand {
    private static final Pattern MAPPING = Pattern.compile("(?:([0-9]*):)?([0-9]+)");

    @Parameters(index = "1..*", arity = "1..*", paramLabel = "[LOCAL:]GUEST",
            description = "Local port and guest port, e.g. 2222:22, :22 or 22.")
    List<String> mappings = new ArrayList<>();

    /** One LOCAL:GUEST pair; local 0 = any free port. */
    record Mapping(int local, int guest) {
    }

    static Mapping parse(String text) {
        Matcher m = MAPPING.matcher(text);
        if (!m.matches()) {
            throw new Refusal(Refusal.FAILURE, "port mapping " + text + ": expected LOCAL:GUEST, :GUEST or GUEST "
                    + "(e.g. 2222:22)");
        }
        int guest = port(text, m.group(2), 1);
        int local = m.group(1) == null ? guest : m.group(1).isEmpty() ? 0 : port(text, m.group(1), 0);
        return new Mapping(local, guest);
    }

    private static int port(String text, String digits, int min) {
        int p;
        try {
            p = Integer.parseInt(digits);
        } catch (NumberFormatException e) {
            p = -1;
        }
        if (p < min || p > 65535) {
            throw new Refusal(Refusal.FAILURE, "port mapping " + text + ": " + digits + " is not a TCP port ("
                    + min + "-65535)");
        }
        return p;
    }

    @Override
    public Integer call() throws Exception {
        List<Mapping> parsed = mappings.stream().map(PortForwardCommand::parse).toList();
        AgentSession agent = agent("a port-forward", "portforward");
        checkAccess();
        List<ServerSocket> listeners = new ArrayList<>();
        try {
            for (Mapping m : parsed) {
                ServerSocket s = listen(m.local(), 16);
                listeners.add(s);
                System.out.println("Forwarding from 127.0.0.1:" + s.getLocalPort() + " -> " + m.guest() + " in "
                        + agent.who);
            }
            System.out.flush();
            List<Thread> acceptors = new ArrayList<>();
            for (int i = 0; i < parsed.size(); i++) {
                ServerSocket s = listeners.get(i);
                int guest = parsed.get(i).guest();
                acceptors.add(AgentSession.daemon("port-forward-" + guest, () -> accept(agent, s, guest)));
            }
            for (Thread t : acceptors) {
                t.join();
            }
            return Refusal.OK;
        } finally {
            for (ServerSocket s : listeners) {
                s.close();
            }
        }
    }

    private static void accept(AgentSession agent, ServerSocket listener, int guest) {
        while (!listener.isClosed()) {
            Socket local;
            try {
                local = listener.accept();
            } catch (IOException e) {
                return;
            }
            AgentSession.daemon("port-forward-session", () -> {
                SSLSocket remote;
                try {
                    remote = agent.open("portforward/" + guest, "port " + guest);
                } catch (Refusal r) {
                    System.err.println("virtfleet vm port-forward: " + r.getMessage());
                    AgentSession.closeQuietly(local);
                    return;
                }
                System.out.println("Handling connection for " + guest);
                AgentSession.relay(local, remote);
            });
        }
    }

    /**
     * Refuses at once when RBAC says no (a SelfSubjectAccessReview, which every authenticated user may create), rather
     * than at the first connection; the agent checks again for every session.
     */
    private void checkAccess() {
        try (KubernetesClient client = kube.client()) {
            SelfSubjectAccessReview r = client.resource(new SelfSubjectAccessReviewBuilder().withNewSpec()
                    .withNewResourceAttributes().withGroup("virtfleet.io").withResource("virtualmachines")
                    .withSubresource("portforward").withVerb("get").withNamespace(kube.namespace()).withName(name)
                    .endResourceAttributes().endSpec().build()).create();
            if (r.getStatus() == null || !Boolean.TRUE.equals(r.getStatus().getAllowed())) {
                throw new Refusal("port-forward to VirtualMachine " + kube.namespace() + "/" + name + " forbidden: "
                        + "you may not get virtualmachines/portforward in namespace " + kube.namespace());
            }
        } catch (KubernetesClientException e) {
            // Cannot ask: the agent decides per connection.
        }
    }
}
