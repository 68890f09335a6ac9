package io.virtfleet.controlplane;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.virtfleet.api.v1alpha1.VirtualMachineBackup;
import io.virtfleet.api.v1alpha1.VirtualMachineBackupSpec;
import io.virtfleet.api.v1alpha1.VirtualMachineClone;
import io.virtfleet.api.v1alpha1.VirtualMachineCloneStatus;
import io.virtfleet.api.v1alpha1.VirtualMachineRestore;
import io.virtfleet.api.v1alpha1.VirtualMachineRestoreSpec;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Clones, backups and restores are acted on once (the operator plans from the spec, the agent copies the plan): their
 * spec is immutable in the CRD (CEL {@code self == oldSelf}), while labels and status can still be written.
 */
class CopyRequestImmutabilityTest {
    static KubernetesClient client;
    static String ns;

    @BeforeAll
    static void start() {
        client = EmbeddedControlPlane.shared().client();
        ns = "imm-" + UUID.randomUUID().toString().substring(0, 8);
        Namespaces.ensure(client, ns);
    }

    @Test
    void aClonesSpecCannotChangeButItsLabelsAndStatusCan() {
        VirtualMachineClone c = VirtualMachineClone.of(ns, "c1", "web", "web-2");
        client.resource(c).create();
        var res = client.resources(VirtualMachineClone.class).inNamespace(ns).withName("c1");

        assertRefused(() -> res.edit(x -> {
            x.getSpec().source = "other-tenants-vm";
            return x;
        }));
        res.edit(x -> {
            x.getMetadata().setLabels(Map.of("virtfleet.io/host", "node-a"));
            return x;
        });
        res.editStatus(x -> {
            x.setStatus(new VirtualMachineCloneStatus());
            x.getStatus().phase = VirtualMachineCloneStatus.PHASE_PENDING;
            return x;
        });
        VirtualMachineClone stored = res.get();
        assertThat(stored.getSpec().source).isEqualTo("web");
        assertThat(stored.getMetadata().getLabels()).containsEntry("virtfleet.io/host", "node-a");
        assertThat(stored.getStatus().phase).isEqualTo("Pending");
    }

    @Test
    void aBackupsSpecCannotChange() {
        VirtualMachineBackupSpec spec = new VirtualMachineBackupSpec();
        spec.vmName = "web";
        spec.destination = "/var/lib/virtfleet/backups";
        VirtualMachineBackupSpec stored = createThenRefuseSpecChange(request(new VirtualMachineBackup(), "b1", spec),
                x -> x.destination = "/var/lib/virtfleet/images");
        assertThat(stored.destination).isEqualTo("/var/lib/virtfleet/backups");
    }

    @Test
    void aRestoresSpecCannotChangeNorGainAField() {
        VirtualMachineRestoreSpec spec = new VirtualMachineRestoreSpec();
        spec.backupName = "b1";
        VirtualMachineRestoreSpec stored = createThenRefuseSpecChange(request(new VirtualMachineRestore(), "r1", spec),
                x -> x.vmName = "web-r");
        assertThat(stored.vmName).isNull();
    }

    /** {@code o} named {@code name} in the test's namespace, with {@code spec}. */
    private static <T extends CustomResource<S, ?>, S> T request(T o, String name, S spec) {
        o.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(ns).build());
        o.setSpec(spec);
        return o;
    }

    /** Creates {@code request}; an edit that changes its spec by {@code change} is refused. Returns the stored spec. */
    @SuppressWarnings("unchecked")
    private static <T extends CustomResource<S, ?>, S> S createThenRefuseSpecChange(T request, Consumer<S> change) {
        client.resource(request).create();
        var res = client.resources((Class<T>) request.getClass()).inNamespace(ns)
                .withName(request.getMetadata().getName());
        assertRefused(() -> res.edit(x -> {
            change.accept(x.getSpec());
            return x;
        }));
        return res.get().getSpec();
    }

    private static void assertRefused(Runnable update) {
        assertThatThrownBy(update::run).isInstanceOfSatisfying(KubernetesClientException.class, e -> {
            assertThat(e.getCode()).isEqualTo(422);
            assertThat(e.getMessage()).contains("spec is immutable; create a new object");
        });
    }
}
