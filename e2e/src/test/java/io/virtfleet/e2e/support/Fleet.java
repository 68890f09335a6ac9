package io.virtfleet.e2e.support;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.virtfleet.agent.AgentConfig;
import io.virtfleet.agent.NodeAgent;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.Hypervisor;
import io.virtfleet.api.v1alpha1.RunStrategy;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.api.v1alpha1.VirtualMachineRestore;
import io.virtfleet.api.v1alpha1.VirtualMachineRestoreSpec;
import io.virtfleet.api.v1alpha1.VirtualMachineSpec;
import io.virtfleet.controlplane.EmbeddedControlPlane;
import io.virtfleet.operator.OperatorConfig;
import io.virtfleet.observability.serving.Serving;
import io.virtfleet.operator.VirtfleetOperator;
import io.virtfleet.reconcilers.render.DomainNames;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.function.Predicate;

import org.awaitility.Awaitility;

/**
 * The whole of virtfleet for an end-to-end scenario: the shared real control plane, the operator and one real node
 * agent per named host, all on this machine's libvirtd, each test class in a namespace and with libvirt domain prefixes
 * of its own so leftovers of a crashed run never collide. Everything it created is removed on {@link #close()}.
 *
 * <p>Several "hosts" share the one libvirtd, told apart by their domain prefix, which is enough for scheduling,
 * fencing and failover scenarios.
 */
public final class Fleet implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Fleet.class);
    public static final String FIELD_MANAGER = "e2e";
    public static final Path IMAGES = Path.of("/var/lib/virtfleet/images");
    public static final Path TEST_GUEST = IMAGES.resolve("test-guest");
    /** Console logs and guest channel sockets of the fleet's domains. */
    public static final Path RUN_DIR = Path.of("/var/lib/virtfleet/run");

    private final EmbeddedControlPlane cp;
    /** A client of its own (outlives a restart of a non-shared control plane), or null: the control plane's. */
    private final KubernetesClient ownClient;
    private final String id;
    private final String namespace;
    private final Map<String, NodeAgent> agents = new LinkedHashMap<>();
    private final java.util.Set<String> hostsStarted = new java.util.LinkedHashSet<>();
    private final List<Path> files = new ArrayList<>();
    private VirtfleetOperator operator;
    /** Hosts with a libvirtd of their own (host name → libvirt URI); the others use the machine's qemu:///system. */
    private final Map<String, String> libvirtUris = new LinkedHashMap<>();
    private final List<LibvirtHost> libvirtHosts = new ArrayList<>();
    /** Hosts whose agent drives the Xen host's dom0 (host name → it). */
    private final Map<String, XenHost> xenHosts = new LinkedHashMap<>();
    private final List<Cleanup> afterClose = new ArrayList<>();
    /** How the operator's and agents' health and metrics ports are served; null: off (the in-process default). */
    private Serving endpoints;
    /** Each agent's configuration passes through this before the agent starts (identity unless a test says so). */
    private java.util.function.UnaryOperator<AgentConfig> agentConfig = c -> c;

    /** A clean-up step of a test, run by {@link #close()} once the fleet's VMs are gone. */
    @FunctionalInterface
    public interface Cleanup {
        void run() throws Exception;
    }

    private Fleet(EmbeddedControlPlane cp, KubernetesClient ownClient, String id) {
        this.cp = cp;
        this.ownClient = ownClient;
        this.id = id;
        this.namespace = "e2e-" + id;
    }

    /** Starts the operator and one agent per host suffix (host names become {@code e2e-<id>-<suffix>}). */
    public static Fleet start(String... hostSuffixes) {
        return start(EmbeddedControlPlane.shared(), null, hostSuffixes);
    }

    /**
     * As {@link #start(String...)}, each agent's configuration changed by {@code tweak} first (e.g. allowed roots or
     * image cache settings of its own).
     */
    public static Fleet startWithAgentConfig(java.util.function.UnaryOperator<AgentConfig> tweak,
                                             String... hostSuffixes) {
        requireTestGuest();
        Fleet f = new Fleet(EmbeddedControlPlane.shared(), null, UUID.randomUUID().toString().substring(0, 6));
        f.agentConfig = tweak;
        return started(f, fleet -> {
            for (String suffix : hostSuffixes.length == 0 ? new String[] {"a"} : hostSuffixes) {
                fleet.startAgent(fleet.host(suffix));
            }
        });
    }

    /**
     * As {@link #start(String...)} on a control plane of the test's own, through one client built from its config
     * that all of the fleet uses (it survives the control plane being stopped and started again on the same dataDir).
     */
    public static Fleet startOn(EmbeddedControlPlane cp, String... hostSuffixes) {
        return start(cp, new io.fabric8.kubernetes.client.KubernetesClientBuilder().withConfig(cp.config()).build(),
                hostSuffixes);
    }

    /**
     * A fleet's namespace, names, disk copies and clean-up on a control plane, without the in-process operator and
     * agents: for tests that run virtfleet's processes themselves (as OS processes they can kill). {@link #close()}
     * deletes the VMs through virtfleet, so the caller's processes must still run then.
     */
    public static Fleet withoutProcesses(EmbeddedControlPlane cp) {
        requireTestGuest();
        Fleet fleet = new Fleet(cp, new io.fabric8.kubernetes.client.KubernetesClientBuilder().withConfig(cp.config())
                .build(), UUID.randomUUID().toString().substring(0, 6));
        fleet.createNamespace();
        return fleet;
    }

    /**
     * As {@link #start(String...)}, with the operator's and the agents' health and metrics ports on as `virtfleet
     * operator|agent` serve them by default: HTTPS on every address, /metrics for authorized bearer tokens only.
     */
    public static Fleet startWithEndpoints(String... hostSuffixes) {
        return start(EmbeddedControlPlane.shared(), null, Serving.secure(Serving.ALL_ADDRESSES), hostSuffixes);
    }

    private static Fleet start(EmbeddedControlPlane cp, KubernetesClient ownClient, String... hostSuffixes) {
        return start(cp, ownClient, null, hostSuffixes);
    }

    private static Fleet start(EmbeddedControlPlane cp, KubernetesClient ownClient, Serving endpoints,
                               String... hostSuffixes) {
        requireTestGuest();
        Fleet f = new Fleet(cp, ownClient, UUID.randomUUID().toString().substring(0, 6));
        f.endpoints = endpoints;
        return started(f, fleet -> {
            for (String suffix : hostSuffixes.length == 0 ? new String[] {"a"} : hostSuffixes) {
                fleet.startAgent(fleet.host(suffix));
            }
        });
    }

    /** Creates the fleet's namespace, starts its agents ({@code agents}) and operator; closes it if any of it fails. */
    private static Fleet started(Fleet fleet, java.util.function.Consumer<Fleet> agents) {
        try {
            fleet.createNamespace();
            agents.accept(fleet);
            fleet.startOperator();
            return fleet;
        } catch (RuntimeException e) {
            fleet.close();
            throw e;
        }
    }

    private void createNamespace() {
        client().namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(namespace).endMetadata()
                .build()).serverSideApply();
    }

    /**
     * As {@link #start(String...)}, but each host gets a libvirtd of its own ({@link LibvirtHost}: own mount
     * namespace, host UUID and virtlogd), so the hosts can live-migrate domains between them; /var/lib/virtfleet is
     * their shared storage, declared so in each Host ({@code spec.sharedDiskRoots}), and each publishes its socket
     * URI as {@code spec.migrationUri}.
     */
    public static Fleet startWithLibvirtHosts(String... hostSuffixes) {
        requireTestGuest();
        return started(new Fleet(EmbeddedControlPlane.shared(), null, UUID.randomUUID().toString().substring(0, 6)),
                fleet -> {
                    for (String suffix : hostSuffixes) {
                        LibvirtHost lh = LibvirtHost.start("vf" + fleet.id + suffix);
                        fleet.libvirtHosts.add(lh);
                        fleet.libvirtUris.put(fleet.host(suffix), lh.uri());
                        fleet.startAgent(fleet.host(suffix));
                    }
                });
    }

    /**
     * One host, {@code e2e-<id>-<suffix>}, whose agent drives the Xen host's dom0 libvirt ({@link XenHost}): its
     * only allowed root is the directory dom0 shares at the same path, and it probes no other libvirt.
     */
    public static Fleet startWithXenHost(XenHost xen, String suffix) {
        Fleet fleet = withoutProcesses(EmbeddedControlPlane.shared());
        try {
            fleet.xenHosts.put(fleet.host(suffix), xen);
            fleet.libvirtUris.put(fleet.host(suffix), xen.uri());
            fleet.startAgent(fleet.host(suffix));
            fleet.startOperator();
            return fleet;
        } catch (RuntimeException e) {
            fleet.close();
            throw e;
        }
    }

    /**
     * Gives {@code host(suffix)} a libvirtd of its own ({@link LibvirtHost}), for a fleet {@link #withoutProcesses
     * without processes} whose test runs that host's agent itself (pass it {@link #libvirtUri}); stopped on close.
     * Tests that kill or hang libvirtd use this, never the machine's libvirtd, which other tests share.
     */
    public synchronized LibvirtHost startLibvirtHost(String suffix) {
        LibvirtHost lh = LibvirtHost.start("vf" + id + suffix);
        libvirtHosts.add(lh);
        libvirtUris.put(host(suffix), lh.uri());
        return lh;
    }

    /** The libvirtd of its own a host runs on (started by {@link #startWithLibvirtHosts}), or null. */
    public LibvirtHost libvirtHost(String host) {
        String uri = libvirtUris.get(host);
        return libvirtHosts.stream().filter(h -> h.uri().equals(uri)).findFirst().orElse(null);
    }

    /** The libvirt URI of a host's agent. */
    public String libvirtUri(String host) {
        return libvirtUris.getOrDefault(host, "qemu:///system");
    }

    private static void requireTestGuest() {
        if (!Files.isRegularFile(TEST_GUEST.resolve("vmlinuz")) || !Files.isRegularFile(TEST_GUEST.resolve("initrd.img"))) {
            throw new IllegalStateException("the test guest is missing under " + TEST_GUEST
                    + ": run scripts/build-test-guest (and scripts/install-libvirt)");
        }
    }

    // ------------------------------------------------------------------------------------------------------ processes

    public String host(String suffix) {
        return "e2e-" + id + "-" + suffix;
    }

    /** libvirt domain name prefix of a host's agent (short: it ends up in tap and log file names). */
    public String domainPrefix(String host) {
        return "e2e" + id + host.substring(host.lastIndexOf('-') + 1) + "-";
    }

    public synchronized NodeAgent startAgent(String host) {
        String uri = libvirtUris.get(host);
        AgentConfig config = AgentConfig.forHost(host).withDomainPrefix(domainPrefix(host))
                .withLeaseDuration(Duration.ofSeconds(6)).withResync(Duration.ofSeconds(10))
                .withConsoleLogDir(RUN_DIR.toString()).withGuestChannelDir(RUN_DIR.toString());
        XenHost xen = xenHosts.get(host);
        if (xen != null) {
            // No console log or channel directory: libxl keeps a PV console itself (xenconsoled logs it into the
            // share) and a PV guest has no virtio-serial.
            config = AgentConfig.forHost(host).withDomainPrefix(domainPrefix(host))
                    .withLeaseDuration(Duration.ofSeconds(6)).withResync(Duration.ofSeconds(10))
                    .withLibvirtUri(xen.uri()).withAllowedRoots(List.of(xen.share().toString()))
                    .withProbeUris(List.of());
        } else if (uri != null) {
            // A libvirt host of its own (LibvirtHost): its socket URI also reaches it from the other hosts' libvirtd,
            // and /var/lib/virtfleet is the same directory for all of them (shared storage).
            config = config.withLibvirtUri(uri).withMigration(uri, List.of("/var/lib/virtfleet"))
                    .withProbeUris(List.of()); // not the machine's qemu:///system: only this host's libvirtd
        }
        if (endpoints != null) {
            config = config.withPorts(0, 0).withServing(endpoints);
        }
        NodeAgent agent = new NodeAgent(agentConfig.apply(config), client());
        agent.start();
        agents.put(host, agent);
        hostsStarted.add(host);
        return agent;
    }

    /** The running agent of {@code host} (null when it is stopped). */
    public synchronized NodeAgent agent(String host) {
        return agents.get(host);
    }

    /** Stops a host's agent (its Lease then expires); its running domains keep running in libvirt. */
    public synchronized void stopAgent(String host) {
        NodeAgent agent = agents.remove(host);
        if (agent != null) {
            agent.close();
        }
    }

    public synchronized VirtfleetOperator startOperator() {
        OperatorConfig.Builder b = OperatorConfig.builder();
        if (endpoints != null) {
            b.healthPort(0).metricsPort(0).serving(endpoints);
        }
        operator = new VirtfleetOperator(b.build()).start(client());
        return operator;
    }

    /** The running in-process operator (null when it is stopped). */
    public synchronized VirtfleetOperator operator() {
        return operator;
    }

    public synchronized void stopOperator() {
        if (operator != null) {
            operator.close();
            operator = null;
        }
    }

    public KubernetesClient client() {
        return ownClient != null ? ownClient : cp.client();
    }

    public EmbeddedControlPlane controlPlane() {
        return cp;
    }

    public String namespace() {
        return namespace;
    }

    // ---------------------------------------------------------------------------------------------------------- VMs

    /**
     * A VM of the project's test guest (kernel + busybox initramfs, boots in seconds under TCG) with its own copy of
     * the small ext4 data disk, which the guest mounts at /data.
     */
    public VirtualMachine testGuest(String name) {
        VirtualMachine vm = kernelBootVm(namespace, name, "256Mi", TEST_GUEST.resolve("vmlinuz"),
                TEST_GUEST.resolve("initrd.img"));
        VirtualMachineSpec spec = vm.getSpec();
        // no_timer_check: under TCG on a loaded machine the kernel's IO-APIC timer check can fail and panic the
        // guest at boot ("IO-APIC + timer doesn't work"), seen by the fault-injection driver.
        spec.firmware.kernelBoot.cmdline = "console=ttyS0 no_timer_check";
        spec.disks.add(fileDisk("data", copyOfDataDisk(name + "-data").toString(), "qcow2", "virtio"));
        return vm;
    }

    /** A disk of the file at {@code path} in {@code format}, on {@code bus} (null: none given). */
    public static VirtualMachineSpec.Disk fileDisk(String name, String path, String format, String bus) {
        VirtualMachineSpec.Disk d = new VirtualMachineSpec.Disk();
        d.name = name;
        d.volume = new VirtualMachineSpec.Volume();
        d.volume.path = path;
        d.volume.format = format;
        d.bus = bus;
        return d;
    }

    /** A running 1-core q35 TCG VM without graphics, genid auto, booting {@code kernel} + {@code initrd} directly. */
    public static VirtualMachine kernelBootVm(String namespace, String name, String memory, Path kernel, Path initrd) {
        VirtualMachine vm = new VirtualMachine();
        vm.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(namespace).build());
        VirtualMachineSpec spec = new VirtualMachineSpec();
        spec.runStrategy = RunStrategy.Always;
        spec.hypervisor = Hypervisor.QEMU;
        spec.genid = "auto";
        spec.memory = new Quantity(memory);
        spec.machine = "q35";
        spec.graphics = "none";
        spec.cpu = new VirtualMachineSpec.Cpu();
        spec.cpu.cores = 1;
        spec.firmware = new VirtualMachineSpec.Firmware();
        spec.firmware.kernelBoot = new VirtualMachineSpec.KernelBoot();
        spec.firmware.kernelBoot.kernel = kernel.toString();
        spec.firmware.kernelBoot.initrd = initrd.toString();
        vm.setSpec(spec);
        return vm;
    }

    /** A fresh copy of the test guest's data disk (ext4 labelled vfdata), removed on close. */
    public Path copyOfDataDisk(String name) {
        Path copy = IMAGES.resolve("e2e-" + id + "-" + name + ".qcow2");
        try {
            Files.copy(TEST_GUEST.resolve("data.qcow2"), copy, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new IllegalStateException("cannot copy the test guest's data disk: " + e.getMessage(), e);
        }
        files.add(copy);
        return copy;
    }

    /**
     * A fresh raw copy of the test guest's data disk in a Xen host's share (dom0 sees it at the same path). Raw: libxl
     * serves it on the phy backend (blkback on a loop device), which needs no QEMU per guest in dom0.
     */
    public Path copyOfDataDiskOn(XenHost xen, String name) {
        Path copy = xen.share().resolve("images").resolve("e2e-" + id + "-" + name + ".raw");
        try {
            Files.copy(xen.testGuest().resolve("data.raw"), copy, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new IllegalStateException("cannot copy the test guest's data disk: " + e.getMessage(), e);
        }
        files.add(copy);
        return copy;
    }

    /** Applies the VM as a GitOps tool would: server-side apply with its own field manager. */
    public VirtualMachine apply(VirtualMachine vm) {
        return client().resource(vm).fieldManager(FIELD_MANAGER).forceConflicts().serverSideApply();
    }

    public VirtualMachine get(String name) {
        return client().resources(VirtualMachine.class).inNamespace(namespace).withName(name).get();
    }

    public Domain domain(String name) {
        return client().resources(Domain.class).inNamespace(namespace).withName(name).get();
    }

    public VirtualMachine await(String name, String what, Duration timeout, Predicate<VirtualMachine> condition) {
        VirtualMachine[] last = new VirtualMachine[1];
        Awaitility.await().alias(name + ": " + what).atMost(timeout).pollInterval(Duration.ofMillis(200))
                .until(() -> {
                    last[0] = get(name);
                    return last[0] != null && condition.test(last[0]);
                });
        return last[0];
    }

    public VirtualMachine awaitReady(String name) {
        return await(name, "Ready", Duration.ofSeconds(90), vm -> condition(vm, "Ready"));
    }

    public static boolean condition(VirtualMachine vm, String type) {
        return vm.getStatus() != null && vm.getStatus().conditions.stream()
                .anyMatch(c -> type.equals(c.getType()) && "True".equals(c.getStatus()));
    }

    public static Condition conditionOf(VirtualMachine vm, String type) {
        return vm.getStatus() == null ? null : vm.getStatus().conditions.stream()
                .filter(c -> type.equals(c.getType())).findFirst().orElse(null);
    }

    public void delete(String name) {
        client().resources(VirtualMachine.class).inNamespace(namespace).withName(name).delete();
    }

    public void awaitDeleted(String name) {
        // The Domain goes once the agent has shut the guest down (graceful, up to the Domain's
        // shutdownTimeoutSeconds, then destroyed) and undefined it: a guest still booting may miss the first presses.
        Awaitility.await().alias(name + " deleted").atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofMillis(200))
                .until(() -> get(name) == null && domain(name) == null);
    }

    /** {@code o}, a new request object (not created yet), named {@code name} in the namespace, with {@code spec}. */
    public <T extends CustomResource<S, ?>, S> T inNamespace(T o, String name, S spec) {
        o.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(namespace).build());
        o.setSpec(spec);
        return o;
    }

    /** A request (not created yet) named {@code name} to restore VM {@code vmName} to its snapshot {@code snapshot}. */
    public VirtualMachineRestore snapshotRestore(String name, String vmName, String snapshot) {
        VirtualMachineRestoreSpec spec = new VirtualMachineRestoreSpec();
        spec.vmName = vmName;
        spec.snapshotName = snapshot;
        return inNamespace(new VirtualMachineRestore(), name, spec);
    }

    /** The reasons of the Events in the fleet's namespace about an object of that name (any kind), as listed. */
    public List<String> eventReasons(String involvedName) {
        List<String> out = new ArrayList<>();
        for (Event e : client().v1().events().inNamespace(namespace).list().getItems()) {
            if (e.getInvolvedObject() != null && involvedName.equals(e.getInvolvedObject().getName())) {
                out.add(e.getReason());
            }
        }
        return out;
    }

    // ------------------------------------------------------------------------------------------------------ libvirt

    /** The libvirt domain name of a VM placed on a host. */
    public String domainName(String host, String vmName) {
        return DomainNames.domainName(domainPrefix(host), namespace, vmName);
    }

    public String domainName(VirtualMachine vm) {
        return domainName(Objects.requireNonNull(vm.getStatus().host, "VM is not scheduled"), vm.getMetadata().getName());
    }

    public LibvirtGuest guest(VirtualMachine vm) {
        return guestOn(vm.getStatus().host, domainName(vm));
    }

    /** The libvirt domain of a VM on a given host, seen through that host's libvirtd. */
    public LibvirtGuest guestOn(String host, String libvirtName) {
        XenHost xen = xenHosts.get(host);
        if (xen != null) {
            return LibvirtGuest.onXen(xen, libvirtName);
        }
        return new LibvirtGuest(libvirtName, RUN_DIR, libvirtUri(host), LibvirtHost.pidDir(libvirtUri(host)));
    }

    /** A libvirt domain by its libvirt name (which may not exist). */
    public LibvirtGuest guest(String libvirtName) {
        return new LibvirtGuest(libvirtName, RUN_DIR);
    }

    // -------------------------------------------------------------------------------------------------------- close

    /**
     * Runs {@code step} at the end of {@link #close()}, after the fleet deleted its VMs through virtfleet and stopped
     * its operator and agents: for what a test added that those VMs use or that must serve their deletion (a bridge, a
     * disk copy, an agent run as an OS process). Steps run in the order given; a failing one is logged, the rest run.
     */
    public synchronized void afterClose(Cleanup step) {
        afterClose.add(step);
    }

    @Override
    public synchronized void close() {
        try {
            for (VirtualMachine vm : client().resources(VirtualMachine.class).inNamespace(namespace).list().getItems()) {
                delete(vm.getMetadata().getName());
            }
            Awaitility.await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(250)).until(() ->
                    client().resources(VirtualMachine.class).inNamespace(namespace).list().getItems().isEmpty()
                            && client().resources(Domain.class).inNamespace(namespace).list().getItems().isEmpty());
        } catch (RuntimeException e) {
            LOG.warn("fleet {}: VMs were not cleaned up through virtfleet: {}", id, e.toString());
        }
        stopOperator();
        for (String host : List.copyOf(agents.keySet())) {
            stopAgent(host);
        }
        // The control plane outlives this fleet: its Hosts must go, or the next test class's operator could place a VM
        // on a host whose agent is gone but whose Lease has not expired yet.
        for (String host : hostsStarted) {
            try {
                client().resources(io.virtfleet.api.v1alpha1.Host.class).withName(host).delete();
                client().resources(io.fabric8.kubernetes.api.model.coordination.v1.Lease.class)
                        .inNamespace(io.virtfleet.api.v1alpha1.ApiGroup.SYSTEM_NAMESPACE)
                        .withName(io.virtfleet.api.v1alpha1.ApiGroup.leaseName(host)).delete();
            } catch (RuntimeException e) {
                LOG.warn("fleet {}: cannot remove Host {}: {}", id, host, e.toString());
            }
        }
        LibvirtGuest.undefineAllWithPrefix("e2e" + id);
        for (XenHost xen : java.util.Set.copyOf(xenHosts.values())) {
            LibvirtGuest.undefineAllWithPrefix(xen.uri(), "e2e" + id);
        }
        for (LibvirtHost lh : libvirtHosts) {
            lh.close();
        }
        if (ownClient != null) {
            ownClient.close();
        }
        for (Path f : files) {
            try {
                Files.deleteIfExists(f);
            } catch (IOException e) {
                LOG.warn("cannot remove {}: {}", f, e.toString());
            }
        }
        for (Cleanup step : afterClose) {
            try {
                step.run();
            } catch (Exception e) {
                LOG.warn("fleet {}: a test's clean-up step failed: {}", id, e.toString());
            }
        }
        afterClose.clear();
    }
}
