package io.virtfleet.reconcilers.render;

import io.virtfleet.api.v1alpha1.ApiGroup;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.reconcilers.manifest.ManifestDocument;
import io.virtfleet.reconcilers.manifest.Manifests;
import io.virtfleet.reconcilers.testing.LibvirtSchema;
import io.virtfleet.reconcilers.testing.Xml;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * examples/seed-004.yaml renders to the q35 domain virt-install wrote (resource seed-004.xml), element by element. What is not
 * compared: {@code <address>} elements (allocated by libvirt; the renderer deliberately leaves them out) and the two
 * things virtfleet adds to every domain, asserted separately here: its naming rule (namespace_name) and its marks
 * (ua- aliases on disks and interfaces, the ownership mark in the metadata).
 */
class GoldenSeed004Test {
    @Test
    void seed004ManifestRendersTheSeedDomain() throws IOException {
        VirtualMachine vm = manifest();
        DomainXml out = DomainRenderer.render(vm, HostInfo.defaults("node-a"),
                new RenderOptions(Identity.uuidFor(vm), null));
        LibvirtSchema.assertValid(out.xml());

        Element seed = Xml.parse(resource("seed-004.xml")).getDocumentElement();
        Element rendered = Xml.parse(out.xml()).getDocumentElement();

        assertThat(out.name()).isEqualTo("default_gentoo-2");
        assertThat(Xml.values(out.xml(), "/domain/devices/disk/alias/@name")).containsExactly("ua-root", "ua-install");
        assertThat(Xml.values(out.xml(), "/domain/devices/interface/alias/@name")).containsExactly("ua-default");
        assertThat(Xml.count(out.xml(), "/domain/metadata/*[local-name()='vm']")).isEqualTo(1);

        rendered.getElementsByTagName("name").item(0).setTextContent("gentoo-2");
        Predicate<Element> ignored = e -> e.getLocalName().equals("address")
                || (e.getLocalName().equals("serial") && e.getParentNode().getLocalName().equals("disk"))
                || (e.getLocalName().equals("alias") && e.getAttribute("name").startsWith(ApiGroup.DEVICE_ALIAS_PREFIX))
                || ApiGroup.LIBVIRT_METADATA_NS.equals(e.getNamespaceURI())
                || isPortForwardChannel(e)
                || (e.getLocalName().equals("listen") && e.getParentNode().getLocalName().equals("graphics"));
        List<String> differences = Xml.differences(seed, rendered, ignored);
        assertThat(differences).as("rendered:%n%s", out.xml()).isEmpty();
        // virtfleet's own: the display on loopback only (the seed leaves it to qemu.conf), the port-forward channel.
        assertThat(Xml.values(out.xml(), "/domain/devices/graphics/listen/@address")).containsExactly("127.0.0.1");
        assertThat(Xml.values(out.xml(), "/domain/devices/channel/target/@name"))
                .contains(HostInfo.PORT_FORWARD_CHANNEL_NAME);
    }

    private static boolean isPortForwardChannel(Element e) {
        if (!e.getLocalName().equals("channel")) {
            return false;
        }
        var targets = e.getElementsByTagName("target");
        return targets.getLength() == 1
                && HostInfo.PORT_FORWARD_CHANNEL_NAME.equals(((Element) targets.item(0)).getAttribute("name"));
    }

    @Test
    void theComparisonNoticesADifference() throws IOException {
        VirtualMachine vm = manifest();
        vm.getSpec().interfaces.get(0).macAddress = "52:54:00:87:e4:d1";
        DomainXml out = DomainRenderer.render(vm, HostInfo.defaults("node-a"),
                new RenderOptions(Identity.uuidFor(vm), null));
        Element seed = Xml.parse(resource("seed-004.xml")).getDocumentElement();
        Element rendered = Xml.parse(out.xml()).getDocumentElement();
        assertThat(Xml.differences(seed, rendered, e -> false)).anyMatch(d -> d.contains("/interface[1]/mac[1]"));
    }

    static VirtualMachine manifest() throws IOException {
        List<ManifestDocument> docs = Manifests.parse(Files.readString(Path.of("../examples/seed-004.yaml")));
        assertThat(docs).hasSize(1);
        assertThat(docs.get(0).errors()).isEmpty();
        return docs.get(0).vm();
    }

    static String resource(String name) throws IOException {
        try (InputStream in = GoldenSeed004Test.class.getResourceAsStream("/" + name)) {
            assertThat(in).as(name).isNotNull();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
