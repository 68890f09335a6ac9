package io.virtfleet.agent.console;

import org.junit.jupiter.api.Test;

import java.io.IOException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The VNC display's index, as virDomainOpenGraphics counts a domain's {@code <graphics>}: all of them, in order. */
class VncIndexTest {
    static String domain(String devices) {
        return "<domain type='kvm'><name>vf-web-1</name><devices>" + devices + "</devices></domain>";
    }

    @Test
    void countsEveryGraphicsDeviceBeforeTheVncOne() throws IOException {
        assertThat(ConsoleServer.vncIndex(domain("<graphics type='vnc' port='-1'/>"))).isEqualTo(0);
        assertThat(ConsoleServer.vncIndex(domain("<graphics type='spice'/><video><model type='qxl'/></video>"
                + "<graphics type='vnc'><listen type='socket'/></graphics>"))).isEqualTo(1);
        assertThat(ConsoleServer.vncIndex(domain("<graphics type='vnc'/><graphics type='vnc'/>"))).isEqualTo(0);
    }

    @Test
    void readsTheDomainNotItsText() throws IOException {
        // A comment or a metadata element mentioning graphics is not a display.
        assertThat(ConsoleServer.vncIndex(domain("<!-- <graphics type='spice'/> -->"
                + "<graphics type=\"spice\"/><graphics type=\"vnc\"/>"))).isEqualTo(1);
    }

    @Test
    void noVncDisplayOrNoDomainIsAnError() {
        assertThatThrownBy(() -> ConsoleServer.vncIndex(domain("<graphics type='spice'/>")))
                .isInstanceOf(IOException.class).hasMessage("the VM has no VNC display (spec.graphics: vnc)");
        assertThatThrownBy(() -> ConsoleServer.vncIndex(null))
                .isInstanceOf(IOException.class).hasMessage("the VM has no VNC display (spec.graphics: vnc)");
        assertThatThrownBy(() -> ConsoleServer.vncIndex("<domain"))
                .isInstanceOf(IOException.class).hasMessageStartingWith("the VM's domain XML does not parse: ");
    }
}
