package io.virtfleet.operator;

import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.virtfleet.api.v1alpha1.ApiGroup;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.api.v1alpha1.VirtualMachineSpec;

import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Lets the agent of a VM's host — and only it — read the VM's cloud-init Secrets: a Role
 * {@code virtfleet-cloudinit-<vm>} in the VM's namespace with {@code get} on those Secrets by name, bound to the host's
 * agent identity, the ServiceAccount {@code virtfleet-system/virtfleet-agent-host-<host>} (deploy/README.md
 * "cloud-init Secrets"). Both are owned by the VM, so Kubernetes' garbage collector removes them with it; a move to
 * another host re-points the binding. What was applied is remembered per VM, so an unchanged VM costs no API call.
 */
public final class CloudInitGrants {
    public static final String PREFIX = "virtfleet-cloudinit-";

    private final Map<String, String> applied = new ConcurrentHashMap<>();

    /** The host agent's ServiceAccount name. */
    public static String hostServiceAccount(String host) {
        return ApiGroup.hostServiceAccount(host);
    }

    /** The Secret names the VM's cloud-init refers to (sorted, no duplicates). */
    static List<String> secretNames(VirtualMachineSpec spec) {
        TreeSet<String> names = new TreeSet<>();
        if (spec != null && spec.cloudInit != null) {
            if (spec.cloudInit.userDataSecretRef != null && spec.cloudInit.userDataSecretRef.name != null) {
                names.add(spec.cloudInit.userDataSecretRef.name);
            }
            if (spec.cloudInit.networkDataSecretRef != null && spec.cloudInit.networkDataSecretRef.name != null) {
                names.add(spec.cloudInit.networkDataSecretRef.name);
            }
        }
        return List.copyOf(names);
    }

    /**
     * Makes the grant match the VM placed on {@code host}; removes one it made for a VM that no longer refers to a
     * Secret. Throws with the apiserver's reason when it cannot.
     */
    public void ensure(KubernetesClient client, VirtualMachine vm, String host) {
        String ns = vm.getMetadata().getNamespace();
        String name = PREFIX + vm.getMetadata().getName();
        String key = ns + "/" + vm.getMetadata().getName() + "/" + vm.getMetadata().getUid();
        List<String> secrets = secretNames(vm.getSpec());
        String want = secrets.isEmpty() ? "" : host + " " + secrets;
        if (want.equals(applied.getOrDefault(key, secrets.isEmpty() ? "" : null))) {
            return;
        }
        try {
            if (secrets.isEmpty()) {
                client.rbac().roleBindings().inNamespace(ns).withName(name).delete();
                client.rbac().roles().inNamespace(ns).withName(name).delete();
            } else {
                var owner = new OwnerReferenceBuilder().withApiVersion(vm.getApiVersion()).withKind(vm.getKind())
                        .withName(vm.getMetadata().getName()).withUid(vm.getMetadata().getUid()).build();
                Role role = new RoleBuilder().withNewMetadata().withName(name).withNamespace(ns)
                        .withOwnerReferences(owner).addToLabels(ApiGroup.HOST_LABEL, host).endMetadata()
                        .withRules(new PolicyRuleBuilder().withApiGroups("").withResources("secrets")
                                .withVerbs("get").withResourceNames(secrets).build()).build();
                RoleBinding binding = new RoleBindingBuilder().withNewMetadata().withName(name).withNamespace(ns)
                        .withOwnerReferences(owner).addToLabels(ApiGroup.HOST_LABEL, host).endMetadata()
                        .withNewRoleRef().withApiGroup("rbac.authorization.k8s.io").withKind("Role").withName(name)
                        .endRoleRef().addNewSubject().withKind("ServiceAccount").withName(hostServiceAccount(host))
                        .withNamespace(ApiGroup.SYSTEM_NAMESPACE).endSubject().build();
                client.resource(role).fieldManager(ApiGroup.OPERATOR_FIELD_MANAGER).forceConflicts().serverSideApply();
                client.resource(binding).fieldManager(ApiGroup.OPERATOR_FIELD_MANAGER).forceConflicts()
                        .serverSideApply();
            }
            applied.put(key, want);
        } catch (KubernetesClientException e) {
            throw new IllegalStateException("cannot let host " + host + "'s agent read the cloud-init Secrets "
                    + secrets + " (Role/RoleBinding " + ns + "/" + name + "): " + e.getMessage(), e);
        }
    }

    public void forget(VirtualMachine vm) {
        applied.keySet().removeIf(k -> k.startsWith(vm.getMetadata().getNamespace() + "/"
                + vm.getMetadata().getName() + "/"));
    }
}
