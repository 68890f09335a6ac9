package io.virtfleet.reconcilers.domain.xml;

import io.virtfleet.api.v1alpha1.ApiGroup;
import io.virtfleet.api.v1alpha1.DeviceStatus;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DomainDocumentTest {
    static final String UUID = "7d3c1f5e-3b1a-4c55-9e0e-2a8f7c9b6d41";

    static String xml(String extraDevices) {
        return """
                <domain type='qemu'>
                  <name>vf-web-1</name>
                  <uuid>%s</uuid>
                  <genid/>
                  <metadata>
                    <virtfleet:vm xmlns:virtfleet="%s" namespace="default" name="web-1" uid="u-1" host="node-a"/>
                  </metadata>
                  <memory unit='MiB'>256</memory>
                  <os>
                    <type arch='x86_64' machine='q35'>hvm</type>
                    <kernel>/var/lib/virtfleet/images/vmlinuz</kernel>
                    <initrd>/var/lib/virtfleet/images/initrd.img</initrd>
                  </os>
                  <devices>
                    <emulator>/usr/bin/qemu-system-x86_64</emulator>
                    <disk type='file' device='disk'>
                      <source file='/var/lib/virtfleet/images/web-1.qcow2'/>
                      <target dev='vda' bus='virtio'/>
                      <alias name='ua-root'/>
                    </disk>
                    <interface type='network'>
                      <mac address='52:54:00:6b:3c:58'/>
                      <source network='default'/>
                      <target dev='vnet3'/>
                      <alias name='ua-default'/>
                    </interface>
                    <interface type='bridge'>
                      <mac address='52:54:00:00:00:01'/>
                      <source bridge='br0'/>
                      <alias name='net1'/>
                    </interface>
                    <serial type='pty'>
                      <log file='/var/lib/virtfleet/run/web-1.console.log'/>
                    </serial>
                    <channel type='unix'>
                      <source mode='bind' path='/var/lib/virtfleet/run/web-1.sock'/>
                    </channel>
                    %s
                  </devices>
                </domain>
                """.formatted(UUID, ApiGroup.LIBVIRT_METADATA_NS, extraDevices);
    }

    @Test
    void aParseAfterARejectedDocumentOnTheSameThreadReadsTheNewDocument() throws Exception {
        // The builder is reused per thread: a failed parse (half a document, then a DOCTYPE) must leave nothing behind.
        assertThatThrownBy(() -> DomainDocument.parse(xml("").substring(0, 40)))
                .isInstanceOf(DomainDocument.InvalidXmlException.class);
        assertThatThrownBy(() -> DomainDocument.parse("<!DOCTYPE domain [<!ENTITY x \"y\">]><domain/>"))
                .isInstanceOf(DomainDocument.InvalidXmlException.class);
        DomainDocument x = DomainDocument.parse(xml(""));
        assertThat(x.name()).isEqualTo("vf-web-1");
        assertThat(DomainDocument.parse(xml("")).name()).isEqualTo("vf-web-1");
    }

    @Test
    void readsIdentityAndMark() throws Exception {
        DomainDocument x = DomainDocument.parse(xml(""));
        assertThat(x.name()).isEqualTo("vf-web-1");
        assertThat(x.uuid()).isEqualTo(UUID);
        assertThat(x.genid()).isEmpty();
        assertThat(x.type()).isEqualTo("qemu");
        assertThat(x.emulator()).isEqualTo("/usr/bin/qemu-system-x86_64");
        assertThat(x.ownershipMark()).contains(new DomainDocument.OwnershipMark("default", "web-1", "u-1", "node-a"));
        assertThat(x.appliedSpecHash()).isEmpty();
    }

    /** Two displays with another device between them. */
    static final String SPLIT_DISPLAYS = """
            <graphics type='spice' autoport='yes'/>
            <video><model type='qxl'/></video>
            <graphics type='vnc' port='-1'/>
            """;

    @Test
    void graphicsTypesAreInDocumentOrderWhateverStandsBetween() throws Exception {
        // virDomainOpenGraphics' idx counts every <graphics>, so the order must be the document's even when other
        // devices stand between them (as a user's domain XML may have it; libvirt's own dump groups them).
        DomainDocument x = DomainDocument.parse(xml(SPLIT_DISPLAYS));
        assertThat(x.graphicsTypes()).containsExactly("spice", "vnc");
        assertThat(x.graphicsTypes().indexOf("vnc")).isEqualTo(1);
        assertThat(DomainDocument.parse(xml("")).graphicsTypes()).isEmpty();
        assertThat(DomainDocument.parse("<domain type='qemu'><name>x</name></domain>").graphicsTypes()).isEmpty();
    }

    @Test
    void typedModelKeepsRepeatedElementsThatAreNotAdjacent() throws Exception {
        // Jackson XML binds an unwrapped list from each run of same-named elements; without merging, a later run
        // replaces the earlier one, and def() would lose the first <graphics> and <disk> here.
        DomainDef d = DomainDocument.parse(xml(SPLIT_DISPLAYS
                + "<disk type='file' device='cdrom'><target dev='sda' bus='sata'/></disk>")).def();
        assertThat(d.devices.graphics).extracting(g -> g.type).containsExactly("spice", "vnc");
        assertThat(d.devices.disks).extracting(x -> x.target.dev).containsExactly("vda", "sda");
        assertThat(d.devices.interfaces).hasSize(2);
    }

    @Test
    void markInAnotherNamespaceIsNoMark() throws Exception {
        String foreign = xml("").replace(ApiGroup.LIBVIRT_METADATA_NS, "https://example.com/other");
        assertThat(DomainDocument.parse(foreign).ownershipMark()).isEmpty();
        String none = "<domain type='qemu'><name>x</name></domain>";
        assertThat(DomainDocument.parse(none).ownershipMark()).isEmpty();
    }

    @Test
    void devicesCarryNamesFromUserAliasesTargetsMacsAndSources() throws Exception {
        assertThat(DomainDocument.parse(xml("")).devices()).containsExactly(
                new DeviceStatus("root", "disk", "vda", null, "/var/lib/virtfleet/images/web-1.qcow2", "Attached"),
                new DeviceStatus("default", "interface", "vnet3", "52:54:00:6b:3c:58", "default", "Attached"),
                new DeviceStatus(null, "interface", null, "52:54:00:00:00:01", "br0", "Attached"));
    }

    @Test
    void hostPathsCoverDisksKernelInitrdAndCharacterDevices() throws Exception {
        String extra = """
                <disk type='file' device='disk'>
                  <source file='/etc/shadow'/>
                  <backingStore type='file'><source file='/root/base.qcow2'/></backingStore>
                  <target dev='vdb'/>
                </disk>
                <filesystem type='mount'><source dir='/home'/><target dir='home'/></filesystem>
                """;
        assertThat(DomainDocument.parse(xml(extra)).hostPaths()).extracting(DomainDocument.PathRef::path).containsExactly(
                "/var/lib/virtfleet/images/vmlinuz", "/var/lib/virtfleet/images/initrd.img",
                "/var/lib/virtfleet/images/web-1.qcow2", "/var/lib/virtfleet/run/web-1.console.log",
                "/var/lib/virtfleet/run/web-1.sock", "/etc/shadow", "/root/base.qcow2", "/home");
    }

    @Test
    void flagsQemuPassthroughAndUncheckableDisks() throws Exception {
        String x = xml("<disk type='volume'><source pool='p' volume='v'/><target dev='vdc'/></disk>")
                .replace("<domain type='qemu'>",
                        "<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>")
                .replace("</devices>", "</devices><qemu:commandline><qemu:arg value='-foo'/></qemu:commandline>");
        DomainDocument d = DomainDocument.parse(x);
        assertThat(d.qemuPassthroughElements()).containsExactly("<qemu:commandline>");
        assertThat(d.uncheckableDisks()).hasSize(1).first().asString().contains("volume");
    }

    @Test
    void agentMetadataAndGenidAreWrittenIntoACopy() throws Exception {
        DomainDocument x = DomainDocument.parse(xml(""));
        String out = x.withAgentMetadata("abc123", "3f0b2e8a-1f43-4c8e-9d8b-0b4a2f6e9c11");
        DomainDocument y = DomainDocument.parse(out);
        assertThat(y.appliedSpecHash()).contains("abc123");
        assertThat(y.genid()).isEqualTo("3f0b2e8a-1f43-4c8e-9d8b-0b4a2f6e9c11");
        assertThat(y.ownershipMark()).isEqualTo(x.ownershipMark());
        assertThat(x.appliedSpecHash()).isEmpty();
        // re-applying replaces, never duplicates
        DomainDocument z = DomainDocument.parse(y.withAgentMetadata("def456", null));
        assertThat(z.appliedSpecHash()).contains("def456");
        assertThat(z.withAgentMetadata("x", null).split("applied").length).isEqualTo(2);
        // an empty genid leaves <genid/> for libvirt to fill
        assertThat(DomainDocument.parse(x.withAgentMetadata("h", "")).genid()).isEmpty();
    }

    @Test
    void metadataIsCreatedWhenMissing() throws Exception {
        DomainDocument x = DomainDocument.parse("<domain type='qemu'><name>a</name><uuid>" + UUID + "</uuid></domain>");
        DomainDocument y = DomainDocument.parse(x.withAgentMetadata("h", "3f0b2e8a-1f43-4c8e-9d8b-0b4a2f6e9c11"));
        assertThat(y.appliedSpecHash()).contains("h");
        assertThat(y.genid()).isEqualTo("3f0b2e8a-1f43-4c8e-9d8b-0b4a2f6e9c11");
    }

    @Test
    void rejectsGarbageDoctypesAndOtherRoots() {
        assertThatThrownBy(() -> DomainDocument.parse("")).hasMessageContaining("empty");
        assertThatThrownBy(() -> DomainDocument.parse("<domain>")).hasMessageContaining("does not parse");
        assertThatThrownBy(() -> DomainDocument.parse("<network/>")).hasMessageContaining("expected <domain>");
        assertThatThrownBy(() -> DomainDocument.parse(
                "<!DOCTYPE domain [<!ENTITY x SYSTEM 'file:///etc/shadow'>]><domain><name>&x;</name></domain>"))
                .hasMessageContaining("does not parse");
    }
}
