package io.virtfleet.e2e.support;

import io.virtfleet.agent.AgentConfig;
import io.virtfleet.agent.NodeAgent;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A node agent in a JVM of its own (the test's classpath), for an agent whose libvirt must not share the test's
 * process: libvirt's embedded driver ({@code qemu:///embed?root=…}) takes over a process — once it is loaded, no
 * connection to libvirtd (qemu:///system, qemu+unix:///system) can be opened there any more ("no connection driver
 * available"), so an in-process agent on libvirtd could not be restarted. The child runs until its stdin closes.
 */
public final class AgentProcess implements AutoCloseable {
    private final Process process;

    private AgentProcess(Process process) {
        this.process = process;
    }

    /** Starts {@code host}'s agent on {@code libvirtUri} as the fleet's agents are configured; output to {@code log}. */
    public static AgentProcess start(Fleet fleet, String host, String libvirtUri, Path log) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(List.of(java, "-cp", System.getProperty("java.class.path"),
                AgentProcess.class.getName(), host, libvirtUri, fleet.domainPrefix(host),
                fleet.controlPlane().kubeconfig().toString(), Fleet.RUN_DIR.toString()));
        pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        return new AgentProcess(pb.start());
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** Stops the agent cleanly (stdin closed), or kills it after 30 s. */
    @Override
    public void close() {
        try {
            process.getOutputStream().close();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (IOException e) {
            process.destroyForcibly();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }

    /** args: host libvirtUri domainPrefix kubeconfig runDir */
    public static void main(String[] args) throws Exception {
        AgentConfig config = AgentConfig.forHost(args[0]).withLibvirtUri(args[1]).withDomainPrefix(args[2])
                .withLeaseDuration(Duration.ofSeconds(6)).withResync(Duration.ofSeconds(10))
                .withConsoleLogDir(args[4]).withGuestChannelDir(args[4]);
        try (NodeAgent agent = NodeAgent.withKubeconfig(config, Path.of(args[3]))) {
            agent.start();
            System.out.println("AGENT-PROCESS-STARTED " + args[0]);
            System.out.flush();
            while (System.in.read() >= 0) {
                // until the parent closes stdin (or dies)
            }
        }
        System.exit(0);
    }
}
