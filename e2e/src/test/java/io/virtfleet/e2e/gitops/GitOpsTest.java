package io.virtfleet.e2e.gitops;

import io.fabric8.kubernetes.client.utils.Serialization;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.controlplane.KubectlResult;
import io.virtfleet.e2e.support.Fleet;
import io.virtfleet.e2e.support.StartFleet;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What a GitOps tool and a kubectl user see: a VM applied server-side by a GitOps field manager shows no diff
 * after virtfleet ran it; the apiserver itself rejects bad manifests with the field path; kubectl explain, short names
 * and the category work.
 */
class GitOpsTest {
    @StartFleet
    static Fleet fleet;

    @Test
    void aVmAppliedByAGitOpsManagerShowsNoDiffAfterVirtfleetRunsIt() throws IOException {
        Path manifest = write(Serialization.asYaml(fleet.testGuest("gitops-1")));
        KubectlResult apply = kubectl("apply", "--server-side", "--field-manager=argocd-controller", "-f",
                manifest.toString());
        assertThat(apply.exitCode()).as(apply.output()).isZero();

        VirtualMachine running = fleet.awaitReady("gitops-1");
        assertThat(running.getStatus().printableStatus).isEqualTo("Running");

        KubectlResult diff = kubectl("diff", "--server-side", "--field-manager=argocd-controller", "-f",
                manifest.toString());
        assertThat(diff.exitCode()).as("kubectl diff exit code (1 means a diff): " + diff.output()).isZero();
        assertThat(diff.stdout()).isEmpty();
    }

    @Test
    void theApiserverRejectsAnUnknownHypervisorAndOpenvzWithoutATemplateNamingTheField() throws IOException {
        String base = """
                apiVersion: virtfleet.io/v1alpha1
                kind: VirtualMachine
                metadata: {name: %s, namespace: %s}
                spec:
                  hypervisor: %s
                  memory: 512Mi
                """;
        KubectlResult vmware = kubectl("apply", "--server-side", "-f",
                write(base.formatted("vmware-1", fleet.namespace(), "vmware")).toString());
        assertThat(vmware.exitCode()).isNotZero();
        assertThat(vmware.output()).contains("spec.hypervisor").contains("Unsupported value: \"vmware\"");

        KubectlResult openvz = kubectl("apply", "--server-side", "-f",
                write(base.formatted("ct-1", fleet.namespace(), "openvz")).toString());
        assertThat(openvz.exitCode()).isNotZero();
        assertThat(openvz.output()).contains("spec.os").contains("os.template is required for hypervisor openvz");
    }

    @Test
    void kubectlExplainShowsTheFieldDocsAndShortNamesAndTheCategoryWork() {
        KubectlResult explain = kubectl("explain", "vfvm.spec.disks");
        assertThat(explain.exitCode()).as(explain.output()).isZero();
        assertThat(explain.stdout()).contains("Disks and cdroms, in boot order")
                .contains("volume").contains("Unique name of the disk within the VM");

        assertThat(kubectl("get", "vfvm", "-n", fleet.namespace()).exitCode()).isZero();
        KubectlResult category = kubectl("get", "virtfleet", "-A");
        assertThat(category.exitCode()).as(category.output()).isZero();
    }

    private static KubectlResult kubectl(String... args) {
        return fleet.controlPlane().kubectl(Duration.ofSeconds(60), args);
    }

    private static Path write(String yaml) throws IOException {
        Path file = Files.createTempFile("virtfleet-gitops", ".yaml");
        Files.writeString(file, yaml);
        file.toFile().deleteOnExit();
        return file;
    }
}
