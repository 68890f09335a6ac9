package io.virtfleet.e2e.deploy;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectAccessReview;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectAccessReviewBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.virtfleet.api.v1alpha1.ApiGroup;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static io.virtfleet.e2e.deploy.DeployOnApiserverTest.generic;
import static io.virtfleet.e2e.deploy.DeployOnApiserverTest.merge;
import static io.virtfleet.e2e.deploy.DeployOnApiserverTest.rbacDenied;
import static io.virtfleet.e2e.deploy.DeployOnApiserverTest.status;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

/**
 * The user roles of {@code deploy/base/user-roles.yaml} against a real kube-apiserver with RBAC: people bound to the
 * built-in {@code edit} / {@code view} ClusterRoles in a namespace are impersonated and their calls must succeed or
 * get 403.
 *
 * <p>The built-in {@code admin}, {@code edit} and {@code view} roles get their rules from kube-controller-manager's
 * ClusterRole aggregation controller, which the test control plane does not run. The test does what that
 * controller does (Kubernetes documents it: an aggregated ClusterRole's rules are the union of the rules of every
 * ClusterRole matched by its {@code aggregationRule.clusterRoleSelectors}), using the selectors the apiserver's own
 * bootstrap roles carry, so a missing or misspelt label on a virtfleet role shows as a 403 here.
 */
class UserRolesOnApiserverTest extends OnDeployedControlPlane {
    static final String TENANT = DeployOnApiserverTest.TENANT;
    static final String EDITOR = "alice";
    static final String VIEWER = "bob";
    static final String FLEET_OPERATOR = "carol";

    static final List<ResourceDefinitionContext> REQUESTS = List.of(SNAPSHOTS, RESTORES, CLONES, BACKUPS);

    KubernetesClient editor;
    KubernetesClient viewer;
    KubernetesClient fleetOperator;

    UserRolesOnApiserverTest() {
        super(TENANT);
    }

    @BeforeAll
    void deploy() {
        // view is aggregated into edit and edit into admin (their bootstrap labels), so inner ones first, as the
        // controller converges to
        for (String aggregated : List.of("view", "edit", "admin")) {
            aggregate(aggregated);
        }
        admin.rbac().roleBindings().inNamespace(TENANT).resource(new RoleBindingBuilder().withNewMetadata()
                .withName("alice-edit").endMetadata().withNewRoleRef().withApiGroup("rbac.authorization.k8s.io")
                .withKind("ClusterRole").withName("edit").endRoleRef().addNewSubject().withKind("User")
                .withApiGroup("rbac.authorization.k8s.io").withName(EDITOR).endSubject().build()).create();
        admin.rbac().roleBindings().inNamespace(TENANT).resource(new RoleBindingBuilder().withNewMetadata()
                .withName("bob-view").endMetadata().withNewRoleRef().withApiGroup("rbac.authorization.k8s.io")
                .withKind("ClusterRole").withName("view").endRoleRef().addNewSubject().withKind("User")
                .withApiGroup("rbac.authorization.k8s.io").withName(VIEWER).endSubject().build()).create();
        admin.rbac().clusterRoleBindings().resource(new ClusterRoleBindingBuilder().withNewMetadata()
                .withName("carol-failover").endMetadata().withNewRoleRef().withApiGroup("rbac.authorization.k8s.io")
                .withKind("ClusterRole").withName("virtfleet-failover-requester").endRoleRef().addNewSubject()
                .withKind("User").withApiGroup("rbac.authorization.k8s.io").withName(FLEET_OPERATOR).endSubject()
                .build()).create();
        admin.genericKubernetesResources(VMS).inNamespace(TENANT).resource(vm("web-1")).create();
        admin.genericKubernetesResources(DOMAINS).inNamespace(TENANT)
                .resource(DeployOnApiserverTest.domain("web-1", "node-a")).create();
        admin.genericKubernetesResources(FAILOVERS).inNamespace(TENANT)
                .resource(request("VirtualMachineFailover", "fo-admin", Map.of("vmName", "web-1"))).create();
        editor = closing(cp.impersonatingClient(EDITOR));
        viewer = closing(cp.impersonatingClient(VIEWER));
        fleetOperator = closing(cp.impersonatingClient(FLEET_OPERATOR));
    }

    @Test
    void anEditorSnapshotsAndRestoresAVm() {
        var snapshots = editor.genericKubernetesResources(SNAPSHOTS).inNamespace(TENANT);
        assertThatCode(() -> snapshots.resource(request("VirtualMachineSnapshot", "snap-1",
                Map.of("vmName", "web-1"))).create()).doesNotThrowAnyException();
        assertThat(snapshots.withName("snap-1").get()).isNotNull();
        assertThatCode(() -> editor.genericKubernetesResources(RESTORES).inNamespace(TENANT).resource(
                request("VirtualMachineRestore", "restore-1", Map.of("vmName", "web-1", "snapshotName", "snap-1")))
                .create()).doesNotThrowAnyException();
        assertThat(editor.genericKubernetesResources(RESTORES).inNamespace(TENANT).list().getItems())
                .extracting(r -> r.getMetadata().getName()).contains("restore-1");
        // and deletes what it requested
        assertThatCode(() -> editor.genericKubernetesResources(RESTORES).inNamespace(TENANT).withName("restore-1")
                .delete()).doesNotThrowAnyException();
    }

    @Test
    void anEditorClonesAndBacksUpButWritesNoStatus() {
        assertThatCode(() -> editor.genericKubernetesResources(CLONES).inNamespace(TENANT).resource(
                request("VirtualMachineClone", "clone-1", Map.of("source", "web-1", "target", "web-2"))).create())
                .doesNotThrowAnyException();
        assertThatCode(() -> editor.genericKubernetesResources(BACKUPS).inNamespace(TENANT).resource(
                request("VirtualMachineBackup", "backup-1", Map.of("vmName", "web-1",
                        "destination", "/var/lib/virtfleet/backups"))).create()).doesNotThrowAnyException();
        // status is the operator's and the agents' to write: a user cannot fake "Succeeded"
        rbacDenied(() -> status(editor, BACKUPS, "backup-1", "{\"status\":{\"phase\":\"Succeeded\"}}"));
        rbacDenied(() -> status(editor, VMS, "web-1", "{\"status\":{\"printableStatus\":\"Running\"}}"));
        // but reads it
        assertThat(editor.genericKubernetesResources(BACKUPS).inNamespace(TENANT).withName("backup-1").get())
                .isNotNull();
    }

    @Test
    void anEditorManagesVmsReadsDomainsAndCannotFailOver() {
        assertThatCode(() -> editor.genericKubernetesResources(VMS).inNamespace(TENANT).resource(vm("by-alice"))
                .create()).doesNotThrowAnyException();
        assertThatCode(() -> merge(editor, VMS, "by-alice", "{\"spec\":{\"memory\":\"512Mi\"}}"))
                .doesNotThrowAnyException();
        assertThatCode(() -> editor.genericKubernetesResources(VMS).inNamespace(TENANT).withName("by-alice").delete())
                .doesNotThrowAnyException();
        assertThat(editor.genericKubernetesResources(DOMAINS).inNamespace(TENANT).withName("web-1").get()).isNotNull();
        rbacDenied(() -> merge(editor, DOMAINS, "web-1", "{\"spec\":{\"powerState\":\"Stopped\"}}"));
        // failover is the fleet operators' decision (deploy/README.md); an editor can see one, not ask for one
        assertThat(editor.genericKubernetesResources(FAILOVERS).inNamespace(TENANT).withName("fo-admin").get())
                .isNotNull();
        rbacDenied(() -> editor.genericKubernetesResources(FAILOVERS).inNamespace(TENANT)
                .resource(request("VirtualMachineFailover", "fo-alice", Map.of("vmName", "web-1"))).create());
        // the coming VirtualMachineMigration is granted already (RBAC does not need the CRD)
        assertThat(allowed(editor, "create", "virtualmachinemigrations")).isTrue();
        assertThat(allowed(editor, "create", "virtualmachinefailovers")).isFalse();
    }

    @Test
    void aViewerReadsEveryKindAndStatusButWritesNothing() {
        admin.genericKubernetesResources(SNAPSHOTS).inNamespace(TENANT)
                .resource(request("VirtualMachineSnapshot", "snap-admin", Map.of("vmName", "web-1"))).createOr(
                        c -> c.update());
        for (ResourceDefinitionContext kind : List.of(VMS, DOMAINS, SNAPSHOTS, RESTORES, CLONES, BACKUPS, FAILOVERS)) {
            assertThatCode(() -> viewer.genericKubernetesResources(kind).inNamespace(TENANT).list())
                    .as("view lists " + kind.getPlural()).doesNotThrowAnyException();
            assertThat(allowed(viewer, "get", kind.getPlural(), "status")).as(kind.getPlural() + "/status").isTrue();
        }
        assertThat(allowed(viewer, "list", "virtualmachinemigrations")).isTrue();
        assertThat(viewer.genericKubernetesResources(SNAPSHOTS).inNamespace(TENANT).withName("snap-admin").get())
                .isNotNull();
        assertThat(viewer.genericKubernetesResources(VMS).inNamespace(TENANT).withName("web-1").get()).isNotNull();

        rbacDenied(() -> viewer.genericKubernetesResources(SNAPSHOTS).inNamespace(TENANT)
                .resource(request("VirtualMachineSnapshot", "snap-bob", Map.of("vmName", "web-1"))).create());
        rbacDenied(() -> viewer.genericKubernetesResources(RESTORES).inNamespace(TENANT).resource(
                request("VirtualMachineRestore", "restore-bob", Map.of("vmName", "web-1", "snapshotName",
                        "snap-admin"))).create());
        rbacDenied(() -> viewer.genericKubernetesResources(SNAPSHOTS).inNamespace(TENANT).withName("snap-admin")
                .delete());
        rbacDenied(() -> merge(viewer, VMS, "web-1", "{\"spec\":{\"memory\":\"1Gi\"}}"));
        rbacDenied(() -> viewer.genericKubernetesResources(VMS).inNamespace(TENANT).withName("web-1").delete());
        for (ResourceDefinitionContext kind : REQUESTS) {
            assertThat(allowed(viewer, "create", kind.getPlural())).as("view creates " + kind.getPlural()).isFalse();
        }
        assertThat(allowed(viewer, "create", "virtualmachinemigrations")).isFalse();
    }

    @Test
    void aFleetOperatorBoundToTheFailoverRoleRequestsAFailover() {
        assertThatCode(() -> fleetOperator.genericKubernetesResources(FAILOVERS).inNamespace(TENANT)
                .resource(request("VirtualMachineFailover", "fo-carol", Map.of("vmName", "web-1"))).create())
                .doesNotThrowAnyException();
        // and nothing else: the failover role is not a way to edit VMs
        rbacDenied(() -> merge(fleetOperator, VMS, "web-1", "{\"spec\":{\"memory\":\"1Gi\"}}"));
    }

    /** What the ClusterRole aggregation controller does for {@code name}: rules = union of the selected roles'. */
    private void aggregate(String name) {
        ClusterRole role = admin.rbac().clusterRoles().withName(name).get();
        assertThat(role.getAggregationRule()).as(name + " is an aggregated bootstrap role").isNotNull();
        Set<PolicyRule> rules = new LinkedHashSet<>();
        List<String> sources = new ArrayList<>();
        for (LabelSelector selector : role.getAggregationRule().getClusterRoleSelectors()) {
            for (ClusterRole r : admin.rbac().clusterRoles().withLabelSelector(selector).list().getItems()) {
                if (!r.getMetadata().getName().equals(name) && r.getRules() != null) {
                    rules.addAll(r.getRules());
                    sources.add(r.getMetadata().getName());
                }
            }
        }
        assertThat(sources).as("roles aggregated into " + name).contains("virtfleet-vm-viewer");
        if (!name.equals("view")) {
            assertThat(sources).as("roles aggregated into " + name).contains("virtfleet-vm-editor");
        }
        role.setRules(new ArrayList<>(rules));
        role.getMetadata().setManagedFields(null);
        admin.rbac().clusterRoles().resource(role).update();
    }

    private static boolean allowed(KubernetesClient c, String verb, String resource) {
        return allowed(c, verb, resource, null);
    }

    private static boolean allowed(KubernetesClient c, String verb, String resource, String subresource) {
        SelfSubjectAccessReview review = c.resource(new SelfSubjectAccessReviewBuilder().withNewSpec()
                .withNewResourceAttributes().withGroup(ApiGroup.GROUP).withResource(resource)
                .withSubresource(subresource).withVerb(verb).withNamespace(TENANT).endResourceAttributes().endSpec()
                .build()).create();
        return Boolean.TRUE.equals(review.getStatus().getAllowed());
    }

    private static GenericKubernetesResource vm(String name) {
        GenericKubernetesResource r = generic("VirtualMachine", name, TENANT);
        r.setAdditionalProperty("spec", Map.of("runStrategy", "Halted", "hypervisor", "qemu", "memory", "256Mi"));
        return r;
    }

    private static GenericKubernetesResource request(String kind, String name, Map<String, Object> spec) {
        GenericKubernetesResource r = generic(kind, name, TENANT);
        r.setAdditionalProperty("spec", spec);
        return r;
    }
}
