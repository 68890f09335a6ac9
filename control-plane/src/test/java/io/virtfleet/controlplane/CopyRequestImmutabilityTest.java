package io.virtfleet.controlplane;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
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
        VirtualMachineBackup b = new VirtualMachineBackup();
        b.setMetadata(new ObjectMetaBuilder().withName("b1").withNamespace(ns).build());
        b.setSpec(new VirtualMachineBackupSpec());
        b.getSpec().vmName = "web";
        b.getSpec().destination = "/var/lib/virtfleet/backups";
        client.resource(b).create();

        assertRefused(() -> client.resources(VirtualMachineBackup.class).inNamespace(ns).withName("b1").edit(x -> {
            x.getSpec().destination = "/var/lib/virtfleet/images";
            return x;
        }));
        assertThat(client.resources(VirtualMachineBackup.class).inNamespace(ns).withName("b1").get().getSpec()
                .destination).isEqualTo("/var/lib/virtfleet/backups");
    }

    @Test
    void aRestoresSpecCannotChangeNorGainAField() {
        VirtualMachineRestore r = new VirtualMachineRestore();
        r.setMetadata(new ObjectMetaBuilder().withName("r1").withNamespace(ns).build());
        r.setSpec(new VirtualMachineRestoreSpec());
        r.getSpec().backupName = "b1";
        client.resource(r).create();

        assertRefused(() -> client.resources(VirtualMachineRestore.class).inNamespace(ns).withName("r1").edit(x -> {
            x.getSpec().vmName = "web-r";
            return x;
        }));
        assertThat(client.resources(VirtualMachineRestore.class).inNamespace(ns).withName("r1").get().getSpec()
                .vmName).isNull();
    }

    private static void assertRefused(Runnable update) {
        assertThatThrownBy(update::run).isInstanceOfSatisfying(KubernetesClientException.class, e -> {
            assertThat(e.getCode()).isEqualTo(422);
            assertThat(e.getMessage()).contains("spec is immutable; create a new object");
        });
    }
}
