package io.virtfleet.cli.vm;

import io.virtfleet.cli.kube.Refusal;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** kubectl port-forward's mapping forms: LOCAL:GUEST, :GUEST (a free local port), GUEST (the same number). */
class PortForwardMappingTest {
    @ParameterizedTest
    @CsvSource({"2222:22, 2222, 22", ":8080, 0, 8080", "5432, 5432, 5432", "0:80, 0, 80"})
    void parses(String text, int local, int guest) {
        assertThat(PortForwardCommand.parse(text)).isEqualTo(new PortForwardCommand.Mapping(local, guest));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "ssh|expected LOCAL:GUEST", "22:|expected LOCAL:GUEST", "1:2:3|expected LOCAL:GUEST",
        "2222:0|0 is not a TCP port (1-65535)", "70000:22|70000 is not a TCP port (0-65535)",
        "99999999999|is not a TCP port"})
    void refusesWithOneLineNamingTheMapping(String text, String why) {
        assertThatThrownBy(() -> PortForwardCommand.parse(text)).isInstanceOf(Refusal.class)
                .hasMessageStartingWith("port mapping " + text + ": ").hasMessageContaining(why);
    }
}
