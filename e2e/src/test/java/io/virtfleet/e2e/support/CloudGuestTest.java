package io.virtfleet.e2e.support;

import io.virtfleet.api.v1alpha1.VirtualMachine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** current.env as scripts/build-cloud-guest writes it, read into a VM of the cloud guest. */
class CloudGuestTest {
    @TempDir
    Path dir;

    Path env(String... lines) throws IOException {
        for (String f : new String[] {"disk.qcow2", "vmlinuz", "initrd.img"}) {
            Files.writeString(dir.resolve(f), f);
        }
        return Files.write(dir.resolve("current.env"), java.util.List.of(lines));
    }

    @Test
    void readsTheScriptsEnvFileIntoAVmOfTheImage() throws IOException {
        Path env = env("CLOUD_GUEST_DIR=" + dir, "CLOUD_GUEST_DISK=" + dir.resolve("disk.qcow2"),
                "CLOUD_GUEST_DISK_SHA256=" + "ab".repeat(32), "CLOUD_GUEST_DISK_FORMAT=qcow2",
                "CLOUD_GUEST_KERNEL=" + dir.resolve("vmlinuz"), "CLOUD_GUEST_INITRD=" + dir.resolve("initrd.img"),
                "CLOUD_GUEST_CMDLINE='console=ttyS0 root=LABEL=vfcloudroot rw no_timer_check'",
                "CLOUD_GUEST_VERSION='scripts=0123 kernel=6.1.0-57-cloud-amd64'", "# a comment");
        CloudGuest guest = CloudGuest.read(env);
        assertThat(guest.cmdline()).isEqualTo("console=ttyS0 root=LABEL=vfcloudroot rw no_timer_check");
        assertThat(guest.fileUrl()).isEqualTo("file://" + dir.resolve("disk.qcow2"));

        VirtualMachine vm = guest.vm("ns", "c1", "http://127.0.0.1:1/disk.qcow2", dir.resolve("c1.qcow2"),
                "#cloud-config\nhostname: c1\n");
        assertThat(vm.getSpec().disks).singleElement().satisfies(d -> {
            assertThat(d.volume.image.url).isEqualTo("http://127.0.0.1:1/disk.qcow2");
            assertThat(d.volume.image.sha256).isEqualTo("ab".repeat(32));
            assertThat(d.volume.image.format).isEqualTo("qcow2");
            assertThat(d.volume.path).isEqualTo(dir.resolve("c1.qcow2").toString());
        });
        assertThat(vm.getSpec().firmware.kernelBoot.kernel).isEqualTo(dir.resolve("vmlinuz").toString());
        assertThat(vm.getSpec().cloudInit.userData).contains("hostname: c1");
    }

    @Test
    void aMissingBuildOrKeyNamesTheScript() throws IOException {
        assertThatThrownBy(() -> CloudGuest.read(dir.resolve("nothing.env")))
                .hasMessageContaining("scripts/build-cloud-guest");
        Path env = env("CLOUD_GUEST_DISK=" + dir.resolve("disk.qcow2"));
        assertThatThrownBy(() -> CloudGuest.read(env)).hasMessageContaining("CLOUD_GUEST_DISK_SHA256")
                .hasMessageContaining("scripts/build-cloud-guest");
    }
}
