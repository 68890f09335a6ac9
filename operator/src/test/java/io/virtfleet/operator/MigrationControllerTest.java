package io.virtfleet.operator;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.virtfleet.api.v1alpha1.ApiGroup;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.HostSpec;
import io.virtfleet.api.v1alpha1.VirtualMachineMigration;
import io.virtfleet.api.v1alpha1.VirtualMachineMigrationSpec;
import io.virtfleet.api.v1alpha1.VirtualMachineMigrationStatus;
import io.virtfleet.api.v1alpha1.VirtualMachineMigrationStatus.Transfer;
import io.virtfleet.operator.migration.MigrationController;
import io.virtfleet.reconcilers.lifecycle.PrintableStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The operator's side of a live migration against the real apiserver with FAKE hosts (no libvirt): the hand-over
 * to the source agent ({@code Domain.spec.migration}), and what each report of that agent in
 * {@code status.transfer} makes of the Domain and the migration — Completed re-points the Domain to the target,
 * Failed and Aborted leave it where it runs, deleting an unfinished migration asks the agent to cancel and waits for
 * its answer. Tests play the source agent by writing {@code status.transfer} as the real one does (a JSON merge
 * patch of that field). The libvirt side is {@code e2e}'s {@code LiveMigrationTest}.
 */
class MigrationControllerTest extends OperatorTestSupport {
    @RegisterExtension
    static final ClassOperator fixture = new ClassOperator("migration");
    static final String ns = fixture.ns;

    /** Two hosts of one pool that accept migrations and share the VMs' disk root; the VM runs on one of them. */
    private String[] runningVmOnTwoHosts(String vm, boolean migratable) {
        String pool = "mig-" + UUID.randomUUID().toString().substring(0, 4);
        for (int i = 0; i < 2; i++) {
            FakeAgent a = testHost(pool + "-" + i, Map.of("pool", pool), 16, "64Gi", "kvm", "qemu");
            if (migratable) {
                a.acceptingMigrations("qemu+tcp://" + a.host + "/system", HostSpec.DEFAULT_ALLOWED_ROOT);
            }
        }
        apply(new TestVm(ns, vm).selecting("pool", pool));
        eventually().until(() -> "Running".equals(printable(ns, vm)) && vm(ns, vm).getStatus().genid != null);
        String source = domain(ns, vm).getSpec().host;
        String target = source.equals(pool + "-0") ? pool + "-1" : pool + "-0";
        return new String[] {source, target};
    }

    private static VirtualMachineMigration migrate(String name, String vm, String target) {
        VirtualMachineMigration m = new VirtualMachineMigration();
        m.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(ns).build());
        m.setSpec(new VirtualMachineMigrationSpec());
        m.getSpec().vmName = vm;
        m.getSpec().targetHost = target;
        return client.resource(m).create();
    }

    private static VirtualMachineMigration get(String name) {
        return client.resources(VirtualMachineMigration.class).inNamespace(ns).withName(name).get();
    }

    private static String phase(String name) {
        VirtualMachineMigration m = get(name);
        return m != null && m.getStatus() != null ? m.getStatus().phase : null;
    }

    /** What the source agent writes: {@code status.transfer} only, as a JSON merge patch. */
    private static void agentReports(String name, String state, String message, Long downtimeMs) {
        VirtualMachineMigration m = get(name);
        Map<String, Object> t = new LinkedHashMap<>();
        t.put("state", state);
        t.put("id", m.getMetadata().getUid());
        if (message != null) {
            t.put("message", message);
        }
        if (downtimeMs != null) {
            t.put("downtimeMs", downtimeMs);
        }
        client.resources(VirtualMachineMigration.class).inNamespace(ns).withName(name).subresource("status")
                .patch(PatchContext.of(PatchType.JSON_MERGE),
                        client.getKubernetesSerialization().asJson(Map.of("status", Map.of("transfer", t))));
    }

    @Test
    void handsTheMigrationToTheSourceAgentAndRepointsTheDomainOnlyWhenLibvirtFinished() {
        String[] hosts = runningVmOnTwoHosts("mv-1", true);
        Domain before = domain(ns, "mv-1");
        String genid = vm(ns, "mv-1").getStatus().genid;
        long restarts = restartGeneration(ns, "mv-1");
        VirtualMachineMigration m = migrate("mv-1-move", "mv-1", hosts[1]);

        eventually().until(() -> VirtualMachineMigrationStatus.MIGRATING.equals(phase("mv-1-move")));
        Domain marked = domain(ns, "mv-1");
        assertThat(marked.getSpec().host).as("the Domain stays on its source until libvirt finished")
                .isEqualTo(hosts[0]);
        assertThat(marked.getSpec().migration.id).isEqualTo(m.getMetadata().getUid());
        assertThat(marked.getSpec().migration.targetHost).isEqualTo(hosts[1]);
        assertThat(marked.getSpec().migration.targetUri).isEqualTo("qemu+tcp://" + hosts[1] + "/system");
        assertThat(marked.getSpec().migration.targetDomainXml)
                .as("the target's XML keeps the uuid and the generation ID")
                .contains("<uuid>" + before.getSpec().uuid + "</uuid>").contains(genid);
        assertThat(get("mv-1-move").getStatus().sourceHost).isEqualTo(hosts[0]);
        assertThat(get("mv-1-move").getStatus().targetHost).isEqualTo(hosts[1]);
        assertThat(get("mv-1-move").getStatus().startTime).isNotNull();
        eventually().until(() -> PrintableStatus.MIGRATING.equals(printable(ns, "mv-1")));

        agentReports("mv-1-move", Transfer.RUNNING, null, null);
        // Running is no outcome: nothing moves.
        eventually().during(java.time.Duration.ofSeconds(2)).until(() -> hosts[0].equals(domain(ns, "mv-1")
                .getSpec().host) && VirtualMachineMigrationStatus.MIGRATING.equals(phase("mv-1-move")));

        agentReports("mv-1-move", Transfer.COMPLETED, "libvirt finished", 42L);
        eventually().until(() -> VirtualMachineMigrationStatus.SUCCEEDED.equals(phase("mv-1-move")));
        Domain after = domain(ns, "mv-1");
        assertThat(after.getSpec().host).isEqualTo(hosts[1]);
        assertThat(after.getMetadata().getLabels()).containsEntry(ApiGroup.HOST_LABEL, hosts[1]);
        assertThat(after.getSpec().migration).isNull();
        assertThat(after.getSpec().domainXml).isEqualTo(marked.getSpec().migration.targetDomainXml);
        assertThat(after.getSpec().genid).as("a live migration keeps the generation ID").isEqualTo(genid);
        assertThat(after.getMetadata().getAnnotations())
                .containsEntry(MigrationController.MIGRATED_BY, m.getMetadata().getUid());
        assertThat(get("mv-1-move").getStatus().downtimeMs).isEqualTo(42L);
        assertThat(get("mv-1-move").getStatus().endTime).isNotNull();
        assertThat(restartGeneration(ns, "mv-1")).as("the guest was not restarted").isEqualTo(restarts);
        eventually().until(() -> "Running".equals(printable(ns, "mv-1")));
        assertThat(vm(ns, "mv-1").getStatus().genid).isEqualTo(genid);
        eventually().until(() -> eventReasons(ns, "mv-1").containsAll(List.of("Migrating", "Migrated")));
    }

    @Test
    void aFailedTransferLeavesTheVmOnItsSourceAndNamesLibvirtsError() {
        String[] hosts = runningVmOnTwoHosts("mv-2", true);
        migrate("mv-2-move", "mv-2", hosts[1]);
        eventually().until(() -> VirtualMachineMigrationStatus.MIGRATING.equals(phase("mv-2-move")));

        agentReports("mv-2-move", Transfer.FAILED, "operation failed: migration out of memory", null);
        eventually().until(() -> VirtualMachineMigrationStatus.FAILED.equals(phase("mv-2-move")));
        VirtualMachineMigrationStatus st = get("mv-2-move").getStatus();
        assertThat(st.error).contains("operation failed: migration out of memory")
                .contains("keeps running on host " + hosts[0]);
        Domain d = domain(ns, "mv-2");
        assertThat(d.getSpec().host).isEqualTo(hosts[0]);
        assertThat(d.getSpec().migration).as("the hand-over is withdrawn").isNull();
        eventually().until(() -> "Running".equals(printable(ns, "mv-2")));
        eventually().until(() -> eventReasons(ns, "mv-2").contains("MigrationFailed"));
    }

    @Test
    void deletingAnUnfinishedMigrationAsksTheAgentToCancelAndWaitsForItsAnswer() {
        String[] hosts = runningVmOnTwoHosts("mv-3", true);
        migrate("mv-3-move", "mv-3", hosts[1]);
        eventually().until(() -> VirtualMachineMigrationStatus.MIGRATING.equals(phase("mv-3-move")));
        agentReports("mv-3-move", Transfer.RUNNING, null, null);

        client.resources(VirtualMachineMigration.class).inNamespace(ns).withName("mv-3-move").delete();
        eventually().until(() -> {
            Domain d = domain(ns, "mv-3");
            return d.getSpec().migration != null && Boolean.TRUE.equals(d.getSpec().migration.cancel);
        });
        assertThat(get("mv-3-move")).as("kept (finalizer) until the agent says what libvirt did").isNotNull();

        agentReports("mv-3-move", Transfer.ABORTED, "the migration was cancelled", null);
        eventually().until(() -> get("mv-3-move") == null);
        Domain d = domain(ns, "mv-3");
        assertThat(d.getSpec().host).isEqualTo(hosts[0]);
        assertThat(d.getSpec().migration).isNull();
        eventually().until(() -> eventReasons(ns, "mv-3").contains("MigrationCancelled"));
        assertThat(printable(ns, "mv-3")).isEqualTo("Running");
    }

    @Test
    void refusalsNameTheFieldAndChangeNothing() {
        String[] hosts = runningVmOnTwoHosts("mv-4", false);
        Domain before = domain(ns, "mv-4");

        migrate("mv-4-nowhere", "mv-4", "no-such-host");
        migrate("mv-4-here", "mv-4", hosts[0]);
        migrate("mv-4-closed", "mv-4", hosts[1]);
        migrate("mv-4-ghost", "no-such-vm", null);

        eventually().until(() -> List.of("mv-4-nowhere", "mv-4-here", "mv-4-closed", "mv-4-ghost").stream()
                .allMatch(n -> VirtualMachineMigrationStatus.FAILED.equals(phase(n))));
        assertThat(get("mv-4-nowhere").getStatus().error).startsWith("spec.targetHost: ").contains("no-such-host");
        assertThat(get("mv-4-here").getStatus().error)
                .isEqualTo("spec.targetHost: " + hosts[0] + " is the host the VM runs on");
        assertThat(get("mv-4-closed").getStatus().error).startsWith("spec.targetHost: host " + hosts[1]
                + " accepts no live migrations");
        assertThat(get("mv-4-ghost").getStatus().error).startsWith("spec.vmName: VirtualMachine " + ns
                + "/no-such-vm not found");

        Domain after = domain(ns, "mv-4");
        assertThat(after.getSpec().migration).isNull();
        assertThat(after.getSpec().host).isEqualTo(before.getSpec().host);
        assertThat(after.getSpec().domainXml).isEqualTo(before.getSpec().domainXml);
        assertThat(printable(ns, "mv-4")).isEqualTo("Running");
        eventually().until(() -> eventReasons(ns, "mv-4").contains("MigrationRefused"));
    }
}
