package io.virtfleet.bench;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.virtfleet.agent.AgentConfig;
import io.virtfleet.agent.Closer;
import io.virtfleet.agent.NodeAgent;
import io.virtfleet.api.v1alpha1.ApiGroup;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.Host;
import io.virtfleet.api.v1alpha1.HostSpec;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.controlplane.EmbeddedControlPlane;
import io.virtfleet.operator.OperatorConfig;
import io.virtfleet.operator.VirtfleetOperator;
import io.virtfleet.reconcilers.render.HostInfo;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The real virtfleet path on this machine: the run's control plane, the operator in this JVM (as {@code ./virtfleet
 * demo} runs it), and one node agent on the local libvirtd — in this JVM too, or in a child JVM of its own when its
 * memory is what is measured. Everything is named after the run and removed by {@link #close()}.
 */
public final class VirtfleetStack implements AutoCloseable {
    public static final String FIELD_MANAGER = "virtfleet-bench";
    /** Host.status.cpus the bench sets (see {@link CapacityOverride}). */
    public static final int SIMULATED_CPUS = 64;
    /** Console logs of the in-process agent's domains (the floor's domains render with the same). */
    public static final String RUN_DIR = "/var/lib/virtfleet/run";

    public final EmbeddedControlPlane cp;
    public final KubernetesClient admin;
    public final String namespace;
    public final String host;
    public final String domainPrefix;
    private final BenchContext ctx;
    private VirtfleetOperator operator;
    private NodeAgent agent;
    private ChildJvm agentJvm;
    private CapacityOverride capacity;

    private VirtfleetStack(BenchContext ctx, String what) {
        this.ctx = ctx;
        this.cp = ctx.controlPlane();
        this.admin = cp.client();
        this.namespace = ctx.name(what);
        this.host = ctx.name(what + "-host");
        this.domainPrefix = ctx.domainPrefix();
    }

    /** Starts the agent (in a child JVM when {@code agentInChild}), the capacity override and the operator. */
    public static VirtfleetStack start(BenchContext ctx, String what, boolean agentInChild) throws Exception {
        return start(ctx, what, agentInChild, 0);
    }

    /** As above, the agent with {@code agentWorkers} parallel domain syncs (0: its default). */
    public static VirtfleetStack start(BenchContext ctx, String what, boolean agentInChild, int agentWorkers)
            throws Exception {
        VirtfleetStack s = ctx.onClose(new VirtfleetStack(ctx, what));
        BenchContext.ensureNamespace(s.admin, s.namespace);
        if (agentInChild) {
            List<String> args = new ArrayList<>(List.of("agent", "--host", s.host, "--kubeconfig",
                    s.cp.kubeconfig().toString(), "--domain-prefix", s.domainPrefix));
            if (agentWorkers > 0) {
                args.addAll(List.of("--workers", Integer.toString(agentWorkers)));
            }
            s.agentJvm = ChildJvm.start("agent", ChildJvm.AGENT_JVM_OPTS, args, ctx.out().resolve(what + "-agent.log"));
        } else {
            // A serial console log: the hot-plug scenario waits for the guest's boot in it (an unplug sent before
            // the guest's ACPI is up is never acknowledged). Floors render with the same (floorHost).
            AgentConfig config = AgentConfig.forHost(s.host).withDomainPrefix(s.domainPrefix)
                    .withConsoleLogDir(RUN_DIR);
            s.agent = new NodeAgent(agentWorkers > 0 ? config.withWorkers(agentWorkers) : config, ctx.newClient(s.cp));
            s.agent.start();
        }
        s.capacity = CapacityOverride.start(s.admin, s.host, SIMULATED_CPUS, Duration.ofSeconds(60));
        s.operator = new VirtfleetOperator(OperatorConfig.builder().namespaces(Set.of(s.namespace))
                .identity(ctx.name("operator")).exitOnLostLeadership(false).build());
        s.operator.start(ctx.newClient(s.cp));
        s.awaitHostReady(Duration.ofSeconds(60));
        return s;
    }

    /** The operator sees the host as ready (fresh Lease, capacity reported). */
    private void awaitHostReady(Duration timeout) throws InterruptedException {
        Pattern ready = Pattern.compile("virtfleet_operator_hosts\\{ready=\"true\",?}\\s+[1-9]");
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!ready.matcher(operator.metrics().scrape()).find()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the operator does not see host " + host + " as ready after "
                        + timeout.toSeconds() + " s");
            }
            Thread.sleep(50);
        }
        Thread.sleep(300); // the capacity override reaches the operator's Host cache
    }

    /**
     * Host settings for a floor domain that renders exactly like this stack's VMs (the agent's console-log and
     * guest-channel directories from its Host.spec) but is named and marked for another host, which no agent serves.
     */
    public HostInfo floorHost(String floorHost, String floorPrefix) {
        Host h = admin.resources(Host.class).withName(host).get();
        HostSpec spec = h != null && h.getSpec() != null ? h.getSpec() : new HostSpec();
        return new HostInfo(floorHost, List.of(TestGuest.ALLOWED_ROOT), floorPrefix, spec.consoleLogDir, null,
                spec.guestChannelDir);
    }

    public ChildJvm agentJvm() {
        return agentJvm;
    }

    public Integer reportedCpus() {
        return capacity.reportedCpus();
    }

    public VirtualMachine apply(VirtualMachine vm) {
        return admin.resource(vm).fieldManager(FIELD_MANAGER).forceConflicts().serverSideApply();
    }

    /** Deletes every VM of the namespace and waits until their Domains (and so their libvirt domains) are gone. */
    public boolean deleteAll(Duration timeout) throws InterruptedException {
        admin.resources(VirtualMachine.class).inNamespace(namespace).delete();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            boolean vmsGone = admin.resources(VirtualMachine.class).inNamespace(namespace).list().getItems().isEmpty();
            boolean domainsGone = admin.resources(Domain.class).inNamespace(namespace).list().getItems().isEmpty();
            if (vmsGone && domainsGone) {
                return true;
            }
            Thread.sleep(250);
        }
        return false;
    }

    @Override
    public void close() {
        // ChildJvm.close() is its stop(): SIGTERM, then SIGKILL after 15 s
        Closer.closeInOrder(operator, agent, agentJvm, capacity);
        try {
            admin.resources(Host.class).withName(host).delete();
            admin.leases().inNamespace(ApiGroup.SYSTEM_NAMESPACE).withName(ApiGroup.leaseName(host)).delete();
        } catch (RuntimeException e) {
            // the control plane is going away
        }
        if (RawLibvirt.unavailable() == null) {
            try (RawLibvirt lv = RawLibvirt.open()) {
                lv.purge(domainPrefix + namespace + "_");
            } catch (Exception e) {
                ctx.log("clean-up of " + domainPrefix + namespace + "_*: " + e.getMessage());
            }
        }
    }
}
