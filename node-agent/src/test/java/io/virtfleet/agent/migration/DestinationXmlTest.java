package io.virtfleet.agent.migration;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DestinationXmlTest {
    private static final String MARK_NS = "https://virtfleet.io/xmlns/libvirt/domain/1.0";

    static String xml(String name, String host, String dir, boolean live) {
        return "<domain type='qemu'><name>" + name + "</name><uuid>7f0c3c1e-1111-4222-8333-944445555666</uuid>"
                + "<genid>0a4e4c1e-5b5e-4c3a-9d0e-7a4f1f2b3c4d</genid>"
                + "<metadata><virtfleet:vm xmlns:virtfleet='" + MARK_NS + "' namespace='ns' name='web' uid='u1' host='"
                + host + "'/>"
                + (live ? "<vfagent:applied xmlns:vfagent='https://virtfleet.io/xmlns/libvirt/agent/1.0' "
                + "specHash='h1'/>" : "") + "</metadata>"
                + "<devices>"
                + (live ? "<disk type='file' device='disk'><source file='/var/lib/virtfleet/images/web.qcow2'/>"
                + "<target dev='vda' bus='virtio'/><address type='pci' domain='0x0000' bus='0x01' slot='0x00' "
                + "function='0x0'/></disk>" : "<disk type='file' device='disk'>"
                + "<source file='/var/lib/virtfleet/images/web.qcow2'/><target dev='vda' bus='virtio'/></disk>")
                + "<serial type='pty'>" + (live ? "<source path='/dev/pts/3'/>" : "")
                + "<log file='" + dir + "/" + name + ".log' append='off'/><target port='0'/></serial>"
                + "<console type='pty'" + (live ? " tty='/dev/pts/3'" : "") + ">"
                + (live ? "<source path='/dev/pts/3'/><log file='" + dir + "/" + name + ".log' append='off'/>" : "")
                + "<target type='serial' port='0'/></console>"
                + "<channel type='unix'><source mode='bind' path='" + dir + "/" + name + ".chan.sock'/>"
                + "<target type='virtio' name='io.virtfleet.guest.0'/></channel>"
                + "</devices></domain>";
    }

    @Test
    void carriesTheTargetsNameMarkAndPathsAndKeepsEverythingThatRuns() {
        String live = xml("vfa-ns-web", "a", "/var/lib/virtfleet/run", true);
        String target = xml("vfb-ns-web", "b", "/var/lib/virtfleet/run-b", false);
        DestinationXml.Result r = DestinationXml.rewrite(live, target);
        assertThat(r.name()).isEqualTo("vfb-ns-web");
        assertThat(r.xml()).contains("<name>vfa-ns-web</name>") // renamed by VIR_MIGRATE_PARAM_DEST_NAME
                .contains("host=\"b\"").doesNotContain("host=\"a\"")
                // what the ABI check compares stays as it runs
                .contains("<uuid>7f0c3c1e-1111-4222-8333-944445555666</uuid>")
                .contains("<genid>0a4e4c1e-5b5e-4c3a-9d0e-7a4f1f2b3c4d</genid>")
                .contains("slot=\"0x00\"").contains("/var/lib/virtfleet/images/web.qcow2")
                // per-host paths: serial log (and its console copy), channel socket
                .contains("file=\"/var/lib/virtfleet/run-b/vfb-ns-web.log\"")
                .doesNotContain("/var/lib/virtfleet/run/vfa-ns-web.log")
                .contains("path=\"/var/lib/virtfleet/run-b/vfb-ns-web.chan.sock\"")
                .doesNotContain("vfa-ns-web.chan.sock")
                // libvirt's pty stays
                .contains("/dev/pts/3")
                // the agent's bookkeeping stays (the target agent redefines once the Domain is re-pointed)
                .contains("specHash=\"h1\"");
    }

    @Test
    void aTargetXmlWithoutTheOwnershipMarkIsRefused() {
        String live = xml("vfa-ns-web", "a", "/r", true);
        assertThatThrownBy(() -> DestinationXml.rewrite(live, "<domain><name>x</name></domain>"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("ownership mark");
    }
}
