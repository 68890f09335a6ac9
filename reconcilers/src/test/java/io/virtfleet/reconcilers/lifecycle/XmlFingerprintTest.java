package io.virtfleet.reconcilers.lifecycle;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class XmlFingerprintTest {
    static String xml(String memory, String devices, String extra) {
        return "<domain type='kvm'>\n  <name>vf-default-web-1</name>\n  <uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid>\n"
                + extra
                + "  <memory unit='KiB'>" + memory + "</memory>\n  <vcpu placement='static'>1</vcpu>\n"
                + "  <os><type arch='x86_64' machine='q35'>hvm</type></os>\n"
                + "  <devices>" + devices + "</devices>\n</domain>\n";
    }

    static final String DISK = "<disk type='file' device='disk'><source file='/var/lib/virtfleet/a.qcow2'/>"
            + "<target dev='vda' bus='virtio'/></disk>";

    @Test
    void sameXmlSameFingerprint() {
        assertThat(XmlFingerprint.of(xml("1048576", DISK, ""))).isEqualTo(XmlFingerprint.of(xml("1048576", DISK, "")));
    }

    @Test
    void whitespaceAndAttributeOrderDoNotMatter() {
        String a = "<domain type='kvm'><os><type arch='x86_64' machine='q35'>hvm</type></os></domain>";
        String b = "<domain type=\"kvm\">\n  <os>\n    <type machine=\"q35\" arch=\"x86_64\">hvm</type>\n  </os>\n</domain>";
        assertThat(XmlFingerprint.of(a)).isEqualTo(XmlFingerprint.of(b));
    }

    @Test
    void namesWhatChanged() {
        String before = XmlFingerprint.of(xml("1048576", DISK, ""));
        String after = XmlFingerprint.of(xml("2097152", DISK, ""));
        assertThat(XmlFingerprint.changed(before, after)).containsExactly("memory");
        String moreDisks = XmlFingerprint.of(xml("1048576", DISK + DISK.replace("vda", "vdb"), ""));
        assertThat(XmlFingerprint.changed(before, moreDisks)).as("a disk added live (hot-plug)").isEmpty();
        assertThat(XmlFingerprint.changed(moreDisks, before)).as("a disk detached live").isEmpty();
        String otherBus = XmlFingerprint.of(xml("1048576", DISK.replace("virtio", "sata"), ""));
        assertThat(XmlFingerprint.changed(before, otherBus)).containsExactly("disk[vda]");
        String otherSource = XmlFingerprint.of(xml("1048576", DISK.replace("a.qcow2", "b.qcow2"), ""));
        assertThat(XmlFingerprint.changed(before, otherSource)).containsExactly("disk[vda]");
        String withRng = XmlFingerprint.of(xml("1048576", DISK + "<rng model='virtio'/>", ""));
        assertThat(XmlFingerprint.changed(before, withRng)).containsExactly("devices");
        String kvmToQemu = XmlFingerprint.of(xml("1048576", DISK, "").replace("type='kvm'", "type='qemu'"));
        assertThat(XmlFingerprint.changed(before, kvmToQemu)).containsExactly("domain attributes");
    }

    static final String CD = "<disk type='file' device='cdrom'><source file='/iso/a.iso'/>"
            + "<target dev='sda' bus='scsi'/><readonly/><alias name='ua-cd'/></disk>";
    static final String NIC = "<interface type='network'><source network='n'/><model type='virtio'/>"
            + "<alias name='ua-net'/></interface>";

    @Test
    void hotPluggableDeviceChangesAreNotRestartChanges() {
        String before = XmlFingerprint.of(xml("1", DISK + CD + NIC, ""));
        assertThat(XmlFingerprint.changed(before, XmlFingerprint.of(xml("1", DISK + CD.replace("a.iso", "b.iso")
                + NIC, "")))).as("cdrom media").isEmpty();
        assertThat(XmlFingerprint.changed(before, XmlFingerprint.of(xml("1", DISK + CD.replace(
                "<source file='/iso/a.iso'/>", "") + NIC, "")))).as("cdrom eject").isEmpty();
        assertThat(XmlFingerprint.changed(before, XmlFingerprint.of(xml("1", DISK + CD, "")))).as("nic removed")
                .isEmpty();
        assertThat(XmlFingerprint.changed(before, XmlFingerprint.of(xml("1", DISK + CD + NIC
                + NIC.replace("ua-net", "ua-net2"), "")))).as("nic added").isEmpty();
        assertThat(XmlFingerprint.changed(before, XmlFingerprint.of(xml("1", DISK + CD
                + NIC.replace("virtio", "e1000e"), "")))).containsExactly("interface[ua-net]");
    }

    @Test
    void metadataTitleDescriptionAndGenidAreIgnored() {
        String plain = XmlFingerprint.of(xml("1048576", DISK, ""));
        String decorated = XmlFingerprint.of(xml("1048576", DISK, "  <genid>e9392370-2917-565e-692b-d057f46512d6</genid>\n"
                + "  <title>web</title><description>d</description>\n"
                + "  <metadata><virtfleet:vm xmlns:virtfleet='https://virtfleet.io/xmlns/libvirt/domain/1.0' generation='7'/>"
                + "</metadata>\n"));
        assertThat(XmlFingerprint.changed(plain, decorated)).isEmpty();
        assertThat(XmlFingerprint.changed(XmlFingerprint.of(xml("1", DISK, "<genid/>")),
                XmlFingerprint.of(xml("1", DISK, "<genid>e9392370-2917-565e-692b-d057f46512d6</genid>")))).isEmpty();
    }

    @Test
    void addedAndRemovedElementsCount() {
        String before = XmlFingerprint.of(xml("1048576", DISK, ""));
        String after = XmlFingerprint.of(xml("1048576", DISK, "  <currentMemory unit='KiB'>524288</currentMemory>\n"));
        assertThat(XmlFingerprint.changed(before, after)).containsExactly("currentMemory");
        assertThat(XmlFingerprint.changed(after, before)).containsExactly("currentMemory");
    }

    @Test
    void unknownPastMeansNoChange() {
        assertThat(XmlFingerprint.changed(null, XmlFingerprint.of(xml("1", DISK, "")))).isEmpty();
        assertThat(XmlFingerprint.changed("", XmlFingerprint.of(xml("1", DISK, "")))).isEmpty();
    }

    @Test
    void fitsInAnAnnotation() {
        assertThat(XmlFingerprint.of(xml("1048576", DISK, "")).length()).isLessThan(400);
    }

    @Test
    void rejectsNonXml() {
        assertThatThrownBy(() -> XmlFingerprint.of("not xml")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> XmlFingerprint.of("<!DOCTYPE x [<!ENTITY a 'b'>]><domain>&a;</domain>"))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
