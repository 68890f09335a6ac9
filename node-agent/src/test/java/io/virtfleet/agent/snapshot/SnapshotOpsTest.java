package io.virtfleet.agent.snapshot;

import io.virtfleet.agent.TestEnv;
import io.virtfleet.reconcilers.domain.xml.DomainDocument;
import io.virtfleet.reconcilers.genid.GenidPolicy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Against the real libvirtd with the test guest: internal snapshots and reverts with a fresh genid. QEMU itself
 * matters here: libvirt's QEMU driver generates a new generation ID when a revert starts a new QEMU process (libvirt's
 * domain XML documentation, "genid"), and only QEMU saves memory state into a qcow2 internal snapshot.
 */
class SnapshotOpsTest {
    @RegisterExtension
    static final TestEnv.LibvirtFixture LIBVIRT = TestEnv.LibvirtFixture.connected(TestEnv.URI);

    @Test
    void nonQcow2DisksAreNamed() throws Exception {
        String xml = "<domain><devices><disk type='file' device='disk'><driver name='qemu' type='raw'/>"
                + "<source file='/x.img'/><target dev='vda' bus='virtio'/></disk>"
                + "<disk type='file' device='cdrom'><driver name='qemu' type='raw'/><target dev='sda'/></disk>"
                + "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/y.qcow2'/>"
                + "<target dev='vdb'/></disk></devices></domain>";
        assertThat(SnapshotOps.nonQcow2Disks(DomainDocument.parse(xml))).containsExactly("vda (raw)");
    }

    @Test
    void revertToARunningSnapshotGivesANewGenidLiveAndPersistentAndDropsLaterWrites() throws Exception {
        TestEnv.Guest g = TestEnv.guest("snapshot-test", "default");
        try {
            virshDefine(g);
            assertThat(TestEnv.virsh("start", g.name()).rc()).isZero();
            awaitReady(g.name());
            SnapshotOps ops = new SnapshotOps(LIBVIRT.connection());
            String genid0 = SnapshotOps.genidOf(TestEnv.virsh("dumpxml", g.name()).out());
            assertThat(genid0).isNotNull();

            SnapshotOps.Taken taken = ops.create(g.uuid(), "s1");
            assertThat(taken.state()).isEqualTo("Running");
            assertThat(taken.genid()).isEqualTo(genid0);
            assertThatThrownBy(() -> ops.create(g.uuid(), "s1")).hasMessageContaining("already has a snapshot");
            assertThat(ops.exists(g.uuid(), "s1")).isTrue();

            assertThat(exec(g.name(), "echo x > /data/marker && sync && cat /data/marker").out()).contains("x");
            String planned1 = "11111111-1111-4111-8111-111111111111";
            SnapshotOps.Reverted r = ops.revert(g.uuid(), "s1", new GenidPolicy.Stamp(planned1, 1));
            assertThat(r.state()).isEqualTo("Running");
            // a new QEMU: libvirt generates its genid, one generation above the planned one
            assertThat(r.genidGeneration()).isEqualTo(2L);
            assertThat(r.previousGenid()).isEqualTo(genid0);
            assertThat(r.genid()).isNotEqualTo(genid0);
            assertThat(qemuGenid(g.name())).isEqualTo(r.genid());
            assertThat(SnapshotOps.genidOf(TestEnv.virsh("dumpxml", "--inactive", g.name()).out()))
                    .isEqualTo(r.genid());
            assertThat(TestEnv.state(g.uuid())).isEqualTo("running");
            assertThat(exec(g.name(), "ls /data").out()).doesNotContain("marker");

            // a plain restart keeps the new genid
            TestEnv.virsh("destroy", g.name());
            TestEnv.virsh("start", g.name());
            assertThat(qemuGenid(g.name())).isEqualTo(r.genid());

            // a snapshot of the stopped domain: revert, and the next start runs with yet another genid
            TestEnv.virsh("destroy", g.name());
            assertThat(ops.create(g.uuid(), "s2").state()).isEqualTo("Shutoff");
            String planned2 = "22222222-2222-4222-8222-222222222222";
            SnapshotOps.Reverted r2 = ops.revert(g.uuid(), "s2", new GenidPolicy.Stamp(planned2, 3));
            assertThat(r2.state()).isEqualTo("Shutoff");
            assertThat(r2.genid()).isEqualTo(planned2);
            assertThat(r2.genidGeneration()).isEqualTo(3L);
            // the second revert of a stopped domain to the same snapshot gets the next planned genid, not the first
            String planned3 = "33333333-3333-4333-8333-333333333333";
            SnapshotOps.Reverted r3 = ops.revert(g.uuid(), "s2", new GenidPolicy.Stamp(planned3, 4));
            assertThat(r3.genid()).isEqualTo(planned3);
            String inactive = TestEnv.virsh("dumpxml", "--inactive", g.name()).out();
            assertThat(SnapshotOps.genidOf(inactive)).isEqualTo(planned3);
            assertThat(inactive).contains("genidGeneration=\"4\"").contains("specHash=\"reverted\"");
            TestEnv.virsh("start", g.name());
            assertThat(qemuGenid(g.name())).isEqualTo(planned3);

            ops.delete(g.uuid(), "s1");
            ops.delete(g.uuid(), "s1");
            assertThat(ops.exists(g.uuid(), "s1")).isFalse();
            assertThatThrownBy(() -> ops.revert(g.uuid(), "s1", new GenidPolicy.Stamp(planned3, 5)))
                    .hasMessageContaining("no snapshot named s1");
        } finally {
            TestEnv.removeDomain(g);
        }
    }

    /**
     * Found by the fault-injection driver: the agent killed after libvirt took a snapshot and before the request's
     * status said so; the next agent's retry found the name taken and wrote Failed (with no vmUuid, so the snapshot
     * left in the VM's qcow2 was never deleted). The request's own snapshot is now recognized by its uid.
     */
    @Test
    void aSnapshotRequestRetriedAfterTheAgentDiedFindsItsOwnSnapshotAndAnotherRequestIsRefused() throws Exception {
        TestEnv.Guest g = TestEnv.guest("snapshot-retry", "default");
        try {
            virshDefine(g);
            SnapshotOps ops = new SnapshotOps(LIBVIRT.connection());
            String uid = "6b1f7e0c-5d2a-4f0e-9c1b-0d4f3e2a1b00";
            SnapshotOps.Taken first = ops.create(g.uuid(), "s1", uid);
            assertThat(first.state()).isEqualTo("Shutoff");

            SnapshotOps.Taken again = ops.create(g.uuid(), "s1", uid);
            assertThat(again).isEqualTo(first);
            assertThat(TestEnv.virsh("snapshot-list", "--name", g.name()).out().strip()).isEqualTo("s1");

            assertThatThrownBy(() -> ops.create(g.uuid(), "s1", "7c2a8f1d-6e3b-4a1f-8d2c-1e5a4f3b2c11"))
                    .hasMessageContaining("already has a snapshot named s1");
            assertThatThrownBy(() -> ops.create(g.uuid(), "s1")).hasMessageContaining("already has a snapshot");
        } finally {
            TestEnv.removeDomain(g);
        }
    }

    /** Defines the guest (not started) in libvirtd through {@code virsh define}, from a file as virsh wants it. */
    private static void virshDefine(TestEnv.Guest g) throws IOException {
        Path xml = Files.createTempFile("snap", ".xml");
        try {
            Files.writeString(xml, g.xml());
            assertThat(TestEnv.virsh("define", xml.toString()).rc()).isZero();
        } finally {
            Files.deleteIfExists(xml);
        }
    }

    private static String qemuGenid(String name) {
        String out = TestEnv.virsh("qemu-monitor-command", name, "{\"execute\":\"query-vm-generation-id\"}").out();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"guid\":\"([0-9a-f-]{36})\"").matcher(out);
        assertThat(m.find()).as(out).isTrue();
        return m.group(1);
    }

    private static void awaitReady(String name) throws Exception {
        Path log = TestEnv.RUN_DIR.resolve(name + ".console.log");
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            if (Files.exists(log) && Files.readString(log).contains("VIRTFLEET-GUEST-READY")) {
                return;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("guest " + name + " not ready: " + (Files.exists(log) ? Files.readString(log) : ""));
    }

    private static TestEnv.Result exec(String name, String cmd) {
        Path script = Path.of("..", "scripts", "guest-exec").toAbsolutePath().normalize();
        TestEnv.Result r = TestEnv.run(60, script.toString(), TestEnv.RUN_DIR.resolve(name + ".cmd.sock").toString(),
                cmd);
        assertThat(r.rc()).as(r.out()).isZero();
        return r;
    }

    @Test
    void readOnlyDisksLikeTheCloudInitSeedDoNotPreventASnapshot() throws Exception {
        String xml = "<domain><devices>"
                + "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/a.qcow2'/>"
                + "<target dev='vda'/></disk>"
                + "<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='/seed.iso'/>"
                + "<target dev='vdb'/><readonly/></disk>"
                + "<disk type='file' device='cdrom'><driver name='qemu' type='raw'/><source file='/x.iso'/>"
                + "<target dev='sda'/><readonly/></disk>"
                + "<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='/rw.raw'/>"
                + "<target dev='vdc'/></disk></devices></domain>";
        assertThat(SnapshotOps.nonQcow2Disks(DomainDocument.parse(xml))).containsExactly("vdc (raw)");
    }
}
