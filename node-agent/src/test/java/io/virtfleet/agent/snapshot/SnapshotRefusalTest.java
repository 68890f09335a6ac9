package io.virtfleet.agent.snapshot;

import io.virtfleet.agent.TestEnv;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What {@link SnapshotOps} refuses before it asks libvirt for a snapshot, against libvirt's test driver
 * ({@code test:///default}, in this process, no QEMU): the decision is made from the domain's persistent XML, and
 * libvirt's snapshot list shows that nothing was taken. Snapshots themselves (memory state, genid) need QEMU:
 * {@link SnapshotOpsTest}.
 */
class SnapshotRefusalTest {
    @RegisterExtension
    static final TestEnv.LibvirtFixture LIBVIRT = TestEnv.LibvirtFixture.connected("test:///default");

    @Test
    void aRawDiskIsRefusedAndNothingChanges() throws Exception {
        String uuid = UUID.randomUUID().toString();
        String name = TestEnv.newDomainName();
        LIBVIRT.connection().define("<domain type='test'><name>" + name + "</name><uuid>" + uuid + "</uuid>"
                + "<memory unit='MiB'>64</memory><os><type>hvm</type></os><devices>"
                + "<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
                + "<source file='" + TestEnv.IMAGES.resolve(name + "-data.raw") + "'/><target dev='vda'/></disk>"
                + "</devices></domain>");
        try {
            SnapshotOps ops = new SnapshotOps(LIBVIRT.connection());
            assertThatThrownBy(() -> ops.create(uuid, "s1")).isInstanceOf(SnapshotOps.SnapshotException.class)
                    .hasMessageContaining("qcow2").hasMessageContaining("vda (raw)");
            String[] snapshots = LIBVIRT.connection().call(c -> c.domainLookupByUUIDString(uuid).snapshotListNames());
            assertThat(snapshots).isEmpty();
        } finally {
            LIBVIRT.connection().undefine(uuid, 0);
        }
    }
}
