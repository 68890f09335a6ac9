package io.virtfleet.agent.image;

import io.fabric8.kubernetes.api.model.Quantity;
import io.virtfleet.api.v1alpha1.VirtualMachineSpec;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class DiskPlansTest {
    static final String SHA = "AB".repeat(32);
    static final String sha = SHA.toLowerCase();

    static VirtualMachineSpec.Disk imageDisk(String name, String path) {
        VirtualMachineSpec.Disk d = plain(name, path);
        d.volume.image = new VirtualMachineSpec.Image();
        d.volume.image.url = "http://127.0.0.1:8080/debian.qcow2";
        d.volume.image.sha256 = SHA;
        return d;
    }

    static VirtualMachineSpec.Disk plain(String name, String path) {
        VirtualMachineSpec.Disk d = new VirtualMachineSpec.Disk();
        d.name = name;
        d.volume = new VirtualMachineSpec.Volume();
        d.volume.path = path;
        return d;
    }

    static VirtualMachineSpec.Disk blank(String name, String path, String size) {
        VirtualMachineSpec.Disk d = plain(name, path);
        d.volume.size = new Quantity(size);
        return d;
    }

    @Test
    void twoDisksOfOneImageFetchItOnceThenGetAnOverlayEach() {
        List<DiskPlans.Step> steps = DiskPlans.plan(List.of(imageDisk("a", "/v/a.qcow2"), imageDisk("b", "/v/b.qcow2"),
                blank("c", "/v/c.raw", "1001")), Set.of(), Set.of());
        assertThat(steps).containsExactly(
                new DiskPlans.Fetch("http://127.0.0.1:8080/debian.qcow2", sha, "qcow2"),
                new DiskPlans.Overlay("a", "/v/a.qcow2", sha, "qcow2"),
                new DiskPlans.Overlay("b", "/v/b.qcow2", sha, "qcow2"),
                new DiskPlans.Blank("c", "/v/c.raw", "raw", 1024L));
    }

    @Test
    void aCachedImageIsNotFetchedAndAnExistingDiskIsNeverRecreated() {
        assertThat(DiskPlans.plan(List.of(imageDisk("a", "/v/a.qcow2")), Set.of(), Set.of(sha + ".qcow2")))
                .containsExactly(new DiskPlans.Overlay("a", "/v/a.qcow2", sha, "qcow2"));
        assertThat(DiskPlans.plan(List.of(imageDisk("a", "/v/a.qcow2"), blank("c", "/v/c.qcow2", "1Gi"),
                plain("d", "/v/d.qcow2")), Set.of("/v/a.qcow2", "/v/c.qcow2"), Set.of())).isEmpty();
    }

    @Test
    void deletingAVmRemovesWhatTheAgentCreatedButNeverACachedBase() {
        assertThat(DiskPlans.removable(List.of(imageDisk("a", "/v/a.qcow2"), blank("c", "/v/c.qcow2", "1Gi"),
                plain("d", "/v/d.qcow2"), imageDisk("e", "/v/cache/" + sha + ".qcow2")), "/v/cache"))
                .containsExactly("/v/a.qcow2", "/v/c.qcow2");
    }
}
