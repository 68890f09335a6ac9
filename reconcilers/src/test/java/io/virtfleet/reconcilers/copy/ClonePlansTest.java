package io.virtfleet.reconcilers.copy;

import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.Quantity;
import io.virtfleet.api.v1alpha1.VirtualMachineSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

class ClonePlansTest {

    static VirtualMachineSpec source() {
        VirtualMachineSpec s = new VirtualMachineSpec();
        s.genid = "auto";
        s.memory = new Quantity("256Mi");
        s.firmware = new VirtualMachineSpec.Firmware();
        s.firmware.uuid = "6f1c1e8a-2b7d-4d0e-9d7a-3f2a1b0c9d8e";
        s.disks.add(disk("root", "/var/lib/virtfleet/images/web-root.qcow2", null));
        s.disks.add(disk("scratch", "/var/lib/virtfleet/scratch/web.img", "raw"));
        VirtualMachineSpec.Disk iso = disk("install", "/var/lib/virtfleet/iso/debian.iso", null);
        iso.cdrom = true;
        s.disks.add(iso);
        VirtualMachineSpec.Disk ro = disk("seed", "/var/lib/virtfleet/images/seed.qcow2", null);
        ro.readOnly = true;
        s.disks.add(ro);
        VirtualMachineSpec.NetworkInterface n = new VirtualMachineSpec.NetworkInterface();
        n.name = "default";
        n.network = "default";
        n.macAddress = "52:54:00:6b:3c:58";
        n.target = "vnet-web";
        s.interfaces.add(n);
        s.hostSelector = new LabelSelector();
        s.hostSelector.setMatchLabels(Map.of("pool", "a"));
        return s;
    }

    static VirtualMachineSpec.Disk disk(String name, String path, String format) {
        VirtualMachineSpec.Disk d = new VirtualMachineSpec.Disk();
        d.name = name;
        d.volume = new VirtualMachineSpec.Volume();
        d.volume.path = path;
        d.volume.format = format;
        return d;
    }

    static Stream<Arguments> requests() {
        Consumer<VirtualMachineSpec> none = s -> { };
        return Stream.of(
                Arguments.of("valid", "web", "web-2", false, none, List.of()),
                Arguments.of("source missing", "web", "web-2", false, null, List.of("spec.source: VirtualMachine web not found")),
                Arguments.of("no source", null, "web-2", false, none, List.of("spec.source: required")),
                Arguments.of("no target", "web", "", false, none, List.of("spec.target: required")),
                Arguments.of("bad target", "web", "Web_2", false, none,
                        List.of("spec.target: Web_2 is not a valid VirtualMachine name")),
                Arguments.of("target is source", "web", "web", false, none,
                        List.of("spec.target: must differ from spec.source")),
                Arguments.of("target exists", "web", "web-2", true, none,
                        List.of("spec.target: a VirtualMachine named web-2 already exists")),
                Arguments.of("disk without volume", "web", "web-2", false,
                        (Consumer<VirtualMachineSpec>) s -> s.disks.get(0).volume = null,
                        List.of("spec.source: disk root (spec.disks[0]) has no volume path to copy")),
                Arguments.of("unknown format", "web", "web-2", false,
                        (Consumer<VirtualMachineSpec>) s -> s.disks.get(1).volume.format = "vmdk",
                        List.of("spec.source: disk scratch (spec.disks[1]) has format vmdk")),
                // a cdrom without media is shared, not an error
                Arguments.of("empty cdrom", "web", "web-2", false,
                        (Consumer<VirtualMachineSpec>) s -> s.disks.get(2).volume = null, List.of()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("requests")
    void validation(String what, String source, String target, boolean targetExists, Consumer<VirtualMachineSpec> edit,
                    List<String> expected) {
        VirtualMachineSpec spec = null;
        if (edit != null) {
            spec = source();
            edit.accept(spec);
        }
        List<String> errors = ClonePlans.validate(source, spec, target, targetExists);
        assertPrefixes(errors, expected);
    }

    @Test
    void writableDisksAreCopiedNextToTheOriginalSharedOnesAreNot() {
        List<ClonePlans.DiskCopy> copies = ClonePlans.copies(source(), "ns", "web-2");
        assertThat(copies).containsExactly(
                new ClonePlans.DiskCopy("root", "/var/lib/virtfleet/images/web-root.qcow2",
                        "/var/lib/virtfleet/images/ns_web-2_root.qcow2", "qcow2"),
                new ClonePlans.DiskCopy("scratch", "/var/lib/virtfleet/scratch/web.img",
                        "/var/lib/virtfleet/scratch/ns_web-2_scratch.img", "raw"));
    }

    @Test
    void equalTargetNamesInTwoNamespacesGetDifferentCopies() {
        List<ClonePlans.DiskCopy> a = ClonePlans.copies(source(), "team-a", "web-2");
        List<ClonePlans.DiskCopy> b = ClonePlans.copies(source(), "team-b", "web-2");
        for (int i = 0; i < a.size(); i++) {
            assertThat(a.get(i).target()).isNotEqualTo(b.get(i).target());
        }
        // and a VM name with a dash never meets another VM's disk name: "a-b" + "c" vs "a" + "b-c"
        assertThat(ClonePlans.targetPath("/d/x.qcow2", "ns", "a-b", "c", "qcow2"))
                .isNotEqualTo(ClonePlans.targetPath("/d/x.qcow2", "ns", "a", "b-c", "qcow2"));
    }

    @Test
    void writableDisksAddedOrChangedDuringTheCopyAreFound() {
        Map<String, String> planned = ClonePlans.diskMap(ClonePlans.copies(source(), "ns", "web-2"));
        assertThat(ClonePlans.uncopiedWritableDisks(source(), planned)).isEmpty();

        VirtualMachineSpec added = source();
        added.disks.add(disk("data", "/var/lib/virtfleet/images/web-data.qcow2", null));
        VirtualMachineSpec madeWritable = source();
        madeWritable.disks.get(3).readOnly = false;
        VirtualMachineSpec repathed = source();
        repathed.disks.get(1).volume.path = "/var/lib/virtfleet/scratch/web-new.img";
        VirtualMachineSpec cdromAdded = source();
        VirtualMachineSpec.Disk cd = disk("cd2", "/var/lib/virtfleet/iso/other.iso", null);
        cd.cdrom = true;
        cdromAdded.disks.add(cd);

        assertThat(ClonePlans.uncopiedWritableDisks(added, planned))
                .containsExactly("data (/var/lib/virtfleet/images/web-data.qcow2)");
        assertThat(ClonePlans.uncopiedWritableDisks(madeWritable, planned))
                .containsExactly("seed (/var/lib/virtfleet/images/seed.qcow2)");
        assertThat(ClonePlans.uncopiedWritableDisks(repathed, planned))
                .containsExactly("scratch (/var/lib/virtfleet/scratch/web-new.img)");
        assertThat(ClonePlans.uncopiedWritableDisks(cdromAdded, planned)).isEmpty();
    }

    @Test
    void targetSpecHasNewDisksNoIdentityAutoGenidAndTheSourcesHost() {
        VirtualMachineSpec src = source();
        VirtualMachineSpec t = ClonePlans.targetSpec(src, "node-a",
                ClonePlans.diskMap(ClonePlans.copies(src, "ns", "web-2")));
        assertThat(t.disks).extracting(d -> d.volume.path).containsExactly(
                "/var/lib/virtfleet/images/ns_web-2_root.qcow2", "/var/lib/virtfleet/scratch/ns_web-2_scratch.img",
                "/var/lib/virtfleet/iso/debian.iso", "/var/lib/virtfleet/images/seed.qcow2");
        assertThat(t.disks.get(0).volume.format).isEqualTo("qcow2");
        assertThat(t.interfaces).singleElement().satisfies(n -> {
            assertThat(n.macAddress).isNull();
            assertThat(n.target).isNull();
            assertThat(n.network).isEqualTo("default");
        });
        assertThat(t.firmware.uuid).isNull();
        assertThat(t.genid).isEqualTo("auto");
        assertThat(t.nodeName).isEqualTo("node-a");
        assertThat(t.hostSelector).isNull();
        assertThat(t.memory).isEqualTo(new Quantity("256Mi"));
        // the source is untouched
        assertThat(src.disks.get(0).volume.path).isEqualTo("/var/lib/virtfleet/images/web-root.qcow2");
        assertThat(src.interfaces.get(0).macAddress).isEqualTo("52:54:00:6b:3c:58");
        assertThat(src.firmware.uuid).isNotNull();
        assertThat(src.hostSelector).isNotNull();
    }

    @ParameterizedTest(name = "genid {0} -> {1}")
    @org.junit.jupiter.params.provider.CsvSource(nullValues = "null", value = {
            "auto, auto", "null, auto", "none, none", "c7a5fdbd-edaf-9455-926a-d65c16db1809, auto"})
    void theCloneGetsANewGenidUnlessTheSourceHasNone(String genid, String expected) {
        VirtualMachineSpec src = source();
        src.genid = genid;
        assertThat(ClonePlans.targetSpec(src, "node-a", Map.of()).genid).isEqualTo(expected);
    }

    /** One error per expected prefix, in order, each starting with it (the rest of a message is its detail). */
    static void assertPrefixes(List<String> errors, List<String> expected) {
        assertThat(errors).hasSameSizeAs(expected);
        for (int i = 0; i < expected.size(); i++) {
            assertThat(errors.get(i)).startsWith(expected.get(i));
        }
    }
}
