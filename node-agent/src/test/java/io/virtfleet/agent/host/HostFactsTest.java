package io.virtfleet.agent.host;

import io.virtfleet.api.v1alpha1.HostCpu;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class HostFactsTest {
    static String caps(String microcode, String features) {
        return "<capabilities><host><uuid>eb1e5992-93f1-4b9f-b17b-cf78ad4f3595</uuid><cpu><arch>x86_64</arch>"
                + "<model>EPYC</model><vendor>AMD</vendor><microcode version='" + microcode + "'/>"
                + "<signature family='25' model='17' stepping='1'/><topology sockets='1' dies='1' cores='2' "
                + "threads='1'/>" + features + "</cpu></host><guest><os_type>hvm</os_type></guest></capabilities>";
    }

    @Test
    void theCpuSignatureIgnoresMicrocodeAndFeatureOrderButNotFeatures() {
        HostCpu a = HostFacts.cpu(caps("1", "<feature name='avx2'/><feature name='aes'/>"));
        HostCpu b = HostFacts.cpu(caps("2", "<feature name='aes'/><feature name='avx2'/>"));
        HostCpu c = HostFacts.cpu(caps("1", "<feature name='aes'/>"));
        assertThat(a.vendor).isEqualTo("AMD");
        assertThat(a.model).isEqualTo("EPYC");
        assertThat(a.arch).isEqualTo("x86_64");
        assertThat(a.signature).hasSize(64).isEqualTo(b.signature).isNotEqualTo(c.signature);
    }

    @Test
    void bridgesAreTheInterfacesWithABridgeDirectory(@TempDir Path net) throws Exception {
        Files.createDirectories(net.resolve("br0/bridge"));
        Files.createDirectories(net.resolve("virbr0/bridge"));
        Files.createDirectories(net.resolve("eth0"));
        assertThat(HostFacts.bridges(net)).containsExactly("br0", "virbr0");
        assertThat(HostFacts.bridges(net.resolve("missing"))).isEmpty();
    }
}
