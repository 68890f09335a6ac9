package io.virtfleet.agent.snapshot;

import io.virtfleet.agent.image.BackingFiles;
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
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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

    static void run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as(String.join(" ", cmd) + ": " + out).isZero();
    }

    /**
     * A guest on a raw disk wrote a qcow2 header whose backing file is a host file outside the roots: the copy must
     * be the raw bytes (the header), never the backing file's content that a probing qemu-img would read.
     */
    @Test
    void rawDiskWithAQcow2HeaderIsCopiedAsRawBytes(@TempDir Path root, @TempDir Path outside) throws Exception {
        Path secret = outside.resolve("shadow");
        byte[] marker = "TOP-SECRET-OF-ANOTHER-TENANT".getBytes();
        byte[] secretContent = new byte[1 << 20];
        for (int i = 0; i + marker.length <= secretContent.length; i += 4096) {
            System.arraycopy(marker, 0, secretContent, i, marker.length);
        }
        Files.write(secret, secretContent);
        Path disk = root.resolve("guest.img");
        // What the guest writes to its raw disk: a qcow2 image backed by the secret.
        run("qemu-img", "create", "-q", "-f", "qcow2", "-b", secret.toString(), "-F", "raw", disk.toString(), "1M");
        byte[] guestBytes = Files.readAllBytes(disk);
        DiskCopier copier = new DiskCopier(null, new PathPolicy(List.of(root.toString())), Duration.ofSeconds(60));
        Path target = root.resolve("copy.img");

        copier.qemuImgConvert(new DiskCopier.Copy(disk.toString(), target.toString(), "raw"), target.toString());

        byte[] copied = Files.readAllBytes(target);
        assertThat(new String(copied, java.nio.charset.StandardCharsets.ISO_8859_1)).doesNotContain(
                new String(marker));
        assertThat(java.util.Arrays.copyOf(copied, guestBytes.length)).isEqualTo(guestBytes);
    }

    @Test
    void qcow2DiskWithABackingFileIsRefused(@TempDir Path root, @TempDir Path outside) throws Exception {
        Path secret = Files.write(outside.resolve("shadow"), new byte[65536]);
        Path disk = root.resolve("guest.qcow2");
        run("qemu-img", "create", "-q", "-f", "qcow2", "-b", secret.toString(), "-F", "raw", disk.toString(), "1M");
        DiskCopier copier = new DiskCopier(null, new PathPolicy(List.of(root.toString())), Duration.ofSeconds(60));
        Path target = root.resolve("copy.qcow2");

        assertThatThrownBy(() -> copier.qemuImgConvert(
                new DiskCopier.Copy(disk.toString(), target.toString(), "qcow2"), target.toString()))
                .isInstanceOf(DiskCopier.CopyException.class)
                .hasMessageContaining("has a backing file outside the image cache (" + secret + ")");
        assertThat(target).doesNotExist();
    }

    /** An overlay on a base of the image cache is copied by reading through it: the copy stands alone. */
    @Test
    void overlayOnACachedBaseIsCopiedStandalone(@TempDir Path root) throws Exception {
        Path cache = Files.createDirectories(root.resolve(io.virtfleet.agent.image.ImageCache.DIRECTORY));
        Path base = cache.resolve("ab".repeat(32) + ".raw");
        byte[] content = new byte[1 << 20];
        byte[] marker = "BASE-CONTENT".getBytes();
        System.arraycopy(marker, 0, content, 4096, marker.length);
        Files.write(base, content);
        Path disk = root.resolve("vm.qcow2");
        run("qemu-img", "create", "-q", "-f", "qcow2", "-b", base.toString(), "-F", "raw", disk.toString());
        DiskCopier copier = new DiskCopier(null, new PathPolicy(List.of(root.toString())), Duration.ofSeconds(60));
        Path target = root.resolve("copy.qcow2");

        copier.qemuImgConvert(new DiskCopier.Copy(disk.toString(), target.toString(), "qcow2"), target.toString());

        Process info = new ProcessBuilder("qemu-img", "info", "--output=json", "-f", "qcow2", target.toString())
                .redirectErrorStream(true).start();
        assertThat(BackingFiles.inInfoJson(new String(info.getInputStream().readAllBytes()))).isEmpty();
        Path raw = root.resolve("copy.raw");
        run("qemu-img", "convert", "-f", "qcow2", "-O", "raw", target.toString(), raw.toString());
        assertThat(Files.readAllBytes(raw)).isEqualTo(content);
    }

    @Test
    void standaloneQcow2IsCopied(@TempDir Path root) throws Exception {
        Path disk = root.resolve("plain.qcow2");
        run("qemu-img", "create", "-q", "-f", "qcow2", disk.toString(), "1M");
        DiskCopier copier = new DiskCopier(null, new PathPolicy(List.of(root.toString())), Duration.ofSeconds(60));
        Path target = root.resolve("copy.qcow2");
        copier.qemuImgConvert(new DiskCopier.Copy(disk.toString(), target.toString(), "qcow2"), target.toString());
        assertThat(target).isRegularFile();
    }

    @Test
    void readsTheBackingFileFromQemuImgInfo() {
        assertThat(BackingFiles.inInfoJson("{\"virtual-size\": 1048576, \"backing-filename\": \"/etc/sh\\\"adow\","
                + " \"format\": \"qcow2\"}")).contains("/etc/sh\\\"adow");
        assertThat(BackingFiles.inInfoJson("{\"virtual-size\": 1048576, \"format\": \"qcow2\"}")).isEmpty();
    }

    @Test
    void copiesFilesThroughAPartialFileAndLeavesNoPartial(@TempDir Path root) throws Exception {
        DiskCopier copier = new DiskCopier(null, new PathPolicy(List.of(root.toString())), Duration.ofSeconds(60));
        Path backup = Files.createDirectory(root.resolve("backup"));
        Path src = Files.writeString(backup.resolve("b.qcow2"), "backup bytes");
        Path target = root.resolve("vm/disk.qcow2");
        DiskCopier.Copy c = new DiskCopier.Copy(src.toString(), target.toString(), "qcow2");

        assertThat(copier.copyFiles(List.of(c), "uid-1", backup.toString())).isEqualTo(12);

        assertThat(target).hasContent("backup bytes");
        assertThat(DiskCopier.partial(c, "uid-1")).doesNotExist();
    }

    @Test
    void publishingNeverReplacesATargetThatAppearedMeanwhile(@TempDir Path root) throws Exception {
        Path target = Files.writeString(root.resolve("disk.qcow2"), "someone else's disk");
        DiskCopier.Copy c = new DiskCopier.Copy("/x/src.qcow2", target.toString(), "qcow2");
        Files.writeString(DiskCopier.partial(c, "uid-1"), "our copy");

        assertThatThrownBy(() -> DiskCopier.publish(List.of(c), "uid-1"))
                .hasMessageContaining("already occupied");
        assertThat(DiskCopier.removePartials(List.of(c), "uid-1")).isEmpty(); // the target is not our inode

        assertThat(target).hasContent("someone else's disk");
        assertThat(DiskCopier.partial(c, "uid-1")).doesNotExist();
    }

    @Test
    void cleanupRemovesOnlyThisOwnersPartialsAndTheTargetsLinkedToThem(@TempDir Path root) throws Exception {
        // a: interrupted between link and unlink (target is our inode); b: the target belongs to someone else;
        // c: another object's partial file.
        DiskCopier.Copy a = new DiskCopier.Copy("/x/a", root.resolve("a.qcow2").toString(), "qcow2");
        DiskCopier.Copy b = new DiskCopier.Copy("/x/b", root.resolve("b.qcow2").toString(), "qcow2");
        Files.writeString(DiskCopier.partial(a, "uid-1"), "ours");
        Files.createLink(Path.of(a.target()), DiskCopier.partial(a, "uid-1"));
        Files.writeString(DiskCopier.partial(b, "uid-1"), "ours");
        Files.writeString(Path.of(b.target()), "theirs");
        Files.writeString(DiskCopier.partial(b, "uid-2"), "other object's");

        DiskCopier.removePartials(List.of(a, b), "uid-1");

        assertThat(Path.of(a.target())).doesNotExist();
        assertThat(DiskCopier.partial(a, "uid-1")).doesNotExist();
        assertThat(Path.of(b.target())).hasContent("theirs");
        assertThat(DiskCopier.partial(b, "uid-1")).doesNotExist();
        assertThat(DiskCopier.partial(b, "uid-2")).hasContent("other object's");
    }

    @Test
    void aPartialNameThatIsASymlinkToATargetDoesNotMakeTheTargetOurs(@TempDir Path root) throws Exception {
        DiskCopier.Copy a = new DiskCopier.Copy("/x/a", root.resolve("a.qcow2").toString(), "qcow2");
        Files.writeString(Path.of(a.target()), "theirs");
        Files.createSymbolicLink(DiskCopier.partial(a, "uid-1"), Path.of(a.target()));

        DiskCopier.removePartials(List.of(a), "uid-1");

        assertThat(Path.of(a.target())).hasContent("theirs");
    }

    @Test
    void restoreSourcesMustBeInsideTheBackupsDirectory(@TempDir Path root, @TempDir Path outside) throws Exception {
        DiskCopier copier = new DiskCopier(null, new PathPolicy(List.of(root.toString())), Duration.ofSeconds(60));
        Path backup = Files.createDirectory(root.resolve("backup"));
        Path otherTenant = Files.writeString(root.resolve("other-tenant.qcow2"), "other tenant's disk");
        Path shadow = Files.writeString(outside.resolve("shadow"), "root:secret");
        Path link = Files.createSymbolicLink(backup.resolve("disk.qcow2"), otherTenant);
        String target = root.resolve("vm/disk.qcow2").toString();

        for (Path source : List.of(shadow, otherTenant, link)) {
            assertThatThrownBy(() -> copier.copyFiles(List.of(new DiskCopier.Copy(source.toString(), target, "qcow2")),
                    "uid-1", backup.toString()))
                    .as(source.toString())
                    .isInstanceOf(DiskCopier.CopyException.class)
                    .hasMessageContaining("the backup file path " + source)
                    .hasMessageContaining(source == shadow ? "outside the allowed roots" : "is not inside " + backup);
            assertThat(Path.of(target)).doesNotExist();
        }
    }
}
