package io.virtfleet.e2e.deploy;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingAdmissionPolicy;
import io.fabric8.kubernetes.api.model.admissionregistration.v1.ValidatingAdmissionPolicyBinding;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.virtfleet.api.v1alpha1.ApiGroup;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/** The rendered deploy/base (kubectl kustomize) has the shape deploy/README.md promises. No apiserver needed. */
class ManifestsTest {
    private static List<HasMetadata> objects;

    @BeforeAll
    static void render() {
        objects = DeployFiles.render();
    }

    @Test
    void everythingNamespacedLivesInTheSystemNamespace() {
        assertThat(DeployFiles.find(objects, Namespace.class, ApiGroup.SYSTEM_NAMESPACE)).isNotNull();
        Set<Class<?>> clusterScoped = Set.of(Namespace.class, CustomResourceDefinition.class, ClusterRole.class,
                io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding.class, ValidatingAdmissionPolicy.class,
                ValidatingAdmissionPolicyBinding.class);
        for (HasMetadata o : objects) {
            if (clusterScoped.contains(o.getClass())) {
                assertThat(o.getMetadata().getNamespace()).as(o.getKind() + " " + o.getMetadata().getName()).isNull();
            } else {
                assertThat(o.getMetadata().getNamespace()).as(o.getKind() + " " + o.getMetadata().getName())
                        .isEqualTo(ApiGroup.SYSTEM_NAMESPACE);
            }
            assertThat(o.getMetadata().getLabels()).as(o.getKind() + " " + o.getMetadata().getName())
                    .containsEntry("app.kubernetes.io/part-of", "virtfleet");
        }
        assertThat(objects.stream().filter(CustomResourceDefinition.class::isInstance)
                .map(o -> o.getMetadata().getName()))
                .containsExactlyInAnyOrder("domains.virtfleet.io", "hosts.virtfleet.io",
                        "virtualmachines.virtfleet.io", "virtualmachinesnapshots.virtfleet.io",
                        "virtualmachinerestores.virtfleet.io", "virtualmachineclones.virtfleet.io",
                        "virtualmachinebackups.virtfleet.io",
                        "virtualmachinefailovers.virtfleet.io", "virtualmachinemigrations.virtfleet.io");
        assertThat(DeployFiles.find(objects, ServiceAccount.class, DeployFiles.OPERATOR_SA)).isNotNull();
        assertThat(DeployFiles.find(objects, ServiceAccount.class, DeployFiles.AGENT_SA)).isNotNull();
    }

    @Test
    void operatorIsAHardenedLeaderElectedPair() {
        Deployment d = DeployFiles.find(objects, Deployment.class, "virtfleet-operator");
        assertThat(d.getSpec().getReplicas()).isEqualTo(2);
        PodTemplateSpec t = d.getSpec().getTemplate();
        PodSpec pod = t.getSpec();
        assertThat(pod.getServiceAccountName()).isEqualTo(DeployFiles.OPERATOR_SA);
        assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
        assertThat(pod.getSecurityContext().getRunAsUser()).isEqualTo(65532L);
        assertThat(pod.getSecurityContext().getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
        assertThat(pod.getVolumes()).extracting(Volume::getHostPath).containsOnlyNulls();

        Container c = single(pod.getContainers());
        assertThat(c.getImage()).isEqualTo("virtfleet-operator:0.1.0-SNAPSHOT");
        assertThat(c.getArgs()).first().isEqualTo("operator");
        assertThat(c.getArgs()).contains("--leader-election");
        hardened(c);
        assertThat(c.getSecurityContext().getRunAsNonRoot()).isTrue();
        probes(c);
        assertThat(c.getResources().getRequests()).containsKeys("cpu", "memory");
        assertThat(c.getResources().getLimits()).containsKeys("cpu", "memory");
        assertThat(c.getPorts()).extracting(ContainerPort::getName, ContainerPort::getContainerPort)
                .contains(org.assertj.core.groups.Tuple.tuple("health", 8080),
                        org.assertj.core.groups.Tuple.tuple("metrics", 9090));
        assertThat(t.getMetadata().getAnnotations()).containsEntry("prometheus.io/scrape", "true")
                .containsEntry("prometheus.io/port", "9090").containsEntry("prometheus.io/path", "/metrics")
                .containsEntry("prometheus.io/scheme", "https");
        assertThat(c.getVolumeMounts()).extracting(VolumeMount::getMountPath).containsExactly("/tmp");

        PodDisruptionBudget pdb = DeployFiles.find(objects, PodDisruptionBudget.class, "virtfleet-operator");
        assertThat(pdb.getSpec().getMinAvailable().getIntVal()).isEqualTo(1);
        assertThat(pdb.getSpec().getSelector().getMatchLabels()).isEqualTo(d.getSpec().getSelector().getMatchLabels());

        Service svc = DeployFiles.find(objects, Service.class, "virtfleet-operator-metrics");
        assertThat(svc.getSpec().getSelector()).isEqualTo(d.getSpec().getSelector().getMatchLabels());
        assertThat(single(svc.getSpec().getPorts()).getTargetPort().getStrVal()).isEqualTo("metrics");
        assertThat(svc.getMetadata().getAnnotations()).containsEntry("prometheus.io/scrape", "true");
    }

    @Test
    void agentMountsOnlyTheLibvirtSocketsAndTheImageDirectory() {
        DaemonSet ds = DeployFiles.find(objects, DaemonSet.class, "virtfleet-agent");
        PodSpec pod = ds.getSpec().getTemplate().getSpec();
        assertThat(pod.getServiceAccountName()).isEqualTo(DeployFiles.AGENT_SA);
        assertThat(pod.getHostNetwork()).isNotEqualTo(Boolean.TRUE);
        assertThat(pod.getHostPID()).isNotEqualTo(Boolean.TRUE);
        assertThat(pod.getHostIPC()).isNotEqualTo(Boolean.TRUE);
        Map<String, String> hostPaths = pod.getVolumes().stream().filter(v -> v.getHostPath() != null)
                .collect(Collectors.toMap(Volume::getName, v -> v.getHostPath().getPath()));
        assertThat(hostPaths).containsOnly(Map.entry("libvirt-run", "/run/libvirt"),
                Map.entry("virtfleet-images", "/var/lib/virtfleet"));
        // Root (the libvirt socket is root-only), but nothing more than root: no privilege, no capabilities.
        assertThat(pod.getSecurityContext().getRunAsUser()).isZero();
        Container c = single(pod.getContainers());
        assertThat(c.getImage()).isEqualTo("virtfleet-agent:0.1.0-SNAPSHOT");
        hardened(c);
        assertThat(c.getSecurityContext().getPrivileged()).isNotEqualTo(Boolean.TRUE);
        assertThat(c.getArgs()).containsSequence("agent", "--host=$(NODE_NAME)");
        assertThat(c.getEnv()).anySatisfy(e -> {
            assertThat(e.getName()).isEqualTo("NODE_NAME");
            assertThat(e.getValueFrom().getFieldRef().getFieldPath()).isEqualTo("spec.nodeName");
        });
        assertThat(c.getVolumeMounts()).extracting(VolumeMount::getMountPath)
                .containsExactlyInAnyOrder("/run/libvirt", "/var/run/libvirt", "/var/lib/virtfleet", "/tmp");
        assertThat(pod.getNodeSelector()).containsEntry("virtfleet.io/libvirt-host", "true");
    }

    @Test
    void metricsAreForTheMetricsReaderAndBothDaemonsMayReviewCallers() {
        ClusterRole reader = DeployFiles.find(objects, ClusterRole.class, "virtfleet-metrics-reader");
        PolicyRule only = single(reader.getRules());
        assertThat(only.getNonResourceURLs()).containsExactly("/metrics");
        assertThat(only.getVerbs()).containsExactly("get");
        assertThat(only.getResources()).isNullOrEmpty();
        DaemonSet ds = DeployFiles.find(objects, DaemonSet.class, "virtfleet-agent");
        assertThat(ds.getSpec().getTemplate().getMetadata().getAnnotations())
                .containsEntry("prometheus.io/scheme", "https");
        for (String daemon : List.of("virtfleet-operator", "virtfleet-agent")) {
            assertThat(rules(daemon)).as(daemon).anySatisfy(r -> {
                assertThat(r.getApiGroups()).containsExactly("authentication.k8s.io");
                assertThat(r.getResources()).containsExactly("tokenreviews");
                assertThat(r.getVerbs()).containsExactly("create");
            }).anySatisfy(r -> {
                assertThat(r.getApiGroups()).containsExactly("authorization.k8s.io");
                assertThat(r.getResources()).containsExactly("subjectaccessreviews");
                assertThat(r.getVerbs()).containsExactly("create");
            });
        }
    }

    @Test
    void agentRolesNeverReachVirtualMachinesOrDeletes() {
        for (PolicyRule r : rules("virtfleet-agent")) {
            assertThat(r.getResources()).as("agent rule %s", r)
                    .noneMatch(res -> res.equals("virtualmachines") || res.startsWith("virtualmachines/"));
            assertThat(r.getVerbs()).as("agent rule %s", r).doesNotContain("delete", "deletecollection", "*");
            assertThat(r.getResources()).as("agent rule %s", r).doesNotContain("*", "secrets");
        }
        for (PolicyRule r : rules("virtfleet-operator")) {
            assertThat(r.getVerbs()).as("operator rule %s", r).doesNotContain("*", "deletecollection");
            assertThat(r.getResources()).as("operator rule %s", r).doesNotContain("*", "secrets");
            if (r.getResources().contains("virtualmachines")) {
                // create only for a clone's target, narrowed by the admission policy virtfleet-operator-vm-spec
                assertThat(r.getVerbs()).as("operator rule %s", r).doesNotContain("delete");
            }
        }
    }

    private static List<PolicyRule> rules(String name) {
        List<PolicyRule> all = new java.util.ArrayList<>(DeployFiles.find(objects, ClusterRole.class, name).getRules());
        all.addAll(DeployFiles.find(objects, Role.class, name).getRules());
        return all;
    }

    private static void hardened(Container c) {
        assertThat(c.getSecurityContext().getReadOnlyRootFilesystem()).as(c.getName()).isTrue();
        assertThat(c.getSecurityContext().getAllowPrivilegeEscalation()).as(c.getName()).isFalse();
        assertThat(c.getSecurityContext().getCapabilities().getDrop()).as(c.getName()).containsExactly("ALL");
        assertThat(c.getSecurityContext().getCapabilities().getAdd()).as(c.getName()).isNullOrEmpty();
    }

    private static void probes(Container c) {
        for (Probe p : new Probe[] {c.getLivenessProbe(), c.getStartupProbe()}) {
            assertThat(p.getHttpGet().getPath()).as(c.getName()).isEqualTo("/healthz");
            assertThat(p.getHttpGet().getPort().getStrVal()).as(c.getName()).isEqualTo("health");
        }
        assertThat(c.getReadinessProbe().getHttpGet().getPath()).as(c.getName()).isEqualTo("/readyz");
        // The health port is HTTPS only (nothing virtfleet starts serves plain HTTP off loopback).
        for (Probe p : new Probe[] {c.getLivenessProbe(), c.getStartupProbe(), c.getReadinessProbe()}) {
            assertThat(p.getHttpGet().getScheme()).as(c.getName()).isEqualTo("HTTPS");
        }
        assertThat(c.getArgs()).as(c.getName() + ": no plain HTTP in a pod").doesNotContain("--plain-http");
        assertThat(c.getPorts()).as(c.getName()).anySatisfy(p -> {
            assertThat(p.getName()).isEqualTo("health");
            assertThat(p.getContainerPort()).isEqualTo(8080);
        });
    }

    private static <T> T single(List<T> list) {
        assertThat(list).hasSize(1);
        return list.get(0);
    }
}
