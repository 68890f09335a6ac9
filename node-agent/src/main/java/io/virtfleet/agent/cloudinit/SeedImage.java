package io.virtfleet.agent.cloudinit;

import io.virtfleet.agent.host.HostProgram;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Writes a NoCloud seed as an ISO 9660 image with Rock Ridge and Joliet names and the volume label {@code cidata}
 * (what cloud-init's NoCloud source looks for), with genisoimage(1) from Debian's genisoimage package. The files are
 * staged in a private (0700) directory next to the image and the image is written as {@code NAME.partial} and then
 * renamed, so a VM never gets a half-written seed. The seed may hold Secret content: it is made 0600, and the staging
 * directory is removed whatever happens.
 */
public final class SeedImage {
    private final Duration timeout;

    public SeedImage(Duration timeout) {
        this.timeout = timeout;
    }

    public void write(Path iso, Map<String, byte[]> files) throws IOException {
        Path dir = iso.getParent();
        Files.createDirectories(dir);
        Path stage = Files.createTempDirectory(dir, ".seed-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Path partial = dir.resolve(iso.getFileName() + ".partial");
        try {
            for (Map.Entry<String, byte[]> f : files.entrySet()) {
                Files.write(stage.resolve(f.getKey()), f.getValue());
            }
            Files.deleteIfExists(partial);
            Files.createFile(partial, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            run(List.of(genisoimage(), "-quiet", "-output", partial.toString(), "-volid", NoCloudSeed.LABEL,
                    "-joliet", "-rock", stage.toString()));
            Files.move(partial, iso, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(partial);
            try (Stream<Path> s = Files.walk(stage)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private static String genisoimage() {
        // scripts/install-libvirt installs Debian's genisoimage.
        return HostProgram.path("genisoimage");
    }

    private void run(List<String> cmd) throws IOException {
        // -quiet: its output is at most an error line.
        HostProgram.Outcome r = HostProgram.run(cmd, timeout, "genisoimage");
        if (r.exitCode() != 0) {
            throw new IOException("genisoimage failed (is Debian's genisoimage installed? scripts/install-libvirt): "
                    + r.output());
        }
    }
}
