package io.virtfleet.cli;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.virtfleet.agent.AgentConfig;
import io.virtfleet.agent.NodeAgent;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.controlplane.EmbeddedControlPlane;
import io.virtfleet.controlplane.RepoRoot;
import io.virtfleet.controlplane.Waits;
import io.virtfleet.operator.OperatorConfig;
import io.virtfleet.operator.VirtfleetOperator;
import io.virtfleet.reconcilers.manifest.ManifestDocument;
import io.virtfleet.reconcilers.manifest.Manifests;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * Everything on one machine: a real etcd + kube-apiserver, the operator and one node agent on the local libvirtd, and
 * a sample VM. What a new user runs first, and what CI runs to prove the whole path works.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        footerHeading = "%nExamples:%n",
        footer = {"  virtfleet demo                 # keeps running; kubectl get vfvm in another shell",
                "  virtfleet demo --once --hosts 2", "  virtfleet demo --down"},
        description = {"Installs what it needs (libvirt + QEMU, the tiny test guest, a kube-apiserver built from Go "
                + "modules; each cached), starts the control plane, the operator and a node agent on the local "
                + "libvirtd, applies examples/demo.yaml and waits until the VM is Ready.",
                "Then it keeps running for kubectl until Ctrl-C (the VM keeps running in libvirt and is adopted next "
                        + "time), or with --once deletes the VM and exits. --down removes the demo's VMs and state."})
final class DemoCommand implements Callable<Integer> {
    static final String FIELD_MANAGER = "virtfleet-demo";

    @Option(names = "--once", description = "Exit after the VM is Ready, deleting it and stopping everything.")
    boolean once;

    @Option(names = "--down", description = "Delete the demo's VMs (their libvirt domains are undefined) and its state.")
    boolean down;

    @Option(names = {"-f", "--file"}, paramLabel = "FILE",
            description = "VirtualMachine manifest(s) to apply (default: examples/demo.yaml).")
    Path file;

    @Option(names = "--host", paramLabel = "NAME", defaultValue = "local",
            description = "Name of the local Host (default: ${DEFAULT-VALUE}).")
    String host;

    @Option(names = "--hosts", paramLabel = "N", defaultValue = "1",
            description = "How many hosts: 1 (default) runs host --host on the machine's libvirtd; N > 1 runs hosts "
                    + "<host>-1 ... <host>-N, each with a libvirtd of its own (scripts/libvirt-host: own mount "
                    + "namespace, host UUID and virtlogd; /var/lib/virtfleet is their shared storage), so VMs can be "
                    + "live-migrated between them with a VirtualMachineMigration.")
    int hosts;

    @Option(names = "--hypervisor", paramLabel = "qemu|xen", defaultValue = "qemu",
            description = "qemu (default): the machine's libvirtd under QEMU/TCG. xen: a real Xen 4.17 host booted as "
                    + "a QEMU VM of this machine (scripts/xen-host start demo; image built by scripts/build-xen-host, "
                    + "cached), the agent driving its dom0's libvirt over a loopback port forward, and "
                    + "examples/demo-xen.yaml as a PV guest on it. --down also powers the Xen host off.")
    String hypervisor;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "300",
            description = "How long to wait for the VM to become Ready (default: ${DEFAULT-VALUE}).")
    int timeoutSeconds;

    @Option(names = "--skip-install", description = "Do not run the install scripts (they are cached and fast anyway).")
    boolean skipInstall;

    @Option(names = {"-v", "--verbose"}, description = "Show the operator's and the agent's logs here instead of in "
            + ".virtfleet/demo/virtfleet.log.")
    boolean verbose;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    private PrintWriter out;

    @Override
    public Integer call() throws Exception {
        out = spec.commandLine().getOut();
        Path repo = repoRoot();
        Path state = repo.resolve(".virtfleet").resolve("demo");
        Files.createDirectories(state);
        if (!verbose) {
            // The in-process operator and agent log every step; the user should see the demo's progress, not that.
            // Set before the first logger exists, which is why it happens here and not in a log config file.
            System.setProperty("org.slf4j.simpleLogger.logFile", state.resolve("virtfleet.log").toString());
            System.setProperty("org.slf4j.simpleLogger.showDateTime", "true");
            step("logs of the operator and the node agent: " + state.resolve("virtfleet.log"));
        }
        if (!"0".equals(run("id", "-u").trim())) {
            throw new IllegalStateException("the demo runs libvirtd and QEMU as root: run it as root");
        }
        if (!List.of("qemu", "xen").contains(hypervisor)) {
            throw new IllegalArgumentException("--hypervisor: " + hypervisor + " is not qemu or xen");
        }
        if (xen() && hosts != 1) {
            throw new IllegalArgumentException("--hypervisor xen runs one Xen host: --hosts must be 1");
        }
        if (!skipInstall) {
            List<String> scripts = new ArrayList<>(List.of("install-libvirt", "build-test-guest",
                    "install-control-plane"));
            if (xen()) {
                scripts.add("build-xen-host");
            }
            for (String script : scripts) {
                step("scripts/" + script);
                script(repo.resolve("scripts").resolve(script));
            }
        }
        step("starting etcd + kube-apiserver (state in " + state + ")");
        int result;
        try (EmbeddedControlPlane cp = EmbeddedControlPlane.builder().dataDir(state.resolve("control-plane"))
                .keepDataDir(true).crdsFromRepo(repo).start()) {
            KubernetesClient client = cp.client();
            List<NodeAgent> agents = new ArrayList<>();
            try (VirtfleetOperator operator = new VirtfleetOperator(OperatorConfig.builder().build())) {
                for (AgentConfig config : agentConfigs(repo)) {
                    step("starting the node agent for host \"" + config.host() + "\" on " + config.libvirtUri());
                    NodeAgent agent = new NodeAgent(config, client);
                    agents.add(agent);
                    agent.start();
                }
                step("starting the operator");
                operator.start(client);
                result = down ? down(client) : demo(cp, client, repo);
            } finally {
                for (NodeAgent agent : agents) {
                    agent.close();
                }
            }
        }
        if (down && xen()) {
            step("powering off the Xen host " + XEN_HOST);
            run(repo.resolve("scripts/xen-host").toString(), "stop", XEN_HOST);
        }
        if (down && hosts > 1) {
            for (int i = 1; i <= hosts; i++) {
                step("stopping libvirt host " + libvirtHostName(i));
                run(repo.resolve("scripts/libvirt-host").toString(), "stop", libvirtHostName(i));
            }
        }
        if (down) {
            deleteRecursively(state);
            step("removed " + state);
        }
        return result;
    }

    /** One host on qemu:///system, or N hosts each on a libvirtd of its own that accept live migrations. */
    private List<AgentConfig> agentConfigs(Path repo) throws IOException, InterruptedException {
        if (hosts < 1 || hosts > 9) {
            throw new IllegalArgumentException("--hosts: " + hosts + " is not between 1 and 9");
        }
        if (xen()) {
            step("scripts/xen-host start " + XEN_HOST + " (boots Xen and its dom0 under TCG: a minute or more)");
            String output = run(repo.resolve("scripts/xen-host").toString(), "start", XEN_HOST).strip();
            String uri = output.substring(output.lastIndexOf('\n') + 1).strip();
            if (!uri.startsWith("xen+tcp://127.0.0.1:")) {
                throw new IllegalStateException("scripts/xen-host start " + XEN_HOST + " failed: " + output);
            }
            String share = run(repo.resolve("scripts/xen-host").toString(), "share", XEN_HOST).strip();
            // The only allowed root is the directory dom0 mounts at the same path: the files Xen opens are the ones
            // the agent checks. No other libvirt is probed: this host is the Xen host.
            return List.of(AgentConfig.forHost(host).withLibvirtUri(uri).withAllowedRoots(List.of(share))
                    .withProbeUris(List.of()));
        }
        if (hosts == 1) {
            return List.of(AgentConfig.forHost(host));
        }
        List<AgentConfig> out = new ArrayList<>();
        for (int i = 1; i <= hosts; i++) {
            String name = libvirtHostName(i);
            step("scripts/libvirt-host start " + name);
            String output = run(repo.resolve("scripts/libvirt-host").toString(), "start", name).strip();
            String uri = output.substring(output.lastIndexOf('\n') + 1).strip();
            if (!uri.startsWith("qemu+unix://")) {
                throw new IllegalStateException("scripts/libvirt-host start " + name + " failed: " + output);
            }
            // Domain prefixes keep each host's libvirt names (and console/channel files) apart in the shared
            // /var/lib/virtfleet; the socket URI reaches each libvirtd from the others' namespaces too.
            out.add(AgentConfig.forHost(host + "-" + i).withLibvirtUri(uri).withDomainPrefix("vf" + i + "-").withProbeUris(List.of())
                    .withMigration(uri, List.of(io.virtfleet.api.v1alpha1.HostSpec.DEFAULT_ALLOWED_ROOT)));
        }
        return out;
    }

    /** scripts/xen-host's name for the demo's Xen host; examples/demo-xen.yaml's paths are under its share. */
    static final String XEN_HOST = "demo";

    private boolean xen() {
        return "xen".equals(hypervisor);
    }

    private String libvirtHostName(int i) {
        return "vfdemo-" + i;
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var paths = Files.walk(dir)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    private int demo(EmbeddedControlPlane cp, KubernetesClient client, Path repo) throws Exception {
        Path manifest = file != null ? file : repo.resolve("examples").resolve(xen() ? "demo-xen.yaml" : "demo.yaml");
        List<VirtualMachine> vms = load(manifest);
        for (VirtualMachine vm : vms) {
            step("applying " + manifest + ": VirtualMachine " + vm.getMetadata().getNamespace() + "/"
                    + vm.getMetadata().getName());
            client.resource(vm).fieldManager(FIELD_MANAGER).forceConflicts().serverSideApply();
        }
        for (VirtualMachine vm : vms) {
            awaitReady(client, vm);
        }
        out.println();
        out.println(cp.kubectl("get", "vfvm", "-A").output());
        out.println(cp.kubectl("get", "hosts").output());
        out.println("kubeconfig: " + cp.kubeconfig());
        out.println("kubectl:    " + cp.binaries().kubectl());
        out.println("try:        KUBECONFIG=" + cp.kubeconfig() + " " + cp.binaries().kubectl() + " get vfvm,domains -A");
        out.flush();
        if (once) {
            for (VirtualMachine vm : vms) {
                step("deleting VirtualMachine " + vm.getMetadata().getName());
                deleteAndWait(client, vm);
            }
            step("done");
            return ExitCodes.OK;
        }
        out.println("\nvirtfleet demo is running; press Ctrl-C to stop (the VM keeps running in libvirt; "
                + "`./virtfleet demo --down` removes it).");
        out.flush();
        CountDownLatch forever = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(forever::countDown, "demo-shutdown"));
        forever.await();
        return ExitCodes.OK;
    }

    private int down(KubernetesClient client) {
        List<VirtualMachine> vms = client.resources(VirtualMachine.class).inAnyNamespace().list().getItems();
        for (VirtualMachine vm : vms) {
            step("deleting VirtualMachine " + vm.getMetadata().getNamespace() + "/" + vm.getMetadata().getName());
            deleteAndWait(client, vm);
        }
        step(vms.isEmpty() ? "no VirtualMachines left" : "all VirtualMachines deleted; their domains are undefined");
        return ExitCodes.OK;
    }

    private void awaitReady(KubernetesClient client, VirtualMachine vm) throws InterruptedException {
        String ns = vm.getMetadata().getNamespace();
        String name = vm.getMetadata().getName();
        long deadline = System.nanoTime() + Duration.ofSeconds(timeoutSeconds).toNanos();
        String last = null;
        while (System.nanoTime() < deadline) {
            VirtualMachine current = client.resources(VirtualMachine.class).inNamespace(ns).withName(name).get();
            String now = describe(current);
            if (!Objects.equals(now, last)) {
                out.println("    " + name + ": " + now);
                out.flush();
                last = now;
            }
            if (current != null && current.getStatus() != null && isTrue(current.getStatus().conditions, "Ready")) {
                return;
            }
            Thread.sleep(250);
        }
        throw new IllegalStateException("VirtualMachine " + ns + "/" + name + " did not become Ready within "
                + timeoutSeconds + "s (last: " + last + ")");
    }

    private void deleteAndWait(KubernetesClient client, VirtualMachine vm) {
        String ns = vm.getMetadata().getNamespace();
        String name = vm.getMetadata().getName();
        client.resources(VirtualMachine.class).inNamespace(ns).withName(name).delete();
        long deadline = System.nanoTime() + Duration.ofSeconds(timeoutSeconds).toNanos();
        while (System.nanoTime() < deadline) {
            boolean vmGone = client.resources(VirtualMachine.class).inNamespace(ns).withName(name).get() == null;
            boolean domainGone = client.resources(Domain.class).inNamespace(ns).withName(name).get() == null;
            if (vmGone && domainGone) {
                return;
            }
            Waits.sleep(250);
        }
        throw new IllegalStateException("VirtualMachine " + ns + "/" + name + " was not cleaned up within "
                + timeoutSeconds + "s");
    }

    private static String describe(VirtualMachine vm) {
        if (vm == null) {
            return "not found";
        }
        if (vm.getStatus() == null) {
            return "Pending";
        }
        var s = vm.getStatus();
        StringBuilder b = new StringBuilder(Objects.requireNonNullElse(s.printableStatus, "Pending"));
        if (s.host != null) {
            b.append(" on ").append(s.host);
        }
        if (s.domainId != null) {
            b.append(", id ").append(s.domainId);
        }
        if (s.genid != null) {
            b.append(", genid ").append(s.genid);
        }
        for (Condition c : s.conditions) {
            boolean notReady = "Ready".equals(c.getType()) && "False".equals(c.getStatus());
            boolean failed = "Failure".equals(c.getType()) && "True".equals(c.getStatus());
            if ((notReady || failed) && c.getMessage() != null && !c.getMessage().isBlank()) {
                b.append("; ").append(c.getType()).append(": ").append(c.getMessage());
            }
        }
        return b.toString();
    }

    private static boolean isTrue(List<Condition> conditions, String type) {
        return conditions.stream().anyMatch(c -> type.equals(c.getType()) && "True".equals(c.getStatus()));
    }

    private static List<VirtualMachine> load(Path manifest) throws IOException {
        List<VirtualMachine> vms = new ArrayList<>();
        for (ManifestDocument doc : Manifests.parse(Files.readString(manifest))) {
            if (!doc.errors().isEmpty()) {
                throw new IllegalArgumentException(manifest + ":doc " + doc.index() + ": " + doc.errors().get(0));
            }
            if (doc.vm() != null) {
                vms.add(doc.vm());
            }
        }
        if (vms.isEmpty()) {
            throw new IllegalArgumentException(manifest + ": no VirtualMachine in this file");
        }
        return vms;
    }

    private static Path repoRoot() {
        String home = System.getenv("VIRTFLEET_HOME");
        if (home != null && !home.isBlank()) {
            return Path.of(home);
        }
        return RepoRoot.require();
    }

    private void step(String message) {
        out.println("==> " + message);
        out.flush();
    }

    /** Runs an install script with its output shown as it goes: first runs build things and take minutes. */
    private static void script(Path script) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(script.toString()).inheritIO().start();
        int code = p.waitFor();
        if (code != 0) {
            throw new IllegalStateException(script + " failed with exit code " + code);
        }
    }

    private static String run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        p.waitFor();
        return output;
    }
}
