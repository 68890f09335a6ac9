package io.virtfleet.e2e.node;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.virtfleet.api.v1alpha1.ApiGroup;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.Host;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.controlplane.ControlPlaneBinaries;
import io.virtfleet.controlplane.Kubectl;
import io.virtfleet.controlplane.KubectlResult;
import io.virtfleet.e2e.support.LibvirtGuest;
import io.virtfleet.e2e.support.TestGuestVms;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * deploy/local-node on a real node: {@code scripts/kube-node up} (kubelet + containerd + kube-scheduler +
 * kube-controller-manager with the project's etcd + kube-apiserver), {@code kubectl apply --server-side -k}, and
 * then what only pods show: the images' entrypoints under their memory limits, probes, leader hand-over between the
 * two operator replicas, the DaemonSet's agent driving the host's libvirtd through its hostPath socket, an agent
 * restart and a rolling upgrade adopting running VMs, and garbage collection by the controller-manager.
 *
 * <p>The steps build on each other (one VM goes through them) and run in order. If the node was not running
 * before, it is stopped again afterwards.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class KubeNodeTest {
    static final String SYSTEM = ApiGroup.SYSTEM_NAMESPACE;
    /** Test namespaces and thereby libvirt domains (namespace_name) start with this. */
    static final String PREFIX = "vfnode-e2e-";
    static final String NS = PREFIX + "a";
    static final String GC_NS = PREFIX + "gc";
    static final String VM = "web";
    static final String EDITOR = "kube-node-editor";
    static final Path GUEST = TestGuestVms.GUEST;
    static final Path LOG = KubeNode.REPO.resolve("e2e/target/kube-node");
    static final String OPERATOR = "virtfleet-operator";
    static final String AGENT = "virtfleet-agent";

    boolean startedNode;
    Path kubeconfig;
    KubernetesClient admin;
    KubernetesClient editor;
    final PodMemory memory = new PodMemory();
    String domainName;
    long qemuPid;
    String genid;
    Long startCount;

    @BeforeAll
    void upAndDeploy() throws IOException {
        assertThat(Files.isRegularFile(GUEST.resolve("vmlinuz"))).as("test guest (scripts/build-test-guest)").isTrue();
        startedNode = !KubeNode.run(LOG.resolve("kube-node.log"), 60, "status").ok();
        KubeNode.Result up = KubeNode.run(LOG.resolve("kube-node.log"), 1800, "up");
        assertThat(up.ok()).as("scripts/kube-node up failed; see " + LOG.resolve("kube-node.log")).isTrue();
        kubeconfig = Path.of(up.lastLine());
        assertThat(kubeconfig).isRegularFile();
        Config config = Config.fromKubeconfig(Files.readString(kubeconfig));
        admin = new KubernetesClientBuilder().withConfig(config).build();
        editor = new KubernetesClientBuilder().withConfig(new ConfigBuilder(config)
                .withImpersonateUsername(EDITOR).build()).build();
        cleanUpLibvirt();
        for (String ns : List.of(NS, GC_NS)) {
            deleteNamespace(ns);
        }

        KubectlResult apply = kubectl(Duration.ofSeconds(180), "apply", "--server-side", "-k",
                KubeNode.OVERLAY.toString());
        assertThat(apply.ok()).as(apply.toString()).isTrue();
    }

    @AfterAll
    void tearDown() {
        try {
            if (admin != null) {
                memory.sample(systemPods());
                writeMemoryReport();
                for (String ns : List.of(NS, GC_NS)) {
                    deleteNamespace(ns);
                }
                KubectlResult del = kubectl(Duration.ofSeconds(300), "delete", "-k", KubeNode.OVERLAY.toString(),
                        "--ignore-not-found", "--wait=true");
                if (!del.ok()) {
                    System.err.println("kubectl delete -k deploy/local-node: " + del);
                }
            }
        } finally {
            cleanUpLibvirt();
            if (editor != null) {
                editor.close();
            }
            if (admin != null) {
                admin.close();
            }
            if (startedNode) {
                KubeNode.run(LOG.resolve("kube-node.log"), 300, "down");
            }
        }
    }

    @Test
    @Order(1)
    void bothOperatorReplicasAndTheAgentBecomeReadyWithOneLeader() {
        await("2 operator pods and the agent pod Ready").atMost(Duration.ofMinutes(5))
                .pollInterval(Duration.ofSeconds(2)).untilAsserted(() -> {
                    assertThat(readyPods(OPERATOR)).as(describeSystem()).hasSize(2);
                    assertThat(readyPods(AGENT)).as(describeSystem()).hasSize(1);
                });
        List<String> operators = readyPods(OPERATOR).stream().map(p -> p.getMetadata().getName()).toList();
        await("one operator leads").atMost(Duration.ofMinutes(1)).untilAsserted(() ->
                assertThat(leaderPod()).isIn(operators));
        Pod agent = readyPods(AGENT).get(0);
        assertThat(agent.getSpec().getNodeName()).isEqualTo(KubeNode.NODE);
        await("Host registered by the agent pod").atMost(Duration.ofMinutes(1)).untilAsserted(() -> {
            Host h = admin.resources(Host.class).withName(KubeNode.NODE).get();
            assertThat(h).isNotNull();
            assertThat(h.getStatus()).isNotNull();
        });
        memory.sample(systemPods());
    }

    @Test
    @Order(2)
    void aVirtualMachineOfAVmEditorRunsInTheHostsLibvirtd() {
        admin.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(NS).endMetadata().build())
                .create();
        admin.rbac().roleBindings().inNamespace(NS).resource(new RoleBindingBuilder()
                .withNewMetadata().withName("editor").endMetadata()
                .withNewRoleRef().withApiGroup("rbac.authorization.k8s.io").withKind("ClusterRole")
                .withName("virtfleet-vm-editor").endRoleRef()
                .addNewSubject().withApiGroup("rbac.authorization.k8s.io").withKind("User").withName(EDITOR)
                .endSubject().build()).create();
        editor.resource(vm(NS, VM)).create();

        VirtualMachine live = awaitRunning(NS, VM);
        domainName = domainName(NS, VM);
        LibvirtGuest guest = LibvirtGuest.onMachine(domainName);
        assertThat(guest.state()).isEqualTo("running");
        qemuPid = guest.qemuPid();
        genid = live.getStatus().genid;
        assertThat(genid).isNotBlank();
        assertThat(guest.genidSeenByGuest()).isEqualTo(genid);
        startCount = admin.resources(Domain.class).inNamespace(NS).withName(VM).get().getStatus().startCount;
        // QEMU is the host's libvirtd's child, not a process of the agent's pod: not in the node's pod cgroups.
        assertThat(readOrEmpty(Path.of("/proc", Long.toString(qemuPid), "cgroup"))).doesNotContain("virtfleet-node");
        memory.sample(systemPods());
    }

    @Test
    @Order(3)
    void killingTheLeaderHandsLeadershipToAnotherReplicaWithinTheLeaseDuration() {
        Lease lease = admin.leases().inNamespace(SYSTEM).withName(OPERATOR).get();
        String leader = leaderPod();
        int leaseSeconds = lease.getSpec().getLeaseDurationSeconds();
        List<String> before = readyPods(OPERATOR).stream().map(p -> p.getMetadata().getName()).toList();
        assertThat(before).contains(leader).hasSize(2);
        memory.sample(systemPods());

        Instant killed = Instant.now();
        admin.pods().inNamespace(SYSTEM).withName(leader).withGracePeriod(0).delete();
        // Either the standby or the Deployment's replacement may win: both retry the Lease, and whichever tries first
        // after the old holder's lease expired acquires it (client-go's leader election, which fabric8's follows, makes
        // no promise of order among candidates). What must hold: someone other than the killed pod leads, in time.
        AtomicReference<String> next = new AtomicReference<>();
        try {
            await("another operator replica than " + leader + " leads").atMost(Duration.ofSeconds(leaseSeconds + 15))
                    .pollInterval(Duration.ofMillis(500)).until(() -> {
                        String now = leaderPod();
                        next.set(now);
                        return now != null && !now.equals(leader)
                                && pods(OPERATOR).stream().anyMatch(p -> p.getMetadata().getName().equals(now));
                    });
        } catch (ConditionTimeoutException e) {
            throw new AssertionError("no new leader after " + leader + " was killed; the Lease names " + next.get()
                    + "\n" + describeSystem(), e);
        }
        Duration takeover = Duration.between(killed, Instant.now());
        String successor = next.get();
        System.out.printf("operator leadership: %s killed, %s leading after %d ms (lease %d s, %s)%n", leader,
                successor, takeover.toMillis(), leaseSeconds, before.contains(successor) ? "the standby" : "the replacement");
        // A forced delete is seen at once; a candidate may acquire only when the old holder's lease has expired,
        // i.e. at most the lease duration after its last renewal plus one retry period of the candidate.
        assertThat(takeover).isLessThanOrEqualTo(Duration.ofSeconds(leaseSeconds + 5));

        assertVmUntouched();
        await("a replacement replica Ready").atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(2))
                .untilAsserted(() -> assertThat(readyPods(OPERATOR)).as(describeSystem()).hasSize(2));
        // One leader throughout: the lease did not move again once the replicas were back.
        assertThat(leaderPod()).isEqualTo(successor);
    }

    @Test
    @Order(4)
    void aRestartedAgentPodAdoptsTheRunningVm() {
        Pod old = readyPods(AGENT).get(0);
        memory.sample(systemPods());
        admin.pods().inNamespace(SYSTEM).withName(old.getMetadata().getName()).delete();
        Pod fresh = awaitNewAgentPod(old.getMetadata().getUid());
        assertThat(fresh.getSpec().getNodeName()).isEqualTo(KubeNode.NODE);
        assertAgentAdopted(fresh);
    }

    @Test
    @Order(5)
    void rollingTheAgentToANewImageTagKeepsTheVmRunning() {
        DaemonSet ds = admin.apps().daemonSets().inNamespace(SYSTEM).withName(AGENT).get();
        String image = ds.getSpec().getTemplate().getSpec().getContainers().get(0).getImage();
        String newImage = image.replaceFirst(":[^:/]+$", "") + ":0.1.0-rollout";
        // The same image under a second tag, as a registry would hold a new release.
        KubeNode.Result tag = KubeNode.run(LOG.resolve("kube-node.log"), 120, "ctr", "images", "tag", "--force",
                "docker.io/library/" + image, "docker.io/library/" + newImage);
        assertThat(tag.ok()).as("ctr images tag: " + tag.stdout()).isTrue();
        Pod old = readyPods(AGENT).get(0);
        memory.sample(systemPods());

        admin.apps().daemonSets().inNamespace(SYSTEM).withName(AGENT).edit(d -> {
            d.getSpec().getTemplate().getSpec().getContainers().get(0).setImage(newImage);
            return d;
        });
        await("DaemonSet rolled out").atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofSeconds(2))
                .untilAsserted(() -> {
                    DaemonSet live = admin.apps().daemonSets().inNamespace(SYSTEM).withName(AGENT).get();
                    assertThat(live.getStatus().getObservedGeneration()).isEqualTo(live.getMetadata().getGeneration());
                    assertThat(live.getStatus().getUpdatedNumberScheduled()).isEqualTo(1);
                    assertThat(live.getStatus().getNumberReady()).as(describeSystem()).isEqualTo(1);
                });
        Pod fresh = awaitNewAgentPod(old.getMetadata().getUid());
        assertThat(fresh.getSpec().getContainers().get(0).getImage()).isEqualTo(newImage);
        assertAgentAdopted(fresh);
    }

    @Test
    @Order(6)
    void deletingTheVmUndefinesTheDomain() {
        editor.resources(VirtualMachine.class).inNamespace(NS).withName(VM).delete();
        await("VM, Domain and libvirt domain gone").atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1))
                .untilAsserted(() -> {
                    assertThat(admin.resources(VirtualMachine.class).inNamespace(NS).withName(VM).get())
                            .as(describe(NS)).isNull();
                    assertThat(admin.resources(Domain.class).inNamespace(NS).withName(VM).get()).isNull();
                    assertThat(LibvirtGuest.onMachine(domainName).isDefined()).isFalse();
                });
    }

    @Test
    @Order(7)
    void deletingANamespaceWithVmsRemovesEverything() {
        admin.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(GC_NS).endMetadata().build())
                .create();
        admin.resource(vm(GC_NS, "a")).create();
        admin.resource(vm(GC_NS, "b")).create();
        awaitRunning(GC_NS, "a");
        awaitRunning(GC_NS, "b");
        List<String> domains = List.of(domainName(GC_NS, "a"), domainName(GC_NS, "b"));

        admin.namespaces().withName(GC_NS).delete();
        // The controller-manager's namespace controller deletes the VMs; the operator's and the agent's finalizers
        // take the Domains and libvirt domains with them; only then is the namespace itself removed.
        await("namespace " + GC_NS + " gone").atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofSeconds(2))
                .untilAsserted(() -> assertThat(admin.namespaces().withName(GC_NS).get()).as(describe(GC_NS)).isNull());
        for (String d : domains) {
            assertThat(LibvirtGuest.onMachine(d).isDefined()).as(d).isFalse();
        }
    }

    @Test
    @Order(8)
    void theOperatorAndAgentPodsStayedWithinTheirMemoryLimits() {
        memory.sample(systemPods());
        assertThat(memory.restarts()).as("operator/agent containers restarted during the test").isEmpty();
        List<PodMemory.Peak> peaks = memory.peaks();
        assertThat(peaks).as("sampled containers").isNotEmpty();
        for (PodMemory.Peak peak : peaks) {
            assertThat(peak.limitBytes()).as(peak.toString()).isPositive();
            assertThat(peak.rssBytes()).as(peak.toString()).isPositive().isLessThan(peak.limitBytes());
        }
        assertThat(oomEvents()).as("OOM events in " + SYSTEM).isEmpty();
    }

    // ---------------------------------------------------------------------------------------------------- helpers

    private void assertAgentAdopted(Pod fresh) {
        await("the new agent pod Ready").atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(2))
                .untilAsserted(() -> assertThat(isReady(admin.pods().inNamespace(SYSTEM)
                        .withName(fresh.getMetadata().getName()).get())).as(describeSystem()).isTrue());
        // Ready means connected and this node's Domains listed; its heartbeat is the new pod's.
        assertVmUntouched();
        Domain d = admin.resources(Domain.class).inNamespace(NS).withName(VM).get();
        assertThat(d.getStatus().state).isEqualTo("Running");
        assertThat(d.getStatus().startCount).as("the agent started nothing").isEqualTo(startCount);
        assertThat(d.getStatus().genid).isEqualTo(genid);
    }

    private void assertVmUntouched() {
        LibvirtGuest guest = LibvirtGuest.onMachine(domainName);
        assertThat(guest.state()).isEqualTo("running");
        assertThat(guest.qemuPid()).as("QEMU pid").isEqualTo(qemuPid);
        assertThat(guest.genidSeenByGuest()).isEqualTo(genid);
        VirtualMachine vm = admin.resources(VirtualMachine.class).inNamespace(NS).withName(VM).get();
        assertThat(vm.getStatus().printableStatus).isEqualTo("Running");
        assertThat(vm.getStatus().genid).isEqualTo(genid);
    }

    private Pod awaitNewAgentPod(String oldUid) {
        List<Pod> found = new ArrayList<>();
        await("a new agent pod").atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
            // Bound to a node too: the DaemonSet controller creates the pod and the scheduler binds it a moment
            // later, so a fast machine sees the pod with no spec.nodeName yet.
            List<Pod> pods = pods(AGENT).stream().filter(p -> !p.getMetadata().getUid().equals(oldUid))
                    .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
                    .filter(p -> p.getSpec().getNodeName() != null).toList();
            assertThat(pods).as(describeSystem()).hasSize(1);
            found.clear();
            found.addAll(pods);
        });
        return found.get(0);
    }

    private VirtualMachine awaitRunning(String ns, String name) {
        await(ns + "/" + name + " Running").atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofSeconds(1))
                .untilAsserted(() -> {
                    VirtualMachine live = admin.resources(VirtualMachine.class).inNamespace(ns).withName(name).get();
                    assertThat(live.getStatus()).as(describe(ns)).isNotNull();
                    assertThat(live.getStatus().printableStatus).as(describe(ns)).isEqualTo("Running");
                });
        return admin.resources(VirtualMachine.class).inNamespace(ns).withName(name).get();
    }

    private String domainName(String ns, String name) {
        Domain d = admin.resources(Domain.class).inNamespace(ns).withName(name).get();
        Matcher m = Pattern.compile("<name>([^<]+)</name>").matcher(d.getSpec().domainXml);
        assertThat(m.find()).as("domain name in " + d.getSpec().domainXml).isTrue();
        assertThat(m.group(1)).startsWith(PREFIX);
        return m.group(1);
    }

    private VirtualMachine vm(String ns, String name) {
        String yaml = TestGuestVms.runningYaml(ns, name);
        return admin.getKubernetesSerialization().unmarshal(yaml, VirtualMachine.class);
    }

    private List<Pod> pods(String app) {
        return admin.pods().inNamespace(SYSTEM).withLabel("app.kubernetes.io/name", app).list().getItems();
    }

    private List<Pod> systemPods() {
        List<Pod> all = new ArrayList<>(pods(OPERATOR));
        all.addAll(pods(AGENT));
        return all;
    }

    private List<Pod> readyPods(String app) {
        return pods(app).stream().filter(p -> p.getMetadata().getDeletionTimestamp() == null)
                .filter(KubeNodeTest::isReady).toList();
    }

    private static boolean isReady(Pod p) {
        if (p == null || p.getStatus() == null || p.getStatus().getConditions() == null) {
            return false;
        }
        for (PodCondition c : p.getStatus().getConditions()) {
            if ("Ready".equals(c.getType())) {
                return "True".equals(c.getStatus());
            }
        }
        return false;
    }

    /** The operator pod holding the leader Lease: its identity is the pod's hostname (= name) plus a random suffix. */
    private String leaderPod() {
        Lease l = admin.leases().inNamespace(SYSTEM).withName(OPERATOR).get();
        String holder = l == null || l.getSpec() == null ? null : l.getSpec().getHolderIdentity();
        if (holder == null) {
            return null;
        }
        return pods(OPERATOR).stream().map(p -> p.getMetadata().getName())
                .filter(n -> holder.equals(n) || holder.startsWith(n + "-")).findFirst().orElse(holder);
    }

    private List<String> oomEvents() {
        return admin.v1().events().inNamespace(SYSTEM).list().getItems().stream()
                .filter(e -> Objects.toString(e.getReason(), "").contains("OOM")
                        || Objects.toString(e.getMessage(), "").contains("OOMKilled"))
                .map(e -> e.getInvolvedObject().getName() + ": " + e.getMessage()).toList();
    }

    private void deleteNamespace(String ns) {
        if (admin.namespaces().withName(ns).get() == null) {
            return;
        }
        admin.namespaces().withName(ns).delete();
        await("namespace " + ns + " deleted").atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofSeconds(2))
                .until(() -> admin.namespaces().withName(ns).get() == null);
    }

    private KubectlResult kubectl(Duration timeout, String... args) {
        return Kubectl.run(ControlPlaneBinaries.locate(), kubeconfig, LOG.resolve("kubectl-cache"),
                timeout, args);
    }

    private String describeSystem() {
        return kubectl(Duration.ofSeconds(30), "get", "pods,ds,deploy,lease", "-n", SYSTEM, "-o", "wide").output()
                + kubectl(Duration.ofSeconds(30), "get", "events", "-n", SYSTEM, "--sort-by=.lastTimestamp").output();
    }

    private String describe(String ns) {
        return kubectl(Duration.ofSeconds(30), "get", "vfvm,vfdom,events", "-n", ns, "-o", "wide").output();
    }

    private void writeMemoryReport() {
        StringBuilder sb = new StringBuilder("peak memory of the operator and agent containers (deploy/local-node)\n");
        memory.peaks().forEach(p -> sb.append(p).append('\n'));
        System.out.print(sb);
        try {
            Files.createDirectories(LOG);
            Files.writeString(LOG.resolve("memory.txt"), sb.toString());
        } catch (IOException e) {
            System.err.println("cannot write " + LOG.resolve("memory.txt") + ": " + e);
        }
    }

    private static String readOrEmpty(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return "";
        }
    }

    /** Leaves no domain of this test in the machine's libvirtd, whatever happened. */
    private static void cleanUpLibvirt() {
        LibvirtGuest any = LibvirtGuest.onMachine("-");
        for (String name : any.virsh("list", "--all", "--name").output().split("\\R")) {
            String n = name.strip();
            if (n.startsWith(PREFIX)) {
                any.virsh("destroy", n);
                any.virsh("undefine", n, "--nvram");
            }
        }
    }
}
