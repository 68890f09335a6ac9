package io.virtfleet.e2e.deploy;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingAdmissionPolicy;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.api.model.coordination.v1.LeaseBuilder;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElectionConfigBuilder;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElector;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaseLock;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectRulesReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectRulesReviewBuilder;
import io.fabric8.kubernetes.client.dsl.MixedOperation;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceList;
import io.virtfleet.api.v1alpha1.ApiGroup;
import io.virtfleet.controlplane.KubectlResult;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

/**
 * {@code kubectl apply --server-side -k deploy/base} against a real kube-apiserver (RBAC on, admission policies
 * on), then every ServiceAccount is impersonated and its allowed calls must succeed and its forbidden ones get 403.
 *
 * <p>The agent's host comes from the user extra {@code authentication.kubernetes.io/node-name}, which a real
 * cluster puts into a pod-bound ServiceAccount token's user info; here impersonation sets it.
 */
class DeployOnApiserverTest extends OnDeployedControlPlane {
    static final String NODE_NAME_EXTRA = DeployFiles.NODE_NAME_EXTRA;
    static final String TENANT = "tenant-a";
    static final String MY_HOST = "node-a";
    static final String OTHER_HOST = "node-b";
    static final String OPERATOR_LEASE = "virtfleet-operator";

    DeployOnApiserverTest() {
        super(TENANT);
    }

    @BeforeAll
    void deploy() {
        admin.genericKubernetesResources(VMS).inNamespace(TENANT).resource(vm("web-1")).create();
        admin.genericKubernetesResources(DOMAINS).inNamespace(TENANT).resource(domain("web-1", MY_HOST)).create();
        admin.genericKubernetesResources(DOMAINS).inNamespace(TENANT).resource(domain("web-2", OTHER_HOST)).create();
        for (String[] unkeyed : new String[][] {{"unkeyed-mine", MY_HOST}, {"unkeyed-other", OTHER_HOST}}) {
            GenericKubernetesResource d = domain(unkeyed[0], unkeyed[1]);
            d.setAdditionalProperty("spec", Map.of("powerState", "Running"));
            admin.genericKubernetesResources(DOMAINS).inNamespace(TENANT).resource(d).create();
        }
        admin.genericKubernetesResources(HOSTS).resource(host(OTHER_HOST)).create();
        // Requests the operator handed to each host (labelled), a backup with the plan the operator wrote.
        for (String[] req : new String[][] {{"snap-mine", MY_HOST}, {"snap-other", OTHER_HOST}}) {
            admin.genericKubernetesResources(SNAPSHOTS).inNamespace(TENANT).resource(request("VirtualMachineSnapshot",
                    req[0], req[1], Map.of("vmName", "web-1"))).create();
        }
        admin.genericKubernetesResources(BACKUPS).inNamespace(TENANT).resource(request("VirtualMachineBackup",
                "bk-mine", MY_HOST, Map.of("vmName", "web-1", "destination", "/var/lib/virtfleet/backups"))).create();
        status(admin, BACKUPS, "bk-mine", "{\"status\":{\"phase\":\"Pending\",\"location\":"
                + "\"/var/lib/virtfleet/backups/bk-mine\",\"vmSpec\":\"{}\",\"disks\":{\"/var/lib/virtfleet/"
                + "images/web-1.qcow2\":\"/var/lib/virtfleet/backups/bk-mine/web-1.qcow2\"}}}");
        admin.leases().inNamespace(ApiGroup.SYSTEM_NAMESPACE).resource(lease(ApiGroup.leaseName(OTHER_HOST))).create();

        // Admission policies are compiled and picked up asynchronously: wait until they bite. (Their status, with
        // type-checking warnings, is written by kube-controller-manager, which does not run here; a policy that does
        // not compile denies every matched request under failurePolicy Fail, which the allowed calls below would show.)
        KubernetesClient agent = agent(MY_HOST);
        await("agent policy in force").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250))
                .untilAsserted(() -> assertThat(code(() -> status(agent, DOMAINS, "web-2", "{\"status\":{\"state\":\"x\"}}")))
                        .isEqualTo(403));
        KubernetesClient operator = operator();
        await("operator policy in force").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250))
                .untilAsserted(() -> assertThat(code(() -> merge(operator, VMS, "web-1", "{\"spec\":{\"memory\":\"1Gi\"}}")))
                        .isEqualTo(403));
    }

    // ----------------------------------------------------------------------------------------------------- install

    @Test
    void installCreatesEveryObject() {
        assertThat(admin.namespaces().withName(ApiGroup.SYSTEM_NAMESPACE).get()).isNotNull();
        for (HasMetadata expected : DeployFiles.render()) {
            HasMetadata live = admin.resource(expected).get();
            assertThat(live).as(expected.getKind() + " " + expected.getMetadata().getName()).isNotNull();
        }
        Deployment op = admin.apps().deployments().inNamespace(ApiGroup.SYSTEM_NAMESPACE).withName("virtfleet-operator").get();
        assertThat(op.getSpec().getReplicas()).isEqualTo(2);
        DaemonSet ds = admin.apps().daemonSets().inNamespace(ApiGroup.SYSTEM_NAMESPACE).withName("virtfleet-agent").get();
        assertThat(ds.getSpec().getTemplate().getSpec().getContainers().get(0).getArgs()).contains("--host=$(NODE_NAME)");
        assertThat(admin.admissionRegistration().v1().validatingAdmissionPolicies().list().getItems())
                .extracting(p -> p.getMetadata().getName())
                .containsExactlyInAnyOrder("virtfleet-agent-own-domains", "virtfleet-agent-own-host",
                        "virtfleet-agent-own-lease", "virtfleet-agent-own-requests", "virtfleet-agent-backup-plan",
                        "virtfleet-agent-copy-plan", "virtfleet-operator-vm-spec", "virtfleet-agent-host-identity",
                        "virtfleet-operator-cloudinit-grants");
    }

    @Test
    void reapplyingIsANoOp() {
        KubectlResult again = cp.kubectl(Duration.ofSeconds(120), "apply", "--server-side", "-k",
                DeployFiles.base().toString());
        assertThat(again.ok()).as(again.toString()).isTrue();
        assertThat(again.stdout()).doesNotContain("configured", "created");
    }

    // ---------------------------------------------------------------------------------------------------- operator

    @Nested
    class Operator {
        final KubernetesClient op = operator();

        @Test
        void readsVirtualMachinesAndWritesTheirStatus() {
            assertThat(op.genericKubernetesResources(VMS).inAnyNamespace().list().getItems()).isNotEmpty();
            assertThatCode(() -> status(op, VMS, "web-1", "{\"status\":{\"printableStatus\":\"Scheduling\"}}"))
                    .doesNotThrowAnyException();
        }

        @Test
        void addsAndRemovesItsFinalizerButNothingElse() {
            assertThatCode(() -> merge(op, VMS, "web-1",
                    "{\"metadata\":{\"finalizers\":[\"" + ApiGroup.VM_FINALIZER + "\"]}}")).doesNotThrowAnyException();
            assertThat(admin.genericKubernetesResources(VMS).inNamespace(TENANT).withName("web-1").get()
                    .getMetadata().getFinalizers()).containsExactly(ApiGroup.VM_FINALIZER);
            assertThatCode(() -> merge(op, VMS, "web-1", "{\"metadata\":{\"finalizers\":null}}"))
                    .doesNotThrowAnyException();
            denied(() -> merge(op, VMS, "web-1", "{\"metadata\":{\"finalizers\":[\"example.com/other\"]}}"),
                    "virtfleet-operator-vm-spec", "only its own finalizer");
            // The same by server-side apply of nothing but the finalizer (how JOSDK may add it).
            GenericKubernetesResource onlyFinalizer = generic("VirtualMachine", "web-1", TENANT);
            onlyFinalizer.getMetadata().setFinalizers(List.of(ApiGroup.VM_FINALIZER));
            assertThatCode(() -> op.genericKubernetesResources(VMS).inNamespace(TENANT).resource(onlyFinalizer)
                    .fieldManager(ApiGroup.OPERATOR_FIELD_MANAGER).forceConflicts().serverSideApply())
                    .doesNotThrowAnyException();
            assertThatCode(() -> merge(op, VMS, "web-1", "{\"metadata\":{\"finalizers\":null}}"))
                    .doesNotThrowAnyException();
        }

        @Test
        void neverWritesAVirtualMachineSpecOrMetadata() {
            denied(() -> merge(op, VMS, "web-1", "{\"spec\":{\"memory\":\"1Gi\"}}"),
                    "virtfleet-operator-vm-spec", "spec");
            denied(() -> merge(op, VMS, "web-1", "{\"metadata\":{\"labels\":{\"x\":\"y\"}}}"),
                    "virtfleet-operator-vm-spec", "labels");
            // Server-side apply of the spec is an UPDATE too.
            GenericKubernetesResource applied = vm("web-1");
            applied.setAdditionalProperty("spec", Map.of("memory", "2Gi"));
            denied(() -> op.genericKubernetesResources(VMS).inNamespace(TENANT).resource(applied)
                    .fieldManager(ApiGroup.OPERATOR_FIELD_MANAGER).forceConflicts().serverSideApply(),
                    "virtfleet-operator-vm-spec", "spec");
            denied(() -> op.genericKubernetesResources(VMS).inNamespace(TENANT).resource(vm("new-vm")).create(),
                    "virtfleet-operator-vm-spec", "VirtualMachineClone");
            rbacDenied(() -> op.genericKubernetesResources(VMS).inNamespace(TENANT).withName("web-1").delete());
        }

        @Test
        void createsAVirtualMachineOnlyAsAClonesTargetOrFromABackup() {
            var vms = op.genericKubernetesResources(VMS).inNamespace(TENANT);
            // annotated but not pinned to a host
            GenericKubernetesResource unpinned = vm("clone-unpinned");
            unpinned.getMetadata().setAnnotations(Map.of("virtfleet.io/cloned-from", "web-1"));
            denied(() -> vms.resource(unpinned).create(), "virtfleet-operator-vm-spec", "cloned-from");
            // pinned but with a finalizer of its own choosing
            GenericKubernetesResource withFinalizer = clone("clone-fin");
            withFinalizer.getMetadata().setFinalizers(List.of("example.com/keep"));
            denied(() -> vms.resource(withFinalizer).create(), "virtfleet-operator-vm-spec", "finalizers");
            assertThatCode(() -> vms.resource(clone("clone-ok")).create()).doesNotThrowAnyException();
            // a VM recreated from a backup (VirtualMachineRestore with backupName) likewise
            GenericKubernetesResource restored = clone("restored-ok");
            restored.getMetadata().setAnnotations(Map.of("virtfleet.io/restored-from-backup", "b1"));
            assertThatCode(() -> vms.resource(restored).create()).doesNotThrowAnyException();
            admin.genericKubernetesResources(VMS).inNamespace(TENANT).withName("restored-ok").delete();
            // ... and it then belongs to its user: the operator may not delete it
            rbacDenied(() -> vms.withName("clone-ok").delete());
            admin.genericKubernetesResources(VMS).inNamespace(TENANT).withName("clone-ok").delete();
        }

        private static GenericKubernetesResource clone(String name) {
            GenericKubernetesResource r = vm(name);
            r.getMetadata().setAnnotations(Map.of("virtfleet.io/cloned-from", "web-1"));
            r.setAdditionalProperty("spec", Map.of("runStrategy", "Always", "hypervisor", "qemu", "memory", "256Mi",
                    "nodeName", MY_HOST));
            return r;
        }

        @Test
        void ownsDomainsButNotTheirStatus() {
            var domains = op.genericKubernetesResources(DOMAINS).inNamespace(TENANT);
            GenericKubernetesResource d = domain("op-made", MY_HOST);
            // The operator's first apply carries the agent's finalizer (the agent then spends no write on it).
            d.getMetadata().setFinalizers(List.of(ApiGroup.AGENT_FINALIZER));
            assertThatCode(() -> domains.resource(d).fieldManager(ApiGroup.OPERATOR_FIELD_MANAGER).forceConflicts()
                    .serverSideApply()).doesNotThrowAnyException();
            assertThat(admin.genericKubernetesResources(DOMAINS).inNamespace(TENANT).withName("op-made").get()
                    .getMetadata().getFinalizers()).containsExactly(ApiGroup.AGENT_FINALIZER);
            assertThatCode(() -> merge(op, DOMAINS, "op-made", "{\"spec\":{\"powerState\":\"Stopped\"}}"))
                    .doesNotThrowAnyException();
            rbacDenied(() -> status(op, DOMAINS, "op-made", "{\"status\":{\"state\":\"Running\"}}"));
            assertThatCode(() -> domains.withName("op-made").delete()).doesNotThrowAnyException();
            // the agent's part once the libvirt domain is gone
            merge(admin, DOMAINS, "op-made", "{\"metadata\":{\"finalizers\":null}}");
        }

        @Test
        void readsHostsAndHeartbeatsButWritesNoHost() {
            assertThat(op.genericKubernetesResources(HOSTS).list().getItems()).isNotEmpty();
            assertThat(op.leases().inNamespace(ApiGroup.SYSTEM_NAMESPACE).list().getItems()).isNotEmpty();
            rbacDenied(() -> op.genericKubernetesResources(HOSTS).resource(host("node-x")).create());
            rbacDenied(() -> merge(op, HOSTS, OTHER_HOST, "{\"spec\":{\"unschedulable\":true}}"));
            // Leases only in virtfleet-system; a host's heartbeat is the agent's to renew.
            rbacDenied(() -> op.leases().inAnyNamespace().list());
            rbacDenied(() -> op.leases().inNamespace(ApiGroup.SYSTEM_NAMESPACE).withName(ApiGroup.leaseName(OTHER_HOST))
                    .edit(l -> renewed(l)));
        }

        @Test
        void winsLeaderElectionOnItsLease() throws Exception {
            // What JOSDK checks before it starts leader election: a SelfSubjectRulesReview in the Lease's namespace
            // must grant get, create and update on leases (rules with resourceNames count if they name the Lease).
            SelfSubjectRulesReview review = op.resource(new SelfSubjectRulesReviewBuilder().withNewSpec()
                    .withNamespace(ApiGroup.SYSTEM_NAMESPACE).endSpec().build()).create();
            List<String> verbs = review.getStatus().getResourceRules().stream()
                    .filter(r -> r.getApiGroups().contains("coordination.k8s.io") || r.getApiGroups().contains("*"))
                    .filter(r -> r.getResources().contains("leases") || r.getResources().contains("*"))
                    .filter(r -> r.getResourceNames() == null || r.getResourceNames().isEmpty()
                            || r.getResourceNames().contains(OPERATOR_LEASE))
                    .flatMap(r -> r.getVerbs().stream()).distinct().toList();
            assertThat(verbs).contains("get", "create", "update");

            // And the real thing: fabric8's LeaderElector (what JOSDK runs) acquires, renews and releases the Lease.
            CountDownLatch leading = new CountDownLatch(1);
            LeaderElector elector = op.leaderElector().withConfig(new LeaderElectionConfigBuilder()
                    .withName(OPERATOR_LEASE)
                    .withLock(new LeaseLock(ApiGroup.SYSTEM_NAMESPACE, OPERATOR_LEASE, "replica-1"))
                    .withLeaseDuration(Duration.ofSeconds(6)).withRenewDeadline(Duration.ofSeconds(4))
                    .withRetryPeriod(Duration.ofMillis(500)).withReleaseOnCancel(true)
                    .withLeaderCallbacks(new LeaderCallbacks(leading::countDown, () -> { }, id -> { }))
                    .build()).build();
            CompletableFuture<?> running = elector.start();
            try {
                assertThat(leading.await(30, TimeUnit.SECONDS)).as("became leader").isTrue();
                Lease first = admin.leases().inNamespace(ApiGroup.SYSTEM_NAMESPACE).withName(OPERATOR_LEASE).get();
                assertThat(first.getSpec().getHolderIdentity()).isEqualTo("replica-1");
                await("lease renewed").atMost(Duration.ofSeconds(15)).until(() -> !admin.leases()
                        .inNamespace(ApiGroup.SYSTEM_NAMESPACE).withName(OPERATOR_LEASE).get().getSpec().getRenewTime()
                        .equals(first.getSpec().getRenewTime()));
            } finally {
                running.cancel(true);
            }
            var leases = op.leases().inNamespace(ApiGroup.SYSTEM_NAMESPACE);
            rbacDenied(() -> op.leases().inNamespace("default").resource(lease(OPERATOR_LEASE)).create());
            rbacDenied(() -> leases.withName(OPERATOR_LEASE).delete());
        }

        @Test
        void recordsAndAggregatesEvents() {
            io.fabric8.kubernetes.api.model.Event e = event("web-1.op", "VirtualMachine");
            assertThatCode(() -> op.v1().events().inNamespace(TENANT).resource(e).create()).doesNotThrowAnyException();
            // A repeated event bumps the count of the recorded one (get + patch).
            assertThatCode(() -> op.v1().events().inNamespace(TENANT).withName(e.getMetadata().getName())
                    .edit(x -> new EventBuilder(x).withCount(2).build())).doesNotThrowAnyException();
            rbacDenied(() -> op.v1().events().inNamespace(TENANT).list());
        }

        @Test
        void touchesNothingElse() {
            noSecretsOrPods(op);
        }
    }

    // ------------------------------------------------------------------------------------------------------- agent

    @Nested
    class Agent {
        final KubernetesClient agent = agent(MY_HOST);

        @Test
        void readsDomainsEverywhereTheResidual() {
            // RBAC cannot filter by label: reading other hosts' Domains is allowed (documented residual).
            assertThat(agent.genericKubernetesResources(DOMAINS).inAnyNamespace()
                    .withLabel(ApiGroup.HOST_LABEL, MY_HOST).list().getItems())
                    .extracting(r -> r.getMetadata().getName()).contains("web-1");
            assertThat(agent.genericKubernetesResources(DOMAINS).inNamespace(TENANT).withName("web-2").get()).isNotNull();
        }

        /** The agent writes the status of {@code name}, adds {@code finalizer} to it and removes it again. */
        void writesStatusAndFinalizer(ResourceDefinitionContext kind, String name, String status, String finalizer) {
            assertThatCode(() -> status(agent, kind, name, status)).doesNotThrowAnyException();
            assertThatCode(() -> merge(agent, kind, name, "{\"metadata\":{\"finalizers\":[\"" + finalizer + "\"]}}"))
                    .doesNotThrowAnyException();
            assertThatCode(() -> merge(agent, kind, name, "{\"metadata\":{\"finalizers\":null}}"))
                    .doesNotThrowAnyException();
        }

        @Test
        void writesItsOwnDomainsStatusAndFinalizer() {
            writesStatusAndFinalizer(DOMAINS, "web-1", "{\"status\":{\"state\":\"Running\",\"id\":7}}",
                    ApiGroup.AGENT_FINALIZER);
            // Server-side apply of the status, under the agent's field manager.
            GenericKubernetesResource status = generic("Domain", "web-1", TENANT);
            status.setAdditionalProperty("status", Map.of("state", "Paused"));
            assertThatCode(() -> agent.genericKubernetesResources(DOMAINS).inNamespace(TENANT).withName("web-1")
                    .subresource("status").patch(new PatchContext.Builder().withPatchType(PatchType.SERVER_SIDE_APPLY)
                            .withFieldManager(ApiGroup.AGENT_FIELD_MANAGER).withForce(true).build(), status))
                    .doesNotThrowAnyException();
        }

        @Test
        void cannotTouchAnotherHostsDomain() {
            denied(() -> status(agent, DOMAINS, "web-2", "{\"status\":{\"state\":\"Running\"}}"),
                    "virtfleet-agent-own-domains", "is assigned to host " + OTHER_HOST);
            denied(() -> merge(agent, DOMAINS, "web-2",
                    "{\"metadata\":{\"finalizers\":[\"" + ApiGroup.AGENT_FINALIZER + "\"]}}"),
                    "virtfleet-agent-own-domains", "is assigned to host " + OTHER_HOST);
        }

        @Test
        void cannotChangeWhatTheOperatorDecides() {
            denied(() -> merge(agent, DOMAINS, "web-1", "{\"spec\":{\"powerState\":\"Stopped\"}}"),
                    "virtfleet-agent-own-domains", "spec");
            // Re-labelling (or re-assigning) a Domain would move it between hosts.
            denied(() -> merge(agent, DOMAINS, "web-1",
                    "{\"metadata\":{\"labels\":{\"" + ApiGroup.HOST_LABEL + "\":\"" + OTHER_HOST + "\"}}}"),
                    "virtfleet-agent-own-domains", "labels");
            denied(() -> merge(agent, DOMAINS, "web-1", "{\"metadata\":{\"finalizers\":[\"example.com/other\"]}}"),
                    "virtfleet-agent-own-domains", "only its own finalizer");
            rbacDenied(() -> agent.genericKubernetesResources(DOMAINS).inNamespace(TENANT).withName("web-1").delete());
            rbacDenied(() -> agent.genericKubernetesResources(DOMAINS).inNamespace(TENANT)
                    .resource(domain("agent-made", MY_HOST)).create());
        }

        @Test
        void cannotTouchVirtualMachinesAtAll() {
            rbacDenied(() -> agent.genericKubernetesResources(VMS).inNamespace(TENANT).withName("web-1").get());
            rbacDenied(() -> agent.genericKubernetesResources(VMS).inAnyNamespace().list());
            rbacDenied(() -> merge(agent, VMS, "web-1", "{\"spec\":{\"memory\":\"1Gi\"}}"));
            rbacDenied(() -> status(agent, VMS, "web-1", "{\"status\":{\"printableStatus\":\"Running\"}}"));
        }

        @Test
        void registersOnlyItsOwnHost() {
            var hosts = agent.genericKubernetesResources(HOSTS);
            assertThatCode(() -> hosts.resource(host(MY_HOST)).create()).doesNotThrowAnyException();
            assertThatCode(() -> status(agent, HOSTS, MY_HOST, "{\"status\":{\"cpus\":8}}")).doesNotThrowAnyException();
            assertThatCode(() -> merge(agent, HOSTS, MY_HOST, "{\"spec\":{\"allowedDiskRoots\":[\"/var/lib/virtfleet\"]}}"))
                    .doesNotThrowAnyException();
            denied(() -> hosts.resource(host("node-c")).create(), "virtfleet-agent-own-host", "not node-c");
            denied(() -> status(agent, HOSTS, OTHER_HOST, "{\"status\":{\"cpus\":1}}"),
                    "virtfleet-agent-own-host", "not " + OTHER_HOST);
            // Where CLIs send their users' tokens: only the host's own agent may say, in the status subresource.
            String endpoint = "{\"status\":{\"accessEndpoint\":{\"url\":\"https://192.0.2.1:8443\","
                    + "\"certificate\":\"x\"}}}";
            assertThatCode(() -> status(agent, HOSTS, MY_HOST, endpoint)).doesNotThrowAnyException();
            denied(() -> status(agent, HOSTS, OTHER_HOST, endpoint), "virtfleet-agent-own-host", "not " + OTHER_HOST);
            denied(() -> merge(agent, HOSTS, OTHER_HOST, "{\"spec\":{\"unschedulable\":true}}"),
                    "virtfleet-agent-own-host", "not " + OTHER_HOST);
            rbacDenied(() -> hosts.withName(MY_HOST).delete());
            rbacDenied(() -> hosts.list());
        }

        @Test
        void renewsOnlyItsOwnHeartbeat() {
            var leases = agent.leases().inNamespace(ApiGroup.SYSTEM_NAMESPACE);
            String mine = ApiGroup.leaseName(MY_HOST);
            assertThatCode(() -> leases.resource(lease(mine)).create()).doesNotThrowAnyException();
            assertThatCode(() -> leases.withName(mine).edit(l -> renewed(l))).doesNotThrowAnyException();
            denied(() -> leases.resource(lease(ApiGroup.leaseName("node-c"))).create(),
                    "virtfleet-agent-own-lease", "not virtfleet-system/virtfleet-host-node-c");
            denied(() -> leases.withName(ApiGroup.leaseName(OTHER_HOST)).edit(l -> renewed(l)),
                    "virtfleet-agent-own-lease", "not virtfleet-system/" + ApiGroup.leaseName(OTHER_HOST));
            rbacDenied(() -> leases.withName(mine).delete());
            rbacDenied(() -> leases.list());
            rbacDenied(() -> agent.leases().inNamespace("default").resource(lease(mine)).create());
        }

        @Test
        void recordsEvents() {
            assertThatCode(() -> agent.v1().events().inNamespace(TENANT).resource(event("web-1.agent", "Domain"))
                    .create()).doesNotThrowAnyException();
        }

        @Test
        void touchesNothingElse() {
            noSecretsOrPods(agent);
            // Only the one Namespace it checks for at start.
            assertThat(agent.namespaces().withName(ApiGroup.SYSTEM_NAMESPACE).get()).isNotNull();
            rbacDenied(() -> agent.namespaces().withName("default").get());
            rbacDenied(() -> agent.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("x")
                    .endMetadata().build()).create());
        }

        @Test
        void aDomainWithoutSpecHostBelongsToTheHostOfItsLabel() {
            // E.g. an invalid spec the agent only reports on: it must still be able to let go of it when deleted.
            writesStatusAndFinalizer(DOMAINS, "unkeyed-mine", "{\"status\":{\"state\":\"Failed\"}}",
                    ApiGroup.AGENT_FINALIZER);
            denied(() -> status(agent, DOMAINS, "unkeyed-other", "{\"status\":{\"state\":\"Failed\"}}"),
                    "virtfleet-agent-own-domains", "is assigned to host " + OTHER_HOST);
        }

        @Test
        void writesOnlyTheRequestsHandedToItsHostAndNotTheirPlan() {
            writesStatusAndFinalizer(SNAPSHOTS, "snap-mine", "{\"status\":{\"phase\":\"Succeeded\"}}",
                    "virtfleet.io/agent-snapshot");
            assertThatCode(() -> status(agent, BACKUPS, "bk-mine", "{\"status\":{\"phase\":\"InProgress\"}}"))
                    .doesNotThrowAnyException();
            // a second agent (another host) may not write this host's requests
            KubernetesClient other = agent(OTHER_HOST);
            denied(() -> status(other, SNAPSHOTS, "snap-mine", "{\"status\":{\"phase\":\"Failed\"}}"),
                    "virtfleet-agent-own-requests", "is handed to host " + MY_HOST);
            denied(() -> status(agent, SNAPSHOTS, "snap-other", "{\"status\":{\"phase\":\"Failed\"}}"),
                    "virtfleet-agent-own-requests", "is handed to host " + OTHER_HOST);
            // nor take a request over, nor forge the operator's plan (a stored VM spec a restore would recreate)
            denied(() -> merge(agent, SNAPSHOTS, "snap-other",
                    "{\"metadata\":{\"labels\":{\"" + ApiGroup.HOST_LABEL + "\":\"" + MY_HOST + "\"}}}"),
                    "virtfleet-agent-own-requests", "is handed to host " + OTHER_HOST);
            denied(() -> merge(agent, SNAPSHOTS, "snap-mine",
                    "{\"metadata\":{\"labels\":{\"" + ApiGroup.HOST_LABEL + "\":\"" + OTHER_HOST + "\"}}}"),
                    "virtfleet-agent-own-requests", "labels");
            denied(() -> status(agent, BACKUPS, "bk-mine", "{\"status\":{\"vmSpec\":\"forged\"}}"),
                    "virtfleet-agent-backup-plan", "status.vmSpec");
            denied(() -> status(agent, BACKUPS, "bk-mine", "{\"status\":{\"location\":\"/etc\"}}"),
                    "virtfleet-agent-backup-plan", "plan");
            rbacDenied(() -> agent.genericKubernetesResources(SNAPSHOTS).inNamespace(TENANT)
                    .resource(request("VirtualMachineSnapshot", "agent-made", MY_HOST, Map.of("vmName", "web-1")))
                    .create());
        }

        @Test
        void withoutANodeBoundTokenItMayWriteNothing() {
            KubernetesClient unbound = impersonate(DeployFiles.AGENT_SA, null);
            denied(() -> status(unbound, DOMAINS, "web-1", "{\"status\":{\"state\":\"Running\"}}"),
                    "virtfleet-agent-own-domains", "node-name claim");
            denied(() -> unbound.genericKubernetesResources(HOSTS).resource(host(MY_HOST + "-x")).create(),
                    "virtfleet-agent-own-host", "node-name claim");
        }
    }

    @Test
    void kubectlAuthCanIAgreesForEachServiceAccount() {
        String agentUser = DeployFiles.serviceAccountUser(DeployFiles.AGENT_SA);
        String opUser = DeployFiles.serviceAccountUser(DeployFiles.OPERATOR_SA);
        canI(agentUser, "yes", "list", "domains.virtfleet.io", "--all-namespaces");
        canI(agentUser, "yes", "patch", "domains.virtfleet.io", "--subresource=status", "-n", TENANT);
        canI(agentUser, "no", "delete", "domains.virtfleet.io", "-n", TENANT);
        canI(agentUser, "no", "get", "virtualmachines.virtfleet.io", "-n", TENANT);
        canI(agentUser, "no", "create", "secrets", "-n", ApiGroup.SYSTEM_NAMESPACE);
        canI(opUser, "yes", "patch", "virtualmachines.virtfleet.io", "--subresource=status", "-n", TENANT);
        canI(opUser, "yes", "create", "domains.virtfleet.io", "-n", TENANT);
        canI(opUser, "yes", "create", "virtualmachines.virtfleet.io", "-n", TENANT); // narrowed by admission
        canI(opUser, "no", "delete", "virtualmachines.virtfleet.io", "-n", TENANT);
        canI(opUser, "no", "list", "leases.coordination.k8s.io", "-n", "kube-system");
        canI(opUser, "no", "get", "secrets", "-n", TENANT);
        // Both check who calls their HTTPS ports (metrics; the agent's console too), like system:auth-delegator.
        for (String daemon : List.of(agentUser, opUser)) {
            canI(daemon, "yes", "create", "tokenreviews.authentication.k8s.io");
            canI(daemon, "yes", "create", "subjectaccessreviews.authorization.k8s.io");
            canI(daemon, "no", "get", "/metrics");
        }
    }

    @Test
    void theMetricsReaderMayGetMetricsAndNothingElse() {
        String scraper = "e2e-prometheus";
        admin.rbac().clusterRoleBindings().resource(new io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder()
                .withNewMetadata().withName(scraper).endMetadata()
                .withNewRoleRef("rbac.authorization.k8s.io", "ClusterRole", "virtfleet-metrics-reader")
                .addNewSubject().withApiGroup("rbac.authorization.k8s.io").withKind("User").withName(scraper)
                .endSubject().build()).serverSideApply();
        try {
            canI(scraper, "yes", "get", "/metrics");
            canI(scraper, "no", "get", "/debug/pprof");
            canI(scraper, "no", "list", "domains.virtfleet.io", "--all-namespaces");
            canI("e2e-someone-else", "no", "get", "/metrics");
        } finally {
            admin.rbac().clusterRoleBindings().withName(scraper).delete();
        }
    }

    // ----------------------------------------------------------------------------------------------------- helpers

    void canI(String user, String expected, String... args) {
        List<String> cmd = new ArrayList<>(List.of("auth", "can-i"));
        cmd.addAll(List.of(args));
        cmd.addAll(List.of("--as=" + user, "--as-group=system:serviceaccounts",
                "--as-group=system:serviceaccounts:" + ApiGroup.SYSTEM_NAMESPACE, "--as-group=system:authenticated"));
        KubectlResult r = cp.kubectl(cmd.toArray(String[]::new));
        assertThat(r.stdout().strip()).as(r.toString()).isEqualTo(expected);
    }

    static void noSecretsOrPods(KubernetesClient c) {
        rbacDenied(() -> c.secrets().inNamespace(ApiGroup.SYSTEM_NAMESPACE).list());
        rbacDenied(() -> c.secrets().inNamespace(TENANT).resource(new SecretBuilder().withNewMetadata().withName("s")
                .endMetadata().withStringData(Map.of("k", "v")).build()).create());
        rbacDenied(() -> c.pods().inAnyNamespace().list());
        rbacDenied(() -> c.configMaps().inNamespace(TENANT).list());
        rbacDenied(() -> c.namespaces().list());
    }

    static Object merge(KubernetesClient c, ResourceDefinitionContext kind, String name, String patch) {
        return target(c, kind, name).patch(PatchContext.of(PatchType.JSON_MERGE), patch);
    }

    static Object status(KubernetesClient c, ResourceDefinitionContext kind, String name, String patch) {
        return target(c, kind, name).subresource("status").patch(PatchContext.of(PatchType.JSON_MERGE), patch);
    }

    private static Resource<GenericKubernetesResource> target(KubernetesClient c, ResourceDefinitionContext kind,
                                                              String name) {
        MixedOperation<GenericKubernetesResource, GenericKubernetesResourceList, Resource<GenericKubernetesResource>> op =
                c.genericKubernetesResources(kind);
        return kind.isNamespaceScoped() ? op.inNamespace(TENANT).withName(name) : op.withName(name);
    }

    /** Denied by a ValidatingAdmissionPolicy: 403, naming the policy and saying why. */
    static void denied(Executable call, String policy, String why) {
        KubernetesClientException e = catchThrowableOfType(KubernetesClientException.class, call::execute);
        assertThat(e).as("expected a denial by " + policy).isNotNull();
        assertThat(e.getCode()).as(e.getMessage()).isEqualTo(403);
        assertThat(e.getMessage()).contains("ValidatingAdmissionPolicy '" + policy + "'").contains(why);
    }

    /** Denied by RBAC: 403 "forbidden: User ... cannot ...". */
    static void rbacDenied(Executable call) {
        KubernetesClientException e = catchThrowableOfType(KubernetesClientException.class, call::execute);
        assertThat(e).as("expected RBAC to forbid the call").isNotNull();
        assertThat(e.getCode()).as(e.getMessage()).isEqualTo(403);
        assertThat(e.getMessage()).contains("cannot");
    }

    static int code(Executable call) {
        try {
            call.execute();
            return 200;
        } catch (KubernetesClientException e) {
            return e.getCode();
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    static GenericKubernetesResource vm(String name) {
        GenericKubernetesResource r = generic("VirtualMachine", name, TENANT);
        r.setAdditionalProperty("spec", Map.of("runStrategy", "Always", "hypervisor", "qemu", "memory", "256Mi"));
        return r;
    }

    static GenericKubernetesResource domain(String name, String host) {
        GenericKubernetesResource r = generic("Domain", name, TENANT);
        r.getMetadata().setLabels(Map.of(ApiGroup.HOST_LABEL, host, ApiGroup.VM_LABEL, name));
        r.setAdditionalProperty("spec", Map.of("host", host, "powerState", "Running",
                "domainXml", "<domain type='qemu'><name>" + name + "</name></domain>"));
        return r;
    }

    static GenericKubernetesResource request(String kind, String name, String host, Map<String, Object> spec) {
        GenericKubernetesResource r = generic(kind, name, TENANT);
        r.getMetadata().setLabels(Map.of(ApiGroup.HOST_LABEL, host));
        r.setAdditionalProperty("spec", spec);
        return r;
    }

    static GenericKubernetesResource host(String name) {
        GenericKubernetesResource r = generic("Host", name, null);
        r.setAdditionalProperty("spec", Map.of("allowedDiskRoots", List.of("/var/lib/virtfleet")));
        return r;
    }

    static GenericKubernetesResource generic(String kind, String name, String namespace) {
        GenericKubernetesResource r = new GenericKubernetesResource();
        r.setApiVersion(ApiGroup.API_VERSION);
        r.setKind(kind);
        r.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName(name).withNamespace(namespace)
                .build());
        return r;
    }

    static Lease lease(String name) {
        return new LeaseBuilder().withNewMetadata().withName(name).endMetadata().withNewSpec().withHolderIdentity(name)
                .withLeaseDurationSeconds(40).withRenewTime(java.time.ZonedDateTime.now(java.time.ZoneOffset.UTC))
                .endSpec().build();
    }

    static Lease renewed(Lease l) {
        l.getSpec().setRenewTime(java.time.ZonedDateTime.now(java.time.ZoneOffset.UTC));
        return l;
    }

    static io.fabric8.kubernetes.api.model.Event event(String name, String kind) {
        return new EventBuilder().withNewMetadata().withName(name + "." + Instant.now().toEpochMilli()).endMetadata()
                .withInvolvedObject(new ObjectReferenceBuilder().withApiVersion(ApiGroup.API_VERSION).withKind(kind)
                        .withNamespace(TENANT).withName("web-1").build())
                .withReason("Test").withMessage("from " + name).withType("Normal").build();
    }
}
