package io.virtfleet.agent.migration;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.virtfleet.agent.TestEnv;
import io.virtfleet.agent.TestHost;
import io.virtfleet.agent.libvirt.InspectedDomain;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.DomainMigration;
import io.virtfleet.api.v1alpha1.VirtualMachineMigration;
import io.virtfleet.api.v1alpha1.VirtualMachineMigrationSpec;
import io.virtfleet.api.v1alpha1.VirtualMachineMigrationStatus.Transfer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.libvirt.LibvirtException;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The source agent's side of a live migration ({@link Migrator}) against the real kube-apiserver and libvirt's test
 * driver ({@code test:///default}, in this process; it runs domains without an emulator and implements no migration).
 * What is checked is what the agent decides and records, not libvirt's copy of the guest (that is {@code e2e}'s {@code
 * LiveMigrationTest}): a migration libvirt refuses is Failed with libvirt's own message and the domain keeps running
 * here (on this driver libvirt refuses peer-to-peer migration and cannot report the job); one cancelled before libvirt
 * was asked is Aborted without a libvirt job; an outcome already reported is never migrated again; the usual sync pass
 * stands aside only while a migration of this host owns the domain.
 */
class MigratorTest {
    private static final String URI = "test:///default";
    @RegisterExtension
    static final TestHost ENV = TestHost.withoutAgent("migrator");
    @RegisterExtension
    static final TestEnv.LibvirtFixture LIBVIRT = TestEnv.LibvirtFixture.connected(URI);
    @RegisterExtension
    static final TestEnv.DirectLibvirt DIRECT = new TestEnv.DirectLibvirt(URI);
    static final Set<String> resynced = ConcurrentHashMap.newKeySet();
    static Migrator migrator;

    @BeforeAll
    static void start() {
        migrator = new Migrator(ENV.client(), LIBVIRT.connection(), ENV.host(), List.of("/var/lib/virtfleet"),
                new Migrator.Policy(Duration.ofMillis(300), Duration.ofSeconds(120), Duration.ofMillis(200)),
                resynced::add);
    }

    @AfterAll
    static void stop() {
        if (migrator != null) {
            migrator.close();
        }
    }

    /** A running test-driver domain marked for {@code host}. */
    private String runningDomain(String name) throws LibvirtException {
        String uuid = UUID.randomUUID().toString();
        DIRECT.define(uuid, xml(name, uuid, ENV.host())).create();
        return uuid;
    }

    private static String xml(String name, String uuid, String markedFor) {
        return "<domain type='test'><name>" + name + "</name><uuid>" + uuid + "</uuid>"
                + "<metadata>" + TestEnv.mark(markedFor, ENV.ns(), name) + "</metadata>"
                + "<memory unit='MiB'>64</memory><os><type>hvm</type></os><devices>"
                + "<disk type='file' device='disk'><source file='/var/lib/virtfleet/images/" + name
                + "-data.qcow2'/><target dev='vda'/></disk></devices></domain>";
    }

    private static VirtualMachineMigration migration(String name) {
        VirtualMachineMigration m = new VirtualMachineMigration();
        m.setMetadata(new ObjectMetaBuilder().withNamespace(ENV.ns()).withName(name).build());
        m.setSpec(new VirtualMachineMigrationSpec());
        m.getSpec().vmName = name;
        return ENV.client().resource(m).create();
    }

    /** The Domain as the operator hands a migration to this (source) host. */
    private static Domain handedOver(String name, String uuid, VirtualMachineMigration m, boolean cancel) {
        Domain d = TestEnv.domainObject(ENV.ns(), name, ENV.host(),
                new TestEnv.Guest(name, uuid, xml(name, uuid, ENV.host()), null),
                "Running");
        d.getMetadata().setUid(UUID.randomUUID().toString());
        DomainMigration dm = new DomainMigration();
        dm.id = m.getMetadata().getUid();
        dm.name = m.getMetadata().getName();
        dm.targetHost = "other-" + ENV.host();
        dm.targetUri = URI;
        dm.targetDomainXml = xml("vf-other-" + name, uuid, "other-" + ENV.host());
        dm.cancel = cancel ? Boolean.TRUE : null;
        d.getSpec().migration = dm;
        return d;
    }

    private static Transfer transfer(String name) {
        VirtualMachineMigration m = ENV.client().resources(VirtualMachineMigration.class).inNamespace(ENV.ns())
                .withName(name)
                .get();
        return m.getStatus() != null ? m.getStatus().transfer : null;
    }

    private static Optional<InspectedDomain> inspect(String uuid) throws Exception {
        return LIBVIRT.connection().inspect(uuid);
    }

    @Test
    void aMigrationLibvirtCannotRunIsFailedWithLibvirtsMessageAndTheDomainKeepsRunningHere() throws Exception {
        String uuid = runningDomain("mig-refused-" + ENV.host());
        VirtualMachineMigration m = migration("mig-refused");
        Domain d = handedOver("mig-refused", uuid, m, false);

        // The sync loop's passes, as it runs them after each resync the migrator asks for: the first asks libvirt
        // (which refuses peer-to-peer migration here) and cannot read the job back on this driver, so it hands
        // the decision to the next pass, which reads what libvirt did: the domain still runs here.
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(300)).until(() -> {
            assertThat(migrator.beforeSync(uuid, d, inspect(uuid))).as("the sync pass stands aside").isPresent();
            return transfer("mig-refused") != null && Transfer.FAILED.equals(transfer("mig-refused").state);
        });
        Transfer t = transfer("mig-refused");
        assertThat(t.id).isEqualTo(m.getMetadata().getUid());
        assertThat(t.message).as("libvirt's own words").containsIgnoringCase("not supported");
        assertThat(DIRECT.connect().domainLookupByUUIDString(uuid).isActive()).as("still running on the source")
                .isEqualTo(1);
        assertThat(resynced).contains(uuid);

        // once reported, the next passes neither migrate again nor let the sync pass run before the operator acted
        assertThat(migrator.beforeSync(uuid, d, inspect(uuid))).isPresent();
        Thread.sleep(500);
        assertThat(transfer("mig-refused").state).isEqualTo(Transfer.FAILED);
        Domain cleared = handedOver("mig-refused", uuid, m, false);
        cleared.getSpec().migration = null;
        assertThat(migrator.beforeSync(uuid, cleared, inspect(uuid))).as("the operator withdrew it").isEmpty();
    }

    @Test
    void cancelledBeforeLibvirtWasAskedIsAbortedAndNothingMigrates() throws Exception {
        String uuid = runningDomain("mig-cancel-" + ENV.host());
        VirtualMachineMigration m = migration("mig-cancel");

        assertThat(migrator.beforeSync(uuid, handedOver("mig-cancel", uuid, m, true), inspect(uuid))).isPresent();
        await().atMost(Duration.ofSeconds(20)).until(() -> transfer("mig-cancel") != null);
        Transfer t = transfer("mig-cancel");
        assertThat(t.state).isEqualTo(Transfer.ABORTED);
        assertThat(t.message).contains("nothing was migrated");
        assertThat(DIRECT.connect().domainLookupByUUIDString(uuid).isActive()).isEqualTo(1);
    }

    @Test
    void anOutcomeAlreadyReportedIsNotMigratedAgainByARestartedAgent() throws Exception {
        String uuid = runningDomain("mig-done-" + ENV.host());
        VirtualMachineMigration m = migration("mig-done");
        // what an earlier incarnation of this agent recorded
        ENV.client().resources(VirtualMachineMigration.class).inNamespace(ENV.ns()).withName("mig-done")
                .subresource("status")
                .patch(PatchContext.of(PatchType.JSON_MERGE), ENV.client().getKubernetesSerialization().asJson(
                        Map.of("status", Map.of("transfer", Map.of("state", Transfer.COMPLETED,
                                "id", m.getMetadata().getUid(), "message", "libvirt finished")))));

        Migrator restarted = new Migrator(ENV.client(), LIBVIRT.connection(), ENV.host(), List.of(),
                Migrator.Policy.DEFAULT, resynced::add);
        try {
            assertThat(restarted.beforeSync(uuid, handedOver("mig-done", uuid, m, false), inspect(uuid)))
                    .isPresent();
            Thread.sleep(1000); // a job would have written Starting by now
            assertThat(transfer("mig-done").state).isEqualTo(Transfer.COMPLETED);
            assertThat(transfer("mig-done").message).isEqualTo("libvirt finished");
        } finally {
            restarted.close();
        }
    }

    @Test
    void onlyAMigrationFromThisHostMakesTheSyncPassStandAside() throws Exception {
        String uuid = runningDomain("mig-none-" + ENV.host());
        VirtualMachineMigration m = migration("mig-none");
        Domain plain = handedOver("mig-none", uuid, m, false);
        plain.getSpec().migration = null;
        assertThat(migrator.beforeSync(uuid, plain, inspect(uuid))).isEmpty();

        Domain elsewhere = handedOver("mig-none", uuid, m, false);
        elsewhere.getSpec().host = "other-" + ENV.host();
        assertThat(migrator.beforeSync(uuid, elsewhere, inspect(uuid))).as("a migration of another host's domain")
                .isEmpty();
        assertThat(Migrator.arriving(elsewhere, ENV.host())).isFalse();
        assertThat(Migrator.arriving(elsewhere, "other-" + ENV.host())).as("the target sees the arriving copy")
                .isTrue();
        assertThat(transfer("mig-none")).isNull();
    }
}
