package io.virtfleet.cli.vm;

import io.virtfleet.cli.kube.KubeOptions;
import io.virtfleet.cli.kube.Refusal;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.concurrent.Callable;

/**
 * What the commands that reach a VM through its host's agent ({@code vm console|vnc|port-forward}) share: kubectl's
 * flags, the VM argument, the help options and the examples heading (picocli reads superclass fields and takes the
 * superclass's {@code @Command} attributes a subclass does not set), finding the agent, and the local listeners.
 */
@Command(mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n")
abstract class AgentAccessCommand implements Callable<Integer> {
    @Mixin
    KubeOptions kube;

    @Parameters(index = "0", paramLabel = "VM", description = "Name of the VirtualMachine.")
    String name;

    /** The agent of the VM's host, for sessions of {@code virtualmachines/<subresource>}; {@code what} names it. */
    AgentSession agent(String what, String subresource) {
        return AgentSession.locate(kube, name, what, subresource);
    }

    /**
     * A listener on 127.0.0.1:{@code port} (0: a free one), loopback only so no other machine reaches the VM through
     * it; a Refusal saying why it cannot listen.
     */
    static ServerSocket listen(int port, int backlog) {
        ServerSocket s = null;
        try {
            s = new ServerSocket();
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), backlog);
            return s;
        } catch (IOException e) {
            AgentSession.closeQuietly(s);
            throw new Refusal(Refusal.FAILURE, "cannot listen on 127.0.0.1:" + port + ": " + e.getMessage());
        }
    }
}
