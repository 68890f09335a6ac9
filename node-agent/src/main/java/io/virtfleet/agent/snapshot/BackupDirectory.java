package io.virtfleet.agent.snapshot;

import io.virtfleet.reconcilers.copy.BackupPlans;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * A backup's directory on the host. It is created exclusively ({@code mkdir(2)} fails if it exists: an existing
 * directory is never adopted) and marked with the uid of the VirtualMachineBackup that created it, so that cleanup
 * after a failure or an agent restart deletes files only in a directory this backup provably created.
 */
final class BackupDirectory {
    /** Holds the uid of the backup object that created the directory. */
    static final String OWNER = ".virtfleet-owner";

    private BackupDirectory() {
    }

    /** Creates {@code dir} (its parents may exist) and its owner marker; FileAlreadyExistsException if it exists. */
    static void create(Path dir, String owner) throws IOException {
        Files.createDirectories(dir.getParent());
        Files.createDirectory(dir);
        writeNew(dir.resolve(OWNER), owner);
    }

    /** Writes a new file; fails rather than overwriting or following a link planted at that name. */
    static void writeNew(Path file, String content) throws IOException {
        Files.writeString(file, content, StandardCharsets.UTF_8, StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE);
    }

    static boolean ownedBy(Path dir, String owner) {
        Path marker = dir.resolve(OWNER);
        try {
            return Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)
                    && Files.isRegularFile(marker, LinkOption.NOFOLLOW_LINKS)
                    && owner.equals(Files.readString(marker, StandardCharsets.UTF_8));
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Removes what the backup {@code owner} wrote: its partial disk copies anywhere; and, only if {@code dir} carries
     * its marker, the backup's files in it, the marker and the directory (if then empty). Returns a description of
     * what was left in place because nothing proves this backup wrote it (empty: nothing).
     */
    static String remove(Path dir, List<DiskCopier.Copy> copies, String owner) throws IOException {
        List<String> left = DiskCopier.removePartials(copies, owner);
        if (!ownedBy(dir, owner)) {
            return left.isEmpty() ? "" : "left in place (not provably written by this backup): " + left;
        }
        for (DiskCopier.Copy c : copies) {
            Path t = Path.of(c.target());
            if (dir.equals(t.getParent())) {
                Files.deleteIfExists(t);
            }
        }
        Files.deleteIfExists(dir.resolve(BackupPlans.DOMAIN_XML));
        Files.deleteIfExists(dir.resolve(BackupPlans.VM_JSON));
        Files.deleteIfExists(dir.resolve(OWNER));
        try (var rest = Files.list(dir)) {
            if (rest.findAny().isPresent()) {
                return "left " + dir + " in place: it holds files this backup did not write";
            }
        }
        Files.delete(dir);
        return "";
    }
}
