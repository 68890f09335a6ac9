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
        assertThat(XmlFingerprint.changed(before, moreDisks)).containsExactly("devices");
        String kvmToQemu = XmlFingerprint.of(xml("1048576", DISK, "").replace("type='kvm'", "type='qemu'"));
        assertThat(XmlFingerprint.changed(before, kvmToQemu)).containsExactly("domain attributes");
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
