package io.virtfleet.cli.kube;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine.TypeConversionException;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DurationsTest {
    @ParameterizedTest
    @CsvSource({"90s, 90", "5m, 300", "1h30m, 5400", "120, 120", "2m30s, 150", "1h, 3600"})
    void parsesKubectlDurations(String text, long seconds) {
        assertThat(Durations.parse(text)).isEqualTo(Duration.ofSeconds(seconds));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "soon", "5 m", "m5", "-1s", "1.5h"})
    void refusesAnythingElse(String text) {
        assertThatThrownBy(() -> Durations.parse(text)).isInstanceOf(TypeConversionException.class)
                .hasMessageContaining("is not a duration");
    }

    @ParameterizedTest
    @CsvSource({"90, 90s", "300, 5m", "3600, 1h", "5400, 90m"})
    void formatsAsAPersonWouldWrite(long seconds, String text) {
        assertThat(Durations.format(Duration.ofSeconds(seconds))).isEqualTo(text);
    }
}
