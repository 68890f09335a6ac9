package io.virtfleet.e2e.genid;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.api.v1alpha1.VirtualMachineBackup;
import io.virtfleet.api.v1alpha1.VirtualMachineBackupSpec;
import io.virtfleet.api.v1alpha1.VirtualMachineRestore;
import io.virtfleet.api.v1alpha1.VirtualMachineRestoreSpec;
import io.virtfleet.e2e.support.Fleet;
import io.virtfleet.e2e.support.StartFleet;
import io.virtfleet.e2e.support.LibvirtGuest;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Backup: a running VM is backed up (point-in-time disk copy, domain XML, spec), deleted with its disk, and
 * recreated from the backup: it runs with the data written before the backup and a new genid (as the guest sees it),
 * recorded as BackupRestored. A restore onto an existing VM or over an existing disk fails, naming the field.
 */
class BackupRestoreTest {
    @StartFleet
    static Fleet fleet;
    static Path destination;

    @BeforeAll
    static void start() {
        destination = Fleet.IMAGES.resolve(fleet.namespace() + "-backups");
    }

    @AfterAll
    static void stop() throws IOException {
        if (destination != null && Files.exists(destination)) {
            try (Stream<Path> s = Files.walk(destination)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    @Test
    void backupDeleteRestoreGivesTheDataBackWithANewGenid() throws IOException {
        fleet.apply(fleet.testGuest("bk-1"));
        VirtualMachine vm = fleet.awaitReady("bk-1");
        LibvirtGuest guest = fleet.guest(vm);
        String g0 = vm.getStatus().genid;
        Path disk = Path.of(vm.getSpec().disks.get(0).volume.path);
        guest.awaitConsole("VIRTFLEET-GUEST-READY", Duration.ofSeconds(90));
        assertThat(guest.exec("echo kept-by-backup > /data/marker && sync && cat /data/marker").output())
                .contains("kept-by-backup");

        VirtualMachineBackup b = backup("bk-1-b1", "bk-1");
        assertThat(b.getStatus().error).isNull();
        assertThat(b.getStatus().readyToUse).isTrue();
        assertThat(b.getStatus().copyMethod).isEqualTo("backup-api");
        assertThat(b.getStatus().genid).isEqualTo(g0);
        assertThat(b.getStatus().size).isPositive();
        assertThat(b.getStatus().creationTime).isNotBlank();
        Path location = destination.resolve("bk-1-b1");
        assertThat(b.getStatus().location).isEqualTo(location.toString());
        assertThat(location.resolve("data.qcow2")).isRegularFile();
        assertThat(Files.readString(location.resolve("domain.xml"))).contains("<genid>" + g0 + "</genid>")
                .contains(disk.toString());
        assertThat(Files.readString(location.resolve("vm.json"))).contains(disk.toString());
        // the copies were linked into place: no partial file is left, and the directory names the backup that made it
        try (Stream<Path> files = Files.list(location)) {
            assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.contains(".partial-"));
        }
        assertThat(location.resolve(".virtfleet-owner")).hasContent(b.getMetadata().getUid());

        // an existing directory is never adopted nor cleaned up: that backup fails and its content is untouched
        Path taken = Files.createDirectories(destination.resolve("bk-1-b2"));
        Path theirs = Files.writeString(taken.resolve("data.qcow2"), "not a backup of bk-1");
        VirtualMachineBackup refusedBackup = backup("bk-1-b2", "bk-1");
        assertThat(refusedBackup.getStatus().phase).isEqualTo("Failed");
        assertThat(refusedBackup.getStatus().error).contains("spec.destination").contains("already exists");
        assertThat(theirs).hasContent("not a backup of bk-1");

        // a restore while the VM exists is refused, naming spec.vmName, and changes nothing
        VirtualMachineRestore refused = awaitRestore(restore("bk-1-r1", "bk-1-b1"), Duration.ofSeconds(60));
        assertThat(refused.getStatus().phase).isEqualTo("Failed");
        assertThat(refused.getStatus().error).contains("spec.vmName").contains("bk-1").contains("exists");
        assertThat(fleet.get("bk-1").getStatus().genid).isEqualTo(g0);
        assertThat(guest.genidSeenByGuest()).isEqualTo(g0);

        fleet.delete("bk-1");
        fleet.awaitDeleted("bk-1");
        // the VM is gone but its disk file is still there: a restore must not overwrite it
        assertThat(disk).isRegularFile();
        VirtualMachineRestore occupied = awaitRestore(restore("bk-1-r2", "bk-1-b1"), Duration.ofSeconds(60));
        assertThat(occupied.getStatus().phase).isEqualTo("Failed");
        assertThat(occupied.getStatus().error).contains("spec.vmName").contains(disk.toString()).contains("occupied");
        assertThat(fleet.get("bk-1")).isNull();

        // the disk is lost too; the backup brings the VM back
        Files.delete(disk);
        VirtualMachineRestore done = awaitRestore(restore("bk-1-r3", "bk-1-b1"), Duration.ofSeconds(240));
        assertThat(done.getStatus().error).isNull();
        assertThat(done.getStatus().phase).isEqualTo("Succeeded");
        assertThat(done.getStatus().previousGenid).isEqualTo(g0);
        String g1 = done.getStatus().genid;
        assertThat(g1).isNotNull().isNotEqualTo(g0);
        VirtualMachine back = fleet.await("bk-1", "Running again", Duration.ofSeconds(120),
                v -> "Running".equals(v.getStatus().printableStatus) && g1.equals(v.getStatus().genid));
        assertThat(back.getMetadata().getAnnotations()).containsEntry("virtfleet.io/restored-from-backup", "bk-1-b1");
        assertThat(back.getSpec().disks.get(0).volume.path).isEqualTo(disk.toString());
        assertThat(back.getStatus().genidHistory).extracting(h -> h.reason).containsExactly("BackupRestored");
        LibvirtGuest restored = fleet.guest(back);
        assertThat(restored.state()).isEqualTo("running");
        assertThat(restored.genidSeenByGuest()).isEqualTo(g1);
        restored.awaitConsole("VIRTFLEET-GUEST-READY", Duration.ofSeconds(90));
        assertThat(restored.exec("cat /data/marker").output()).contains("kept-by-backup");
    }

    private static VirtualMachineBackup backup(String name, String vmName) {
        VirtualMachineBackup b = new VirtualMachineBackup();
        b.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(fleet.namespace()).build());
        b.setSpec(new VirtualMachineBackupSpec());
        b.getSpec().vmName = vmName;
        b.getSpec().destination = destination.toString();
        fleet.client().resource(b).create();
        return Awaitility.await().alias("backup " + name + " done").atMost(Duration.ofSeconds(180)).until(() -> fleet
                .client().resources(VirtualMachineBackup.class).inNamespace(fleet.namespace()).withName(name).get(),
                x -> x.getStatus() != null && ("Succeeded".equals(x.getStatus().phase)
                        || "Failed".equals(x.getStatus().phase)));
    }

    private static String restore(String name, String backup) {
        VirtualMachineRestore r = new VirtualMachineRestore();
        r.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(fleet.namespace()).build());
        r.setSpec(new VirtualMachineRestoreSpec());
        r.getSpec().backupName = backup;
        fleet.client().resource(r).create();
        return name;
    }

    private static VirtualMachineRestore awaitRestore(String name, Duration timeout) {
        return Awaitility.await().alias("restore " + name + " done").atMost(timeout)
                .pollInterval(Duration.ofMillis(250)).until(() -> fleet.client().resources(VirtualMachineRestore.class)
                        .inNamespace(fleet.namespace()).withName(name).get(), r -> r != null && r.getStatus() != null
                        && ("Succeeded".equals(r.getStatus().phase) || "Failed".equals(r.getStatus().phase)));
    }
}
