package io.virtfleet.agent.snapshot;

import io.virtfleet.agent.domain.PathPolicy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The pure parts of {@link DiskCopier}; the copies themselves run against libvirtd in e2e CloneTest. */
class DiskCopierTest {
    static final String XML = """
            <domain><devices>
              <disk type='file' device='disk'><driver name='qemu' type='qcow2'/>
                <source file='/var/lib/virtfleet/images/web-root.qcow2' index='2'/><target dev='vda' bus='virtio'/></disk>
              <disk type='file' device='cdrom'><driver name='qemu' type='raw'/><target dev='sda' bus='sata'/></disk>
              <disk type="file" device="disk"><source file="/var/lib/virtfleet/d/web.img"/><target dev="vdb"/></disk>
            </devices></domain>""";

    @Test
    void findsEachFileBackedDisksDevice() {
        assertThat(DiskCopier.devicesBySource(XML)).containsExactly(
                Map.entry("/var/lib/virtfleet/images/web-root.qcow2", "vda"),
                Map.entry("/var/lib/virtfleet/d/web.img", "vdb"));
    }

    @Test
    void backupRequestListsOnlyTheDisksToCopy() {
        Map<String, DiskCopier.Copy> byDev = new LinkedHashMap<>();
        byDev.put("vda", new DiskCopier.Copy("/a/web.qcow2", "/a/web-2-root.qcow2", "qcow2"));
        assertThat(DiskCopier.backupXml(byDev)).isEqualTo("<domainbackup mode='push'><disks><disk name='vda' "
                + "type='file'><target file='/a/web-2-root.qcow2'/><driver type='qcow2'/></disk></disks>"
                + "</domainbackup>");
    }

    @Test
    void refusesTargetsOutsideTheRootsOrAlreadyThere(@TempDir Path root) throws Exception {
        DiskCopier copier = new DiskCopier(null, new PathPolicy(List.of(root.toString())), Duration.ofSeconds(1));
        Path taken = Files.createFile(root.resolve("taken.qcow2"));
        assertThat(copier.targetProblems(List.of(
                new DiskCopier.Copy("/x/a.qcow2", root.resolve("free.qcow2").toString(), "qcow2")))).isEmpty();
        assertThat(copier.targetProblems(List.of(new DiskCopier.Copy("/x/a.qcow2", taken.toString(), "qcow2"))))
                .singleElement().asString().contains("already occupied");
        assertThat(copier.targetProblems(List.of(new DiskCopier.Copy("/x/a.qcow2", "/etc/evil.qcow2", "qcow2"))))
                .singleElement().asString().contains("outside the allowed roots");
        assertThat(copier.targetProblems(List.of(
                new DiskCopier.Copy("/x/a.vmdk", root.resolve("b.vmdk").toString(), "vmdk"))))
                .singleElement().asString().contains("cannot be copied");
    }
}
