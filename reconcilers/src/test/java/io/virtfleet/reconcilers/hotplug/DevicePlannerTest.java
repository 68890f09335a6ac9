package io.virtfleet.reconcilers.hotplug;

import io.virtfleet.reconcilers.domain.xml.DomainXmlCodec;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

class DevicePlannerTest {
    static final String ROOT = "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
            + "<source file='/i/root.qcow2'/><target dev='vda' bus='virtio'/><serial>root</serial>"
            + "<alias name='ua-root'/></disk>";
    static final String DATA = "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
            + "<source file='/i/data.qcow2'/><target dev='vdb' bus='virtio'/><serial>data</serial>"
            + "<alias name='ua-data'/></disk>";
    static final String DATA_LIVE = "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
            + "<source file='/i/data.qcow2' index='2'/><backingStore/><target dev='vdb' bus='virtio'/>"
            + "<serial>data</serial><alias name='ua-data'/>"
            + "<address type='pci' domain='0x0000' bus='0x07' slot='0x00' function='0x0'/></disk>";
    static final String FOREIGN = "<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
            + "<source file='/i/x.img'/><target dev='vdc' bus='virtio'/><alias name='virtio-disk2'/></disk>";
    static final String CD = "<disk type='file' device='cdrom'><driver name='qemu' type='raw'/>"
            + "<source file='/iso/a.iso'/><target dev='sda' bus='scsi'/><readonly/><alias name='ua-cd'/></disk>";
    static final String NIC = "<interface type='network'><mac address='52:54:00:00:00:01'/>"
            + "<source network='n1'/><model type='virtio'/><alias name='ua-net1'/></interface>";
    static final String NIC_LIVE = "<interface type='network'><mac address='52:54:00:00:00:01'/>"
            + "<source network='n1' portid='x' bridge='virbr9'/><target dev='vnet7'/><model type='virtio'/>"
            + "<alias name='ua-net1'/></interface>";
    static final String NIC_AUTO = "<interface type='network'><source network='n1'/><model type='virtio'/>"
            + "<alias name='ua-net2'/></interface>";
    static final String NIC_FOREIGN = "<interface type='ethernet'><mac address='52:54:00:00:00:99'/>"
            + "<target dev='vnet9'/><model type='virtio'/><alias name='net5'/></interface>";

    static String dom(String... devices) {
        return "<domain type='qemu'><name>d</name><devices>" + String.join("", devices) + "</devices></domain>";
    }

    static final String XEN_DISK = "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
            + "<source file='/i/x.qcow2'/><target dev='xvdb' bus='xen'/><alias name='ua-x'/></disk>";
    static final String XEN_NIC = "<interface type='bridge'><mac address='00:16:3e:00:00:01'/>"
            + "<source bridge='xenbr0'/><target dev='x-n1'/><alias name='ua-n1'/></interface>";

    static String xen(String... devices) {
        return "<domain type='xen'><name>d</name><devices>" + String.join("", devices) + "</devices></domain>";
    }

    /** What libxl reports: the same device without its alias. */
    static String strip(String device) {
        return device.replaceAll("<alias name='[^']*'/>", "");
    }

    static List<DeviceAction> plan(String desired, String live) {
        return DevicePlanner.plan(DomainXmlCodec.parse(desired), DomainXmlCodec.parse(live));
    }

    static List<String> summary(List<DeviceAction> actions) {
        return actions.stream().map(a -> a.getClass().getSimpleName()
                + (a.key() != null ? " " + a.key() : " " + ((DeviceAction.RestartRequired) a).reason())).toList();
    }

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of("nothing changed", dom(ROOT, DATA, NIC), dom(ROOT, DATA_LIVE, NIC_LIVE), List.of()),
                Arguments.of("disk added", dom(ROOT, DATA), dom(ROOT), List.of("AttachDisk ua-data")),
                Arguments.of("disk removed", dom(ROOT), dom(ROOT, DATA_LIVE), List.of("DetachDisk ua-data")),
                Arguments.of("foreign disk live only: left alone", dom(ROOT), dom(ROOT, FOREIGN), List.of()),
                Arguments.of("foreign disk matched by target", dom(ROOT, FOREIGN.replace("virtio-disk2", "ua-x")),
                        dom(ROOT, FOREIGN), List.of()),
                Arguments.of("bus change", dom(ROOT, DATA.replace("bus='virtio'", "bus='scsi'")),
                        dom(ROOT, DATA_LIVE), List.of("RestartRequired disk ua-data: bus virtio -> scsi")),
                Arguments.of("disk source change", dom(ROOT, DATA.replace("/i/data", "/i/other")),
                        dom(ROOT, DATA_LIVE), List.of("RestartRequired disk ua-data: source /i/data.qcow2 -> "
                                + "/i/other.qcow2 (only a cdrom's media changes live)")),
                Arguments.of("cdrom media swap", dom(ROOT, CD.replace("a.iso", "b.iso")), dom(ROOT, CD),
                        List.of("UpdateMedia ua-cd")),
                Arguments.of("cdrom eject", dom(ROOT, CD.replace("<source file='/iso/a.iso'/>", "")), dom(ROOT, CD),
                        List.of("UpdateMedia ua-cd")),
                Arguments.of("cdrom insert", dom(ROOT, CD), dom(ROOT, CD.replace("<source file='/iso/a.iso'/>", "")),
                        List.of("UpdateMedia ua-cd")),
                Arguments.of("nic added (mac auto)", dom(ROOT, NIC, NIC_AUTO), dom(ROOT, NIC_LIVE),
                        List.of("AttachInterface ua-net2")),
                Arguments.of("nic removed", dom(ROOT), dom(ROOT, NIC_LIVE), List.of("DetachInterface ua-net1")),
                Arguments.of("foreign nic live only: left alone", dom(ROOT, NIC), dom(ROOT, NIC_LIVE, NIC_FOREIGN),
                        List.of()),
                Arguments.of("nic model change", dom(ROOT, NIC.replace("virtio", "e1000e")), dom(ROOT, NIC_LIVE),
                        List.of("RestartRequired interface ua-net1: model virtio -> e1000e")),
                Arguments.of("nic matched by mac when unnamed",
                        dom(ROOT, NIC.replace("<alias name='ua-net1'/>", "")),
                        dom(ROOT, NIC_LIVE.replace("ua-net1", "net0")), List.of()),
                Arguments.of("renamed disk on the same target: detach old, attach new",
                        dom(ROOT, DATA.replace("ua-data", "ua-data2")), dom(ROOT, DATA_LIVE),
                        List.of("DetachDisk ua-data", "AttachDisk ua-data2")),
                Arguments.of("xen without live aliases: matched by target and MAC, nothing to do",
                        xen(XEN_DISK, XEN_NIC), xen(strip(XEN_DISK), strip(XEN_NIC).replace("<target dev='x-n1'/>",
                                "<target dev='x-n1'/><script path='vif-bridge'/>")), List.of()),
                Arguments.of("xen: an alias-less disk gone from the spec is detached (by XML)", xen(),
                        xen(strip(XEN_DISK)), List.of("DetachDisk target:xvdb")),
                Arguments.of("xen: an alias-less NIC gone from the spec is detached", xen(XEN_DISK),
                        xen(strip(XEN_DISK), strip(XEN_NIC)), List.of("DetachInterface target:x-n1")),
                Arguments.of("xen with live aliases: a foreign alias-less disk is left alone", xen(XEN_DISK),
                        xen(XEN_DISK, strip(XEN_DISK).replace("xvdb", "xvdc")), List.of()),
                Arguments.of("xen: a new NIC is attached", xen(XEN_DISK, XEN_NIC), xen(strip(XEN_DISK)),
                        List.of("AttachInterface ua-n1")),
                Arguments.of("detach before update before attach", dom(ROOT, CD.replace("a.iso", "b.iso"), NIC),
                        dom(ROOT, CD, DATA_LIVE), List.of("DetachDisk ua-data", "UpdateMedia ua-cd",
                                "AttachInterface ua-net1")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void plans(String name, String desired, String live, List<String> expected) {
        assertThat(summary(plan(desired, live))).containsExactlyElementsOf(expected);
    }

    @Test
    void actionsCarryTheSingleDevicesXml() {
        List<DeviceAction> attach = plan(dom(ROOT, DATA), dom(ROOT));
        String xml = attach.get(0).xml();
        assertThat(xml).startsWith("<disk").contains("serial>data</serial>").contains("ua-data")
                .contains("dev=\"vdb\"").doesNotContain("address").doesNotContain("<domain");
        assertThat(DevicePlanner.needsRestart(attach)).isFalse();

        DeviceAction.DetachDisk detach = (DeviceAction.DetachDisk) plan(dom(ROOT), dom(ROOT, DATA_LIVE)).get(0);
        assertThat(detach.alias()).isEqualTo("ua-data");
        assertThat(detach.target()).isEqualTo("vdb");
        assertThat(detach.xml()).startsWith("<disk").contains("vdb");

        DeviceAction.UpdateMedia media = (DeviceAction.UpdateMedia) plan(dom(ROOT, CD.replace("a.iso", "b.iso")),
                dom(ROOT, CD)).get(0);
        assertThat(media.source()).isEqualTo("/iso/b.iso");
        assertThat(media.xml()).contains("/iso/b.iso").contains("dev=\"sda\"").contains("device=\"cdrom\"");

        DeviceAction.AttachInterface nic = (DeviceAction.AttachInterface) plan(dom(NIC_AUTO), dom()).get(0);
        assertThat(nic.mac()).isNull();
        assertThat(nic.xml()).startsWith("<interface").contains("network=\"n1\"").doesNotContain("<mac");
    }
}
