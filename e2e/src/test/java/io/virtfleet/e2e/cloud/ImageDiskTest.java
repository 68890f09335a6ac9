package io.virtfleet.e2e.cloud;

import io.fabric8.kubernetes.api.model.Quantity;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.api.v1alpha1.VirtualMachineSpec;
import io.virtfleet.e2e.support.Fleet;
import io.virtfleet.e2e.support.LibvirtGuest;
import io.virtfleet.e2e.support.StartFleet;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Disks from images, blank disks and the cloud-init seed, end to end on the real stack with the test guest: the image
 * is served by a loopback HTTP server of the test (its own bytes, so no earlier run has it cached), the host
 * downloads it once into its image cache, each VM's disk is a qcow2 overlay on that base, and what the guest reads
 * (its data filesystem through the overlay, the blank disk's size, the seed's meta-data) is asserted in the guest.
 */
class ImageDiskTest {
    @StartFleet
    static Fleet fleet;
    static ServedImages http;
    static Path image;
    static String sha256;
    static final AtomicInteger downloads = new AtomicInteger();

    @BeforeAll
    static void start() throws Exception {
        // The test guest's data filesystem as a raw image, plus one sector naming this run: a SHA-256 of its own.
        image = Files.createTempFile("vf-e2e-image-", ".raw");
        ImageChecks.run("qemu-img", "convert", "-f", "qcow2", "-O", "raw", Fleet.TEST_GUEST.resolve("data.qcow2").toString(),
                image.toString());
        sha256 = ServedImages.markAndHash(image, "virtfleet e2e image " + UUID.randomUUID());

        http = new ServedImages();
        http.serve("/images/guest.raw", image, downloads);
        http.start();
    }

    @AfterAll
    static void stop() throws IOException {
        if (http != null) {
            http.stop(0);
        }
        if (image != null) {
            Files.deleteIfExists(image);
        }
        if (sha256 != null) {
            Files.deleteIfExists(Path.of("/var/lib/virtfleet/image-cache/" + sha256 + ".raw"));
        }
    }

    static String url() {
        return http.url("/images/guest.raw");
    }

    Path diskPath(String vm, String disk) {
        return Fleet.IMAGES.resolve("e2e-" + fleet.namespace() + "-" + vm + "-" + disk + ".qcow2");
    }

    /** The test guest with its data disk made from the served image, a blank scratch disk and cloud-init user data. */
    VirtualMachine cloudGuest(String name, String sha) {
        VirtualMachine vm = fleet.testGuest(name);
        VirtualMachineSpec.Disk data = vm.getSpec().disks.get(0);
        data.volume = new VirtualMachineSpec.Volume();
        data.volume.path = diskPath(name, "data").toString();
        data.volume.image = new VirtualMachineSpec.Image();
        data.volume.image.url = url();
        data.volume.image.sha256 = sha;
        data.volume.image.format = "raw";
        VirtualMachineSpec.Disk scratch = new VirtualMachineSpec.Disk();
        scratch.name = "scratch";
        scratch.bus = "virtio";
        scratch.volume = new VirtualMachineSpec.Volume();
        scratch.volume.path = diskPath(name, "scratch").toString();
        scratch.volume.size = new Quantity("16Mi");
        vm.getSpec().disks.add(scratch);
        vm.getSpec().cloudInit = new VirtualMachineSpec.CloudInit();
        vm.getSpec().cloudInit.userData = "#cloud-config\nhostname: " + name + "\n";
        return vm;
    }

    @Test
    void vmsOfOneImageShareOneDownloadSeeTheirDisksAndSeedAndLeaveTheBaseWhenDeleted() throws Exception {
        fleet.apply(cloudGuest("img-a", sha256));
        VirtualMachine a = fleet.awaitReady("img-a");
        String base = "/var/lib/virtfleet/image-cache/" + sha256 + ".raw";
        assertThat(Path.of(base)).isRegularFile();
        assertThat(qemuImgInfo(diskPath("img-a", "data"))).contains("\"backing-filename\": \"" + base + "\"")
                .contains("\"backing-filename-format\": \"raw\"");
        assertThat(qemuImgInfo(diskPath("img-a", "scratch"))).contains("\"virtual-size\": " + (16 << 20))
                .doesNotContain("backing-filename");

        LibvirtGuest guest = fleet.guest(a);
        // The guest reads the image's filesystem through its overlay, and sees the blank disk's size.
        Awaitility.await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
                assertThat(guest.exec("grep ' /data ' /proc/mounts && ls /data").output()).contains("/data"));
        String sizes = guest.exec("for d in /sys/block/vd*; do echo \"$(cat $d/serial) $(cat $d/size)\"; done")
                .output();
        assertThat(sizes).contains("scratch " + (16 << 20) / 512);
        // The seed: a read-only disk whose filesystem is labelled cidata (found by label, as cloud-init does) with
        // the NoCloud files; instance-id = the VM's SMBIOS UUID.
        String seed = guest.exec("mkdir -p /mnt/seed && (grep -q ' /mnt/seed ' /proc/mounts || mount -t iso9660 -o ro "
                + "$(findfs LABEL=cidata) /mnt/seed) && cat /mnt/seed/meta-data /mnt/seed/user-data").output();
        assertThat(seed).contains("instance-id: " + a.getStatus().uuid).contains("local-hostname: img-a")
                .contains("hostname: img-a");
        Domain da = fleet.domain("img-a");
        assertThat(da.getSpec().domainXml).as("user data is in the seed, not the domain XML")
                .doesNotContain("hostname: img-a");
        assertThat(da.getStatus().createdDisks).containsExactlyInAnyOrder(diskPath("img-a", "data").toString(),
                diskPath("img-a", "scratch").toString());
        assertThat(downloads.get()).as("downloads of the image").isEqualTo(1);

        // A second VM of the same image: its own overlay on the same base, no second download.
        fleet.apply(cloudGuest("img-b", sha256));
        fleet.awaitReady("img-b");
        assertThat(qemuImgInfo(diskPath("img-b", "data"))).contains("\"backing-filename\": \"" + base + "\"");
        assertThat(downloads.get()).as("downloads after the second VM").isEqualTo(1);

        // Deleting the first VM removes its overlay, blank disk and seed, never the base the second VM reads.
        Path seedFile = Path.of("/var/lib/virtfleet/cloud-init/" + a.getStatus().uuid + ".iso");
        assertThat(seedFile).isRegularFile();
        fleet.client().resource(fleet.get("img-a")).delete();
        Awaitility.await().atMost(Duration.ofSeconds(90)).until(() -> fleet.get("img-a") == null
                && fleet.domain("img-a") == null);
        assertThat(diskPath("img-a", "data")).doesNotExist();
        assertThat(diskPath("img-a", "scratch")).doesNotExist();
        assertThat(seedFile).doesNotExist();
        assertThat(Path.of(base)).isRegularFile();
        assertThat(fleet.guest(fleet.get("img-b")).state()).isEqualTo("running");
    }

    @Test
    void aWrongChecksumIsAFailureNamingTheFieldAndDefinesNothing() {
        String wrong = "0".repeat(64);
        ImageChecks.assertWrongChecksumRefused(fleet, cloudGuest("img-wrong", wrong), sha256, wrong,
                Duration.ofSeconds(60));
        assertThat(diskPath("img-wrong", "data")).doesNotExist();
        assertThat(Path.of("/var/lib/virtfleet/image-cache/" + wrong + ".raw")).doesNotExist();
    }

    /**
     * User data from a Secret reaches the guest through the seed, and its content appears in no Domain, Event, VM or
     * Domain status, nor in a log line of the operator or agent (both run in this JVM; their log goes to stderr).
     */
    @Test
    void secretUserDataReachesTheGuestAndNothingElse() throws Exception {
        String marker = "vf-secret-" + UUID.randomUUID();
        fleet.client().secrets().inNamespace(fleet.namespace()).resource(new io.fabric8.kubernetes.api.model
                .SecretBuilder().withNewMetadata().withName("img-s-user").endMetadata()
                .addToStringData("userdata", "#cloud-config\nwrite_files:\n- path: /etc/vf-marker\n  content: "
                        + marker + "\n").build()).create();
        io.virtfleet.e2e.support.StderrCapture log = io.virtfleet.e2e.support.StderrCapture.start();
        try {
            VirtualMachine vm = cloudGuest("img-s", sha256);
            vm.getSpec().cloudInit.userData = null;
            vm.getSpec().cloudInit.userDataSecretRef = new VirtualMachineSpec.SecretRef();
            vm.getSpec().cloudInit.userDataSecretRef.name = "img-s-user";
            fleet.apply(vm);
            LibvirtGuest guest = fleet.guest(fleet.awaitReady("img-s"));
            String seen = guest.exec("mkdir -p /mnt/seed && (grep -q ' /mnt/seed ' /proc/mounts || mount -t iso9660 "
                    + "-o ro $(findfs LABEL=cidata) /mnt/seed) && cat /mnt/seed/user-data").output();
            assertThat(seen).as("the guest reads the Secret's user data").contains(marker);
        } finally {
            log.close();
        }
        var json = fleet.client().getKubernetesSerialization();
        String everything = json.asJson(fleet.client().resources(Domain.class).inNamespace(fleet.namespace()).list())
                + json.asJson(fleet.client().resources(VirtualMachine.class).inNamespace(fleet.namespace()).list())
                + json.asJson(fleet.client().v1().events().inNamespace(fleet.namespace()).list())
                + json.asJson(fleet.client().events().v1().events().inNamespace(fleet.namespace()).list());
        assertThat(everything).as("Domains, VMs (spec and status) and Events").contains("img-s-user")
                .doesNotContain(marker);
        assertThat(log.text()).as("operator and agent log").contains("img-s")
                .doesNotContain(marker);
        assertThat(guestXml("img-s")).doesNotContain(marker);
    }

    String guestXml(String vm) {
        return fleet.guest(fleet.get(vm)).persistentXml();
    }

    static String qemuImgInfo(Path disk) throws Exception {
        return ImageChecks.run("qemu-img", "info", "-U", "--output=json", "-f", "qcow2", disk.toString());
    }
}
