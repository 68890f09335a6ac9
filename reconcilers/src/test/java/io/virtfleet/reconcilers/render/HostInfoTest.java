package io.virtfleet.reconcilers.render;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class HostInfoTest {
    @Test
    void defaults() {
        HostInfo h = HostInfo.defaults("node-a");
        assertThat(h.allowedDiskRoots()).containsExactly("/var/lib/virtfleet");
        assertThat(h.domainPrefix()).isEmpty();
        assertThat(h.consoleLogDir()).isNull();
        assertThat(h.emulator()).isEqualTo("/usr/bin/qemu-system-x86_64");
        assertThat(new HostInfo("n", null, null, null, null).emulator()).isEqualTo(HostInfo.DEFAULT_EMULATOR);
    }

    @ParameterizedTest
    @CsvSource({"'a/b', ", "'a b', ", "'', relative/log", "'', /var/log/", "'', /var/../log"})
    void refusesPrefixesAndLogDirsThatCouldEscape(String prefix, String logDir) {
        assertThatThrownBy(() -> new HostInfo("n", List.of(), prefix, logDir, null))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
