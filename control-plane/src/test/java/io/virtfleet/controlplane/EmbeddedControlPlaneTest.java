package io.virtfleet.controlplane;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.virtfleet.api.v1alpha1.Hypervisor;
import io.virtfleet.api.v1alpha1.RunStrategy;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.api.v1alpha1.VirtualMachineSpec;
import io.virtfleet.api.v1alpha1.VirtualMachineStatus;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The JVM's shared real etcd + kube-apiserver, with the repository's CRDs installed. */
class EmbeddedControlPlaneTest {
    static EmbeddedControlPlane cp;
    static KubernetesClient client;

    @BeforeAll
    static void startControlPlane() {
        cp = EmbeddedControlPlane.shared();
        client = cp.client();
    }

    @AfterAll
    static void stopControlPlane() {
        cp.close(); // a no-op for the shared instance: the next class reuses it, the JVM's shutdown hook stops it
        assertThat(cp.apiserverProcess().isAlive()).isTrue();
        assertThat(EmbeddedControlPlane.shared()).isSameAs(cp);
    }

    static String newNamespace() {
        String ns = "t-" + UUID.randomUUID().toString().substring(0, 8);
        Namespaces.ensure(client, ns);
        return ns;
    }

    static VirtualMachine vm(String ns, String name) {
        VirtualMachine vm = new VirtualMachine();
        vm.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(ns).build());
        VirtualMachineSpec spec = new VirtualMachineSpec();
        spec.runStrategy = RunStrategy.values()[0];
        spec.hypervisor = Hypervisor.KVM;
        spec.memory = new Quantity("2Gi");
        spec.machine = "q35";
        spec.graphics = "spice";
        spec.genid = "auto";
        spec.cpu = new VirtualMachineSpec.Cpu();
        spec.cpu.cores = 2;
        spec.cpu.model = "host-passthrough";
        VirtualMachineSpec.Disk root = new VirtualMachineSpec.Disk();
        root.name = "root";
        root.bus = "virtio";
        root.volume = new VirtualMachineSpec.Volume();
        root.volume.path = "/var/lib/virtfleet/images/" + name + ".qcow2";
        root.volume.format = "qcow2";
        VirtualMachineSpec.Disk iso = new VirtualMachineSpec.Disk();
        iso.name = "install";
        iso.cdrom = true;
        iso.bus = "sata";
        iso.volume = new VirtualMachineSpec.Volume();
        iso.volume.path = "/var/lib/virtfleet/iso/debian.iso";
        spec.disks = List.of(root, iso);
        VirtualMachineSpec.NetworkInterface nic = new VirtualMachineSpec.NetworkInterface();
        nic.name = "default";
        nic.network = "default";
        nic.model = "virtio";
        nic.macAddress = "52:54:00:6b:3c:58";
        spec.interfaces = List.of(nic);
        spec.os = new VirtualMachineSpec.OperatingSystem();
        spec.os.variant = "debian12";
        vm.setSpec(spec);
        return vm;
    }

    @Test
    void crdsFromTheRepositoryAreEstablished() {
        List<Path> files = RepoRoot.crdFiles(RepoRoot.require());
        assertThat(files).isNotEmpty();
        for (Path f : files) {
            String name;
            try {
                name = Serialization.unmarshal(Files.readString(f), CustomResourceDefinition.class)
                        .getMetadata().getName();
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
            CustomResourceDefinition live = client.apiextensions().v1().customResourceDefinitions().withName(name)
                    .get();
            assertThat(live).as("CRD %s from %s", name, f).isNotNull();
            assertThat(live.getStatus().getConditions())
                    .anySatisfy(c -> {
                        assertThat(c.getType()).isEqualTo("Established");
                        assertThat(c.getStatus()).isEqualTo("True");
                    });
        }
        assertThat(client.apiextensions().v1().customResourceDefinitions().withName("virtualmachines.virtfleet.io")
                .get()).isNotNull();
    }

    @Test
    void serverSideApplyRoundTripsTheSpec() {
        String ns = newNamespace();
        VirtualMachine vm = vm(ns, "web-1");
        VirtualMachine applied = client.resource(vm).fieldManager("test").forceConflicts().serverSideApply();
        assertThat(applied.getMetadata().getUid()).isNotBlank();

        VirtualMachine read = client.resources(VirtualMachine.class).inNamespace(ns).withName("web-1").get();
        assertThat(read.getSpec()).usingRecursiveComparison().isEqualTo(vm.getSpec());
        assertThat(Serialization.asJson(read.getSpec())).isEqualTo(Serialization.asJson(vm.getSpec()));
        assertThat(read.getMetadata().getManagedFields())
                .anySatisfy(mf -> assertThat(mf.getManager()).isEqualTo("test"));

        // Applying the same object again is a no-op: generation stays.
        VirtualMachine again = client.resource(vm(ns, "web-1")).fieldManager("test").forceConflicts()
                .serverSideApply();
        assertThat(again.getMetadata().getGeneration()).isEqualTo(read.getMetadata().getGeneration());
    }

    @Test
    void schemaValidationRejectsAWrongTypedField() throws IOException {
        String ns = newNamespace();
        String json = """
                {"apiVersion": "virtfleet.io/v1alpha1", "kind": "VirtualMachine",
                 "metadata": {"name": "bad", "namespace": "%s"},
                 "spec": {"hypervisor": "kvm", "memory": [1]}}
                """.formatted(ns);
        GenericKubernetesResource raw = Serialization.unmarshal(json, GenericKubernetesResource.class);
        ResourceDefinitionContext ctx = new ResourceDefinitionContext.Builder()
                .withGroup("virtfleet.io").withVersion("v1alpha1").withKind("VirtualMachine")
                .withPlural("virtualmachines").withNamespaced(true).build();

        assertThatThrownBy(() -> client.genericKubernetesResources(ctx).inNamespace(ns).resource(raw).create())
                .isInstanceOfSatisfying(KubernetesClientException.class, e -> {
                    assertThat(e.getCode()).isEqualTo(422);
                    assertThat(e.getMessage()).contains("spec.memory");
                });
        assertThat(client.resources(VirtualMachine.class).inNamespace(ns).withName("bad").get()).isNull();

        // The same through kubectl, as a user would see it.
        Path file = Files.createTempFile("bad-vm", ".json");
        try {
            Files.writeString(file, json);
            KubectlResult r = cp.kubectl("apply", "-f", file.toString());
            assertThat(r.exitCode()).as(r.toString()).isNotZero();
            assertThat(r.output()).contains("spec.memory").contains("Invalid value");
        } finally {
            Files.deleteIfExists(file);
        }

        // An enum is enforced too.
        GenericKubernetesResource badEnum = Serialization.unmarshal(json.replace("\"memory\": [1]", "\"memory\": \"1Gi\"")
                .replace("\"kvm\"", "\"vmware\""), GenericKubernetesResource.class);
        assertThatThrownBy(() -> client.genericKubernetesResources(ctx).inNamespace(ns).resource(badEnum).create())
                .isInstanceOfSatisfying(KubernetesClientException.class, e -> {
                    assertThat(e.getCode()).isEqualTo(422);
                    assertThat(e.getMessage()).contains("spec.hypervisor");
                });
    }

    @Test
    void statusIsWrittenOnlyThroughTheStatusSubresource() {
        String ns = newNamespace();
        client.resource(vm(ns, "db-1")).create();

        VirtualMachine current = client.resources(VirtualMachine.class).inNamespace(ns).withName("db-1").get();
        current.getMetadata().setLabels(Map.of("tier", "db"));
        current.setStatus(status("Running", "node-a", 7));
        VirtualMachine updated = client.resource(current).update();
        assertThat(updated.getMetadata().getLabels()).containsEntry("tier", "db");
        VirtualMachine afterPlainUpdate = client.resources(VirtualMachine.class).inNamespace(ns).withName("db-1").get();
        assertThat(afterPlainUpdate.getMetadata().getLabels()).containsEntry("tier", "db");
        assertThat(afterPlainUpdate.getStatus()).as("status after a plain update").isNull();

        afterPlainUpdate.setStatus(status("Running", "node-a", 7));
        client.resource(afterPlainUpdate).updateStatus();
        VirtualMachine afterStatusUpdate = client.resources(VirtualMachine.class).inNamespace(ns).withName("db-1").get();
        assertThat(afterStatusUpdate.getStatus()).isNotNull();
        assertThat(afterStatusUpdate.getStatus().printableStatus).isEqualTo("Running");
        assertThat(afterStatusUpdate.getStatus().host).isEqualTo("node-a");
        assertThat(afterStatusUpdate.getStatus().domainId).isEqualTo(7);
        // A status write does not bump the generation (spec did not change).
        assertThat(afterStatusUpdate.getMetadata().getGeneration())
                .isEqualTo(afterPlainUpdate.getMetadata().getGeneration());

        // Conversely a status-subresource write does not change the spec.
        afterStatusUpdate.getSpec().machine = "pc";
        afterStatusUpdate.getStatus().printableStatus = "Stopped";
        afterStatusUpdate.getStatus().domainId = -1;
        client.resource(afterStatusUpdate).patchStatus();
        VirtualMachine afterPatchStatus = client.resources(VirtualMachine.class).inNamespace(ns).withName("db-1").get();
        assertThat(afterPatchStatus.getStatus().printableStatus).isEqualTo("Stopped");
        assertThat(afterPatchStatus.getStatus().domainId).isEqualTo(-1);
        assertThat(afterPatchStatus.getSpec().machine).isEqualTo("q35");
    }

    static VirtualMachineStatus status(String printable, String host, int id) {
        VirtualMachineStatus s = new VirtualMachineStatus();
        s.printableStatus = printable;
        s.host = host;
        s.domainId = id;
        s.uuid = UUID.nameUUIDFromBytes(host.getBytes()).toString();
        return s;
    }

    @Test
    void kubectlGetVfvmPrintsThePrinterColumns() {
        String ns = newNamespace();
        VirtualMachine created = client.resource(vm(ns, "web-2")).create();
        created.setStatus(status("Running", "node-a", 7));
        client.resource(created).updateStatus();

        KubectlResult r = cp.kubectl("get", "vfvm", "-n", ns);
        assertThat(r.exitCode()).as(r.toString()).isZero();
        List<String> lines = r.stdout().lines().toList();
        assertThat(lines).hasSize(2);
        assertThat(Arrays.asList(lines.get(0).trim().split("\\s+")))
                .containsExactly("NAME", "HOST", "STATUS", "ID", "AGE");
        assertThat(Arrays.asList(lines.get(1).trim().split("\\s+")))
                .startsWith("web-2", "node-a", "Running", "7");

        // The short name and the category work too.
        assertThat(cp.kubectl("get", "virtfleet", "-n", ns, "-o", "name").stdout())
                .contains("virtualmachine.virtfleet.io/web-2");
    }

    @Test
    void rbacIsEnforcedForImpersonatedUsers() {
        String ns = newNamespace();
        try (KubernetesClient alice = cp.impersonatingClient("alice")) {
            assertThatThrownBy(() -> alice.resources(VirtualMachine.class).inNamespace(ns).list())
                    .isInstanceOfSatisfying(KubernetesClientException.class,
                            e -> assertThat(e.getCode()).isEqualTo(403));
        }
        KubectlResult r = cp.kubectl("auth", "can-i", "list", "virtualmachines.virtfleet.io", "-n", ns,
                "--as=alice");
        assertThat(r.stdout().strip()).isEqualTo("no");
        assertThat(cp.kubectl("auth", "can-i", "list", "virtualmachines.virtfleet.io", "-n", ns).stdout().strip())
                .isEqualTo("yes");
    }
}
