package io.virtfleet.e2e.genid;

import io.virtfleet.api.v1alpha1.ApiGroup;
import io.virtfleet.api.v1alpha1.RunStrategy;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.api.v1alpha1.VirtualMachineClone;
import io.virtfleet.e2e.support.Fleet;
import io.virtfleet.e2e.support.StartFleet;
import io.virtfleet.e2e.support.LibvirtGuest;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Clone: a running VM cloned with a point-in-time copy of its data disk gives two VMs running side by side
 * with different UUIDs, MACs and genids (as the guests see them), and independent disks; a clone onto an existing
 * name fails naming spec.target and changes nothing; a stopped VM is cloned with qemu-img.
 */
class CloneTest {
    @StartFleet
    static Fleet fleet;
    static final List<Path> copies = new ArrayList<>();
    /** A host bridge of this test's own, for a NIC whose MAC the clone must not copy. */
    static String bridge;

    @BeforeAll
    static void start() {
        // The clones' disks and NICs use these: they go once the fleet deleted its VMs.
        fleet.afterClose(() -> {
            for (Path p : copies) {
                Files.deleteIfExists(p);
            }
        });
        bridge = "vfcl" + fleet.namespace().substring(4);
        LibvirtGuest.Result add = run("ip", "link", "add", "name", bridge, "type", "bridge");
        assertThat(add.ok()).as(add.output()).isTrue();
        fleet.afterClose(() -> run("ip", "link", "del", bridge));
        run("ip", "link", "set", bridge, "up");
    }

    @Test
    void aRunningVmIsClonedIntoASecondIndependentVmWithItsOwnIdentity() {
        String suffix = fleet.namespace().substring(4);
        String target = "cl-dst-" + suffix;
        VirtualMachine srcVm = fleet.testGuest("cl-src");
        io.virtfleet.api.v1alpha1.VirtualMachineSpec.NetworkInterface nic =
                new io.virtfleet.api.v1alpha1.VirtualMachineSpec.NetworkInterface();
        nic.name = "net1";
        nic.bridge = bridge;
        nic.model = "virtio";
        String srcMac = String.format("52:54:00:%02x:%02x:%02x", (int) (Math.random() * 256),
                (int) (Math.random() * 256), (int) (Math.random() * 256));
        nic.macAddress = srcMac;
        srcVm.getSpec().interfaces.add(nic);
        fleet.apply(srcVm);
        VirtualMachine src = fleet.awaitReady("cl-src");
        LibvirtGuest srcGuest = fleet.guest(src);
        srcGuest.awaitConsole("VIRTFLEET-GUEST-READY", Duration.ofSeconds(90));
        // written before the clone: the copy must have it (a real copy of the disk, not a fresh one)
        assertThat(srcGuest.exec("echo before > /data/before && sync && ls /data").output()).contains("before");
        String srcDisk = src.getSpec().disks.get(0).volume.path;
        Path copy = copyFor(srcDisk, target);

        VirtualMachineClone c = cloneSucceeds("cl-1", "cl-src", target, Duration.ofSeconds(240), "backup-api");
        assertThat(c.getStatus().disks).containsEntry(srcDisk, copy.toString());
        assertThat(copy).isRegularFile();

        VirtualMachine dst = fleet.await(target, "Running with a genid", Duration.ofSeconds(120),
                v -> "Running".equals(v.getStatus().printableStatus) && v.getStatus().genid != null);
        src = fleet.get("cl-src");
        assertThat(dst.getMetadata().getAnnotations()).containsEntry("virtfleet.io/cloned-from", "cl-src");
        assertThat(dst.getSpec().disks.get(0).volume.path).isEqualTo(copy.toString());
        assertThat(dst.getSpec().nodeName).isEqualTo(src.getStatus().host);
        assertThat(c.getStatus().genid).isEqualTo(dst.getStatus().genid);
        assertThat(dst.getStatus().genidHistory).extracting(h -> h.reason).containsExactly("Cloned");

        LibvirtGuest dstGuest = fleet.guest(dst);
        assertThat(srcGuest.state()).isEqualTo("running");
        assertThat(dstGuest.state()).isEqualTo("running");
        // identities: UUID, MAC, genid differ; each guest sees its own status.genid
        assertThat(dst.getStatus().uuid).isNotEqualTo(src.getStatus().uuid);
        assertThat(uuidOf(dstGuest.liveXml())).isEqualTo(dst.getStatus().uuid).isNotEqualTo(uuidOf(srcGuest.liveXml()));
        assertThat(macOf(srcGuest.liveXml())).isEqualTo(srcMac);
        assertThat(macOf(dstGuest.liveXml())).isNotNull().isNotEqualTo(srcMac);
        assertThat(dst.getSpec().interfaces).singleElement().satisfies(n -> {
            assertThat(n.macAddress).isNull();
            assertThat(n.bridge).isEqualTo(bridge);
        });
        assertThat(dst.getStatus().genid).isNotEqualTo(src.getStatus().genid);
        assertThat(srcGuest.genidSeenByGuest()).isEqualTo(src.getStatus().genid);
        assertThat(dstGuest.genidSeenByGuest()).isEqualTo(dst.getStatus().genid);
        // the source was not touched: same genid history, same disk
        assertThat(src.getStatus().genidHistory).extracting(h -> h.reason).containsExactly("Created");
        assertThat(src.getSpec().disks.get(0).volume.path).isEqualTo(srcDisk);

        // independent disks
        dstGuest.awaitConsole("VIRTFLEET-GUEST-READY", Duration.ofSeconds(90));
        assertThat(dstGuest.exec("cat /data/before").output()).contains("before");
        assertThat(dstGuest.exec("echo d > /data/only-dst && sync && ls /data").output()).contains("only-dst");
        assertThat(srcGuest.exec("echo s > /data/only-src && sync && ls /data").output()).contains("only-src");
        assertThat(srcGuest.exec("ls /data").output()).doesNotContain("only-dst");
        assertThat(dstGuest.exec("ls /data").output()).doesNotContain("only-src");

        // a clone onto an existing name fails, naming spec.target, and changes nothing
        long dstGeneration = dst.getMetadata().getGeneration();
        clone("cl-2", "cl-src", target);
        VirtualMachineClone bad = awaitClone("cl-2", Duration.ofSeconds(60));
        assertThat(bad.getStatus().phase).isEqualTo("Failed");
        assertThat(bad.getStatus().error).contains("spec.target").contains(target).contains("already exists");
        assertThat(bad.getMetadata().getLabels() == null
                || !bad.getMetadata().getLabels().containsKey(ApiGroup.HOST_LABEL)).as("not handed to an agent")
                .isTrue();
        VirtualMachine dstAfter = fleet.get(target);
        assertThat(dstAfter.getMetadata().getGeneration()).isEqualTo(dstGeneration);
        assertThat(dstAfter.getStatus().genid).isEqualTo(dst.getStatus().genid);
        assertThat(dstGuest.exec("ls /data").output()).contains("only-dst");

        // deleting the clone request keeps the VM it made
        fleet.client().resources(VirtualMachineClone.class).inNamespace(fleet.namespace()).withName("cl-1").delete();
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> fleet.client()
                .resources(VirtualMachineClone.class).inNamespace(fleet.namespace()).withName("cl-1").get() == null);
        assertThat(fleet.get(target)).isNotNull();
        assertThat(dstGuest.state()).isEqualTo("running");
    }

    @Test
    void aStoppedVmIsClonedWithQemuImgAndTheCloneStaysStoppedWithoutGenidWhenTheSourceHasNone() {
        String target = "cl-halted-dst-" + fleet.namespace().substring(4);
        VirtualMachine vm = fleet.testGuest("cl-halted");
        vm.getSpec().runStrategy = RunStrategy.Halted;
        vm.getSpec().genid = "none";
        fleet.apply(vm);
        VirtualMachine src = fleet.await("cl-halted", "placed and stopped", Duration.ofSeconds(90),
                v -> v.getStatus() != null && v.getStatus().host != null
                        && "Stopped".equals(v.getStatus().printableStatus));
        Path copy = copyFor(src.getSpec().disks.get(0).volume.path, target);
        VirtualMachineClone c = cloneSucceeds("cl-h", "cl-halted", target, Duration.ofSeconds(180), "qemu-img");
        assertThat(copy).isRegularFile();
        VirtualMachine dst = fleet.get(target);
        assertThat(dst.getSpec().runStrategy).isEqualTo(RunStrategy.Halted);
        assertThat(dst.getSpec().disks.get(0).volume.path).isEqualTo(copy.toString());
        // spec.genid none stays none, and an Event on the new VM says it has no generation ID
        assertThat(dst.getSpec().genid).isEqualTo("none");
        Awaitility.await().alias("NoGenid event").atMost(Duration.ofSeconds(30)).until(() -> fleet.client().v1()
                .events().inNamespace(fleet.namespace()).list().getItems().stream()
                .anyMatch(e -> target.equals(e.getInvolvedObject().getName()) && "NoGenid".equals(e.getReason())
                        && e.getMessage().contains("no generation ID")));
    }

    static LibvirtGuest.Result run(String... command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            return new LibvirtGuest.Result(p.waitFor(), out);
        } catch (IOException e) {
            return new LibvirtGuest.Result(127, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new LibvirtGuest.Result(130, "interrupted");
        }
    }

    /** Where a clone into {@code target} copies the data disk {@code sourceDisk} (removed after the class). */
    private static Path copyFor(String sourceDisk, String target) {
        Path copy = Path.of(sourceDisk).getParent().resolve(fleet.namespace() + "_" + target + "_data.qcow2");
        copies.add(copy);
        return copy;
    }

    /** The clone request {@code name} of {@code source} into {@code target} succeeds within {@code timeout}. */
    private static VirtualMachineClone cloneSucceeds(String name, String source, String target, Duration timeout,
                                                     String copyMethod) {
        clone(name, source, target);
        VirtualMachineClone c = awaitClone(name, timeout);
        assertThat(c.getStatus().error).isNull();
        assertThat(c.getStatus().phase).isEqualTo("Succeeded");
        assertThat(c.getStatus().copyMethod).isEqualTo(copyMethod);
        return c;
    }

    private static void clone(String name, String source, String target) {
        VirtualMachineClone c = VirtualMachineClone.of(fleet.namespace(), name, source, target);
        fleet.client().resource(c).create();
    }

    private static VirtualMachineClone awaitClone(String name, Duration timeout) {
        return Awaitility.await().alias("clone " + name + " done").atMost(timeout).pollInterval(Duration.ofMillis(250))
                .until(() -> fleet.client().resources(VirtualMachineClone.class).inNamespace(fleet.namespace())
                        .withName(name).get(), c -> c != null && c.getStatus() != null
                        && ("Succeeded".equals(c.getStatus().phase) || "Failed".equals(c.getStatus().phase)));
    }

    private static String uuidOf(String xml) {
        Matcher m = Pattern.compile("<uuid>([0-9a-f-]{36})</uuid>").matcher(xml);
        return m.find() ? m.group(1) : null;
    }

    private static String macOf(String xml) {
        Matcher m = Pattern.compile("<mac address=['\"]([0-9a-f:]{17})['\"]").matcher(xml);
        return m.find() ? m.group(1) : null;
    }
}
