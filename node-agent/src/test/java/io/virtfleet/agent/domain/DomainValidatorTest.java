package io.virtfleet.agent.domain;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.virtfleet.api.v1alpha1.ApiGroup;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.DomainSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class DomainValidatorTest {
    static final String UUID = "7d3c1f5e-3b1a-4c55-9e0e-2a8f7c9b6d41";

    @TempDir
    Path tmp;

    Path root() throws Exception {
        Path root = tmp.resolve("virtfleet");
        Files.createDirectories(root.resolve("images"));
        Files.writeString(root.resolve("images/web-1.qcow2"), "x");
        return root;
    }

    Domain domain(String diskPath, String markHost) {
        Domain d = new Domain();
        d.setMetadata(new ObjectMetaBuilder().withNamespace("default").withName("web-1").build());
        DomainSpec s = new DomainSpec();
        s.host = "node-a";
        s.uuid = UUID;
        s.powerState = "Running";
        s.domainXml = """
                <domain type='qemu'>
                  <name>vf-web-1</name>
                  <uuid>%s</uuid>
                  <metadata><virtfleet:vm xmlns:virtfleet="%s" namespace="default" name="web-1" host="%s"/></metadata>
                  <devices>
                    <emulator>/usr/bin/qemu-system-x86_64</emulator>
                    <disk type='file' device='disk'><source file='%s'/><target dev='vda'/></disk>
                  </devices>
                </domain>
                """.formatted(UUID, ApiGroup.LIBVIRT_METADATA_NS, markHost, diskPath);
        d.setSpec(s);
        return d;
    }

    DomainValidator validator(Path root) {
        return new DomainValidator("node-a", "vf-", new PathPolicy(List.of(root.toString())));
    }

    @Test
    void acceptsAWellFormedDomain() throws Exception {
        Path root = root();
        var r = validator(root).validate(domain(root + "/images/web-1.qcow2", "node-a"),
                Set.of("/usr/bin/qemu-system-x86_64"));
        assertThat(r.problems()).isEmpty();
        assertThat(r.specHash()).hasSize(32);
    }

    @Test
    void refusesTheNilUuidOfXensControlDomain() throws Exception {
        Path root = root();
        Domain d = domain(root + "/images/web-1.qcow2", "node-a");
        String nil = "00000000-0000-0000-0000-000000000000";
        d.getSpec().uuid = nil;
        d.getSpec().domainXml = d.getSpec().domainXml.replace(UUID, nil);
        var r = validator(root).validate(d, Set.of());
        assertThat(r.valid()).isFalse();
        assertThat(r.summary()).contains("spec.uuid " + nil + " is the nil UUID")
                .contains("control domain (Domain-0): never a guest");
    }

    @Test
    void refusesDiskOutsideTheRootsNamingThePath() throws Exception {
        var r = validator(root()).validate(domain("/etc/shadow", "node-a"), Set.of());
        assertThat(r.valid()).isFalse();
        assertThat(r.summary()).contains("/etc/shadow").contains("outside the allowed roots");
    }

    @Test
    void refusesSymlinkEscapingTheRoot() throws Exception {
        Path root = root();
        Files.createSymbolicLink(root.resolve("images/evil.qcow2"), Path.of("/etc/shadow"));
        var r = validator(root).validate(domain(root + "/images/evil.qcow2", "node-a"), Set.of());
        assertThat(r.summary()).contains("resolves to /etc/shadow");
    }

    @Test
    void refusesDotDotAndRelativePaths() throws Exception {
        Path root = root();
        assertThat(validator(root).validate(domain(root + "/images/../../../etc/shadow", "node-a"), Set.of())
                .summary()).contains("not normalized");
        assertThat(validator(root).validate(domain("images/web-1.qcow2", "node-a"), Set.of()).summary())
                .contains("not absolute");
    }

    @Test
    void refusesMissingOrForeignMark() throws Exception {
        Path root = root();
        Domain d = domain(root + "/images/web-1.qcow2", "node-b");
        assertThat(validator(root).validate(d, Set.of()).summary()).contains("names host 'node-b'");
        d.getSpec().domainXml = d.getSpec().domainXml.replace(ApiGroup.LIBVIRT_METADATA_NS, "urn:other");
        assertThat(validator(root).validate(d, Set.of()).summary()).contains("lacks virtfleet's ownership mark");
    }

    @Test
    void refusesUuidMismatchAndWrongPrefixAndUnknownEmulator() throws Exception {
        Path root = root();
        Domain d = domain(root + "/images/web-1.qcow2", "node-a");
        d.getSpec().uuid = "00000000-0000-4000-8000-000000000000";
        d.getSpec().domainXml = d.getSpec().domainXml.replace("vf-web-1", "web-1");
        var r = validator(root).validate(d, Set.of("/usr/bin/qemu-system-aarch64"));
        assertThat(r.problems()).anyMatch(p -> p.contains("differs from spec.uuid"))
                .anyMatch(p -> p.contains("domain prefix 'vf-'"))
                .anyMatch(p -> p.contains("<emulator> /usr/bin/qemu-system-x86_64"));
    }

    @Test
    void refusesBadSpecFields() throws Exception {
        Domain d = domain(root() + "/images/web-1.qcow2", "node-a");
        d.getSpec().uuid = "nope";
        d.getSpec().powerState = "Flying";
        d.getSpec().genid = "not-a-guid";
        assertThat(validator(root()).validate(d, Set.of()).problems())
                .anyMatch(p -> p.contains("spec.uuid 'nope'"))
                .anyMatch(p -> p.contains("Flying"))
                .anyMatch(p -> p.contains("spec.genid"));
        d.getSpec().domainXml = "<domain";
        assertThat(validator(root()).validate(d, Set.of()).summary()).contains("does not parse");
    }

    @Test
    void firmwareNvramBootloaderAndInterfaceScriptsAreChecked() throws Exception {
        Path root = root();
        Domain d = domain(root + "/images/web-1.qcow2", "node-a");
        String ok = d.getSpec().domainXml.replace("<devices>", "<os><loader readonly='yes' type='pflash'>"
                + "/usr/share/OVMF/OVMF_CODE_4M.fd</loader><nvram>/var/lib/libvirt/qemu/nvram/vf-web-1_VARS.fd"
                + "</nvram></os><devices>");
        d.getSpec().domainXml = ok;
        assertThat(validator(root).validate(d, Set.of()).problems()).isEmpty();

        d.getSpec().domainXml = ok.replace("/usr/share/OVMF/OVMF_CODE_4M.fd", "/etc/shadow")
                .replace("/var/lib/libvirt/qemu/nvram/vf-web-1_VARS.fd", "/etc/passwd")
                .replace("<os>", "<bootloader>/bin/sh</bootloader><os>")
                .replace("</devices>", "<interface type='ethernet'><script path='/tmp/x.sh'/></interface></devices>");
        assertThat(validator(root).validate(d, Set.of()).problems())
                .anyMatch(p -> p.startsWith("<os><loader>") && p.contains("/etc/shadow"))
                .anyMatch(p -> p.startsWith("<os><nvram>") && p.contains("/etc/passwd"))
                .anyMatch(p -> p.contains("<bootloader> /bin/sh"))
                .anyMatch(p -> p.contains("<interface><script> /tmp/x.sh"));
    }

    /** VNC and SPICE authenticate nobody: a display on a routable address would be open to the network. */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource(delimiter = '|', value = {
        "<graphics type='vnc'><listen type='socket'/></graphics>|",
        "<graphics type='vnc'><listen type='none'/></graphics>|",
        "<graphics type='spice' autoport='yes'><listen type='address' address='127.0.0.1'/></graphics>|",
        "<graphics type='vnc' listen='::1'><listen type='address' address='::1'/></graphics>|",
        "<graphics type='sdl'/>|",
        "<graphics type='vnc' autoport='yes'><listen type='address' address='0.0.0.0'/></graphics>|address='0.0.0.0'",
        "<graphics type='spice' listen='192.0.2.7'/>|listen='192.0.2.7'",
        "<graphics type='vnc' autoport='yes'><listen type='address'/></graphics>|<listen type='address'>",
        "<graphics type='vnc'><listen type='network' network='default'/></graphics>|<listen type='network'>",
        "<graphics type='vnc' autoport='yes'/>|has no <listen>",
        "<graphics type='rdp'><listen type='address' address='127.0.0.1.example.org'/></graphics>|rdp",
    })
    void displaysListenOnlyOnASocketOrLoopback(String graphics, String problem) throws Exception {
        Path root = root();
        Domain d = domain(root + "/images/web-1.qcow2", "node-a");
        d.getSpec().domainXml = d.getSpec().domainXml.replace("</devices>", graphics + "</devices>");
        var problems = validator(root).validate(d, Set.of()).problems();
        if (problem == null) {
            assertThat(problems).isEmpty();
        } else {
            assertThat(problems).singleElement().asString().contains(problem).containsAnyOf("UNIX socket",
                    "type='socket'");
        }
    }

    @Test
    void specHashChangesWithXmlAndGenid() {
        DomainSpec a = new DomainSpec();
        a.domainXml = "<domain/>";
        DomainSpec b = new DomainSpec();
        b.domainXml = "<domain/>";
        assertThat(DomainValidator.specHash(a)).isEqualTo(DomainValidator.specHash(b));
        b.genid = "3f0b2e8a-1f43-4c8e-9d8b-0b4a2f6e9c11";
        assertThat(DomainValidator.specHash(a)).isNotEqualTo(DomainValidator.specHash(b));
        b.genid = null;
        b.domainXml = "<domain />";
        assertThat(DomainValidator.specHash(a)).isNotEqualTo(DomainValidator.specHash(b));
    }
}
