package io.virtfleet.agent.snapshot;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BackupDirectoryTest {
    @Test
    void anExistingDirectoryIsNeverAdoptedNorCleanedUp(@TempDir Path root) throws Exception {
        Path dir = Files.createDirectory(root.resolve("b1"));
        Path theirs = Files.writeString(dir.resolve("disk.qcow2"), "an older backup's disk");
        Files.writeString(dir.resolve("domain.xml"), "<domain/>");
        DiskCopier.Copy c = new DiskCopier.Copy("/x/disk.qcow2", theirs.toString(), "qcow2");

        assertThatThrownBy(() -> BackupDirectory.create(dir, "uid-1")).isInstanceOf(FileAlreadyExistsException.class);
        BackupDirectory.remove(dir, List.of(c), "uid-1");

        assertThat(theirs).hasContent("an older backup's disk");
        assertThat(dir.resolve("domain.xml")).exists();
        assertThat(dir.resolve(BackupDirectory.OWNER)).doesNotExist();
    }

    @Test
    void filesAreWrittenOnlyAsNewFiles(@TempDir Path root) throws Exception {
        Path f = Files.writeString(root.resolve("vm.json"), "old");
        assertThatThrownBy(() -> BackupDirectory.writeNew(f, "new")).isInstanceOf(FileAlreadyExistsException.class);
        assertThat(f).hasContent("old");
    }

    @Test
    void removesEverythingOfADirectoryThisBackupCreated(@TempDir Path root) throws Exception {
        Path dir = root.resolve("dest/b1");
        BackupDirectory.create(dir, "uid-1");
        DiskCopier.Copy c = new DiskCopier.Copy("/x/disk.qcow2", dir.resolve("disk.qcow2").toString(), "qcow2");
        Files.writeString(Path.of(c.target()), "copied");
        Files.writeString(DiskCopier.partial(c, "uid-1"), "partial");
        BackupDirectory.writeNew(dir.resolve("domain.xml"), "<domain/>");

        assertThat(BackupDirectory.remove(dir, List.of(c), "uid-1")).isEmpty();

        assertThat(dir).doesNotExist();
        assertThat(root.resolve("dest")).isDirectory();
    }

    @Test
    void aDirectoryCreatedByAnotherBackupIsLeftAlone(@TempDir Path root) throws Exception {
        Path dir = root.resolve("b1");
        BackupDirectory.create(dir, "uid-2");
        Path theirs = Files.writeString(dir.resolve("disk.qcow2"), "uid-2's disk");
        DiskCopier.Copy c = new DiskCopier.Copy("/x/disk.qcow2", theirs.toString(), "qcow2");

        BackupDirectory.remove(dir, List.of(c), "uid-1");

        assertThat(theirs).hasContent("uid-2's disk");
        assertThat(BackupDirectory.ownedBy(dir, "uid-2")).isTrue();
    }

    @Test
    void aForeignFileInOurDirectoryKeepsTheDirectory(@TempDir Path root) throws Exception {
        Path dir = root.resolve("b1");
        BackupDirectory.create(dir, "uid-1");
        Path foreign = Files.writeString(dir.resolve("notes.txt"), "not ours");

        assertThat(BackupDirectory.remove(dir, List.of(), "uid-1")).contains("left " + dir);

        assertThat(foreign).hasContent("not ours");
    }
}
