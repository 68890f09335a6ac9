package io.virtfleet.agent.cloudinit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** A real seed image, read back with isoinfo(1) (Debian's genisoimage package, as installed by install-libvirt). */
class SeedImageTest {
    static final String UUID = "6f1b1b4e-2f7a-4a57-9c2e-1d3f5a7b9c0d";

    static String run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(String.join(" ", cmd) + ": " + out).isZero();
        return out;
    }

    @Test
    void theSeedIsAnIsoLabelledCidataWithTheNoCloudFiles(@TempDir Path dir) throws Exception {
        Path iso = dir.resolve("cloud-init/" + UUID + ".iso");
        new SeedImage(Duration.ofSeconds(60)).write(iso, NoCloudSeed.files(UUID, "web-1",
                "#cloud-config\nhostname: web-1\n", "version: 2\n"));

        assertThat(run("isoinfo", "-d", "-i", iso.toString())).contains("Volume id: cidata");
        assertThat(run("isoinfo", "-R", "-f", "-i", iso.toString()).lines())
                .containsExactlyInAnyOrder("/meta-data", "/network-config", "/user-data");
        assertThat(run("isoinfo", "-R", "-x", "/meta-data", "-i", iso.toString()))
                .isEqualTo("instance-id: " + UUID + "\nlocal-hostname: web-1\n");
        assertThat(run("isoinfo", "-R", "-x", "/user-data", "-i", iso.toString()))
                .isEqualTo("#cloud-config\nhostname: web-1\n");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(iso))).isEqualTo("rw-------");
        try (var s = Files.list(iso.getParent())) {
            assertThat(s.map(p -> p.getFileName().toString())).containsExactly(UUID + ".iso");
        }
    }
}
