package io.virtfleet.reconcilers.domain.xml;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The model reads libvirt's dumped live XML: what the hot-plug planner compares against the rendered domain. */
class DomainXmlCodecTest {
    static String resource(String name) throws IOException {
        try (InputStream in = DomainXmlCodecTest.class.getResourceAsStream("/" + name)) {
            assertThat(in).as(name).isNotNull();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void readsIdentityFromLiveXml() throws IOException {
        DomainDef d = DomainXmlCodec.parse(resource("live-web-1.xml"));
        assertThat(d.type).isEqualTo("kvm");
        assertThat(d.id).isEqualTo(7);
        assertThat(d.name).isEqualTo("default_web-1");
        assertThat(d.uuid).isEqualTo("6cd0b90a-1de9-54ad-bad9-93fffb7e1ff9");
        assertThat(d.genid.value).isEqualTo("00010203-0405-4607-8809-0a0b0c0d0e0f");
        assertThat(d.metadata.virtfleet.namespace).isEqualTo("default");
        assertThat(d.metadata.virtfleet.name).isEqualTo("web-1");
        assertThat(d.metadata.virtfleet.uid).isEqualTo("7c1e0a2e-1b2c-4d5e-8f90-0123456789ab");
        assertThat(d.metadata.virtfleet.host).isEqualTo("node-a");
        assertThat(d.metadata.libosinfo.os.id).isEqualTo("http://debian.org/debian/12");
        assertThat(d.memory.value).isEqualTo(2097152L);
        assertThat(d.vcpu.count).isEqualTo(2);
        assertThat(d.os.type.machine).isEqualTo("pc-q35-7.2");
        assertThat(d.os.boot).extracting(b -> b.dev).containsExactly("hd", "cdrom");
        assertThat(d.features.acpi).isNotNull();
        assertThat(d.features.pae).isNull();
    }

    @Test
    void readsDisksWithTheirAliasTargetAndSource() throws IOException {
        DomainDef d = DomainXmlCodec.parse(resource("live-web-1.xml"));
        assertThat(d.devices.disks).extracting(x -> x.alias.name, x -> x.target.dev, x -> x.target.bus,
                        x -> x.source.file, x -> x.device, x -> x.readonly != null)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple("ua-root", "vda", "virtio",
                                "/var/lib/virtfleet/images/web-1.qcow2", "disk", false),
                        org.assertj.core.groups.Tuple.tuple("ua-install", "sda", "sata",
                                "/var/lib/virtfleet/iso/debian.iso", "cdrom", true),
                        org.assertj.core.groups.Tuple.tuple("virtio-disk1", "vdb", "virtio",
                                "/var/lib/virtfleet/images/scratch.raw", "disk", false));
        assertThat(d.devices.disks.get(0).address.bus).isEqualTo("0x04");
        assertThat(d.devices.disks.get(1).address.type).isEqualTo("drive");
    }

    @Test
    void readsInterfacesWithWhatLibvirtAllocated() throws IOException {
        DomainDef d = DomainXmlCodec.parse(resource("live-web-1.xml"));
        assertThat(d.devices.interfaces).hasSize(2);
        InterfaceDef net = d.devices.interfaces.get(0);
        assertThat(net.type).isEqualTo("network");
        assertThat(net.alias.name).isEqualTo("ua-default");
        assertThat(net.mac.address).isEqualTo("52:54:00:6b:3c:58");
        assertThat(net.source.network).isEqualTo("default");
        assertThat(net.source.bridge).isEqualTo("virbr0");
        assertThat(net.target.dev).isEqualTo("vnet3");
        assertThat(net.model.type).isEqualTo("virtio");
        InterfaceDef bridge = d.devices.interfaces.get(1);
        assertThat(bridge.source.bridge).isEqualTo("br0");
        assertThat(bridge.alias.name).isEqualTo("net1");
    }

    @Test
    void readsOtherDevicesAndIgnoresWhatItDoesNotModel() throws IOException {
        DomainDef d = DomainXmlCodec.parse(resource("live-web-1.xml"));
        assertThat(d.devices.controllers).extracting(c -> c.type, c -> c.model)
                .contains(org.assertj.core.groups.Tuple.tuple("pci", "pcie-root-port"));
        ControllerDef port = d.devices.controllers.stream().filter(c -> "pcie-root-port".equals(c.model))
                .findFirst().orElseThrow();
        assertThat(port.modelName.name).isEqualTo("pcie-root-port");
        assertThat(port.target.chassis).isEqualTo(1);
        assertThat(port.alias.name).isEqualTo("pci.1");
        assertThat(d.devices.serials.get(0).source.path).isEqualTo("/dev/pts/3");
        assertThat(d.devices.channels.get(0).target.state).isEqualTo("connected");
        assertThat(d.devices.graphics.get(0).port).isEqualTo("5900");
        assertThat(d.devices.graphics.get(0).listens).extracting(l -> l.address).containsExactly("127.0.0.1");
        assertThat(d.devices.memballoon.model).isEqualTo("virtio");
        assertThat(d.devices.rngs.get(0).backend.source).isEqualTo("/dev/urandom");
    }

    @Test
    void readsARealLibvirtDump() throws IOException {
        DomainDef d = DomainXmlCodec.parse(resource("live-seed-004-tcg.xml"));
        assertThat(d.id).isEqualTo(51);
        assertThat(d.type).isEqualTo("qemu");
        assertThat(d.metadata.virtfleet.name).isEqualTo("gentoo-2");
        assertThat(d.cpu.model.name).isEqualTo("qemu64");
        assertThat(d.devices.disks).extracting(x -> x.alias.name, x -> x.target.dev, x -> x.source == null)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("ua-root", "vda", false),
                        org.assertj.core.groups.Tuple.tuple("ua-install", "sda", true));
        assertThat(d.devices.disks.get(1).driver.type).as("libvirt drops the format of an empty drive").isNull();
        assertThat(d.devices.controllers).filteredOn(c -> "pcie-root-port".equals(c.model)).hasSize(14);
        assertThat(d.devices.consoles.get(0).source.path).isEqualTo("/dev/pts/0");
        assertThat(d.devices.channels).extracting(c -> c.target.name, c -> c.target.state).containsExactly(
                org.assertj.core.groups.Tuple.tuple("org.qemu.guest_agent.0", "disconnected"),
                org.assertj.core.groups.Tuple.tuple("com.redhat.spice.0", "disconnected"));
        assertThat(d.devices.graphics.get(0).port).isEqualTo("5900");
        assertThat(d.devices.redirdevs).hasSize(2);
    }

    @Test
    void writesWhatItReads() throws IOException {
        DomainDef d = DomainXmlCodec.parse(resource("live-web-1.xml"));
        String written = DomainXmlCodec.write(d);
        DomainDef again = DomainXmlCodec.parse(written);
        assertThat(DomainXmlCodec.write(again)).isEqualTo(written);
        assertThat(written).contains("<genid>00010203-0405-4607-8809-0a0b0c0d0e0f</genid>")
                .contains("<controller type=\"pci\" index=\"1\" model=\"pcie-root-port\">")
                .contains("<model name=\"pcie-root-port\"/>")
                .doesNotContain("seclabel").doesNotContain("watchdog");
    }

    @Test
    void emptyMarkerElementsArePresentNotAbsent() {
        DomainDef d = DomainXmlCodec.parse("<domain type='kvm'><genid/><features><acpi/></features>"
                + "<devices><disk device='cdrom'><readonly/></disk></devices></domain>");
        assertThat(d.genid).isNotNull();
        assertThat(d.genid.value).isNull();
        assertThat(d.features.acpi).isNotNull();
        assertThat(d.devices.disks.get(0).readonly).isNotNull();
    }

    @Test
    void rejectsWhatIsNotXmlAndEntities() {
        assertThatThrownBy(() -> DomainXmlCodec.parse("<domain")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> DomainXmlCodec.parse("<!DOCTYPE d [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>"
                + "<domain><name>&x;</name></domain>")).isInstanceOf(IllegalArgumentException.class);
    }
}
