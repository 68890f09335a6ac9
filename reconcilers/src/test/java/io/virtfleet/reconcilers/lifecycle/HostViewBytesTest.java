package io.virtfleet.reconcilers.lifecycle;

import io.fabric8.kubernetes.api.model.Quantity;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;

/** Quantities are remembered per spelling: a repeated lookup must give exactly what the first computed. */
class HostViewBytesTest {
    @ParameterizedTest(name = "{0}")
    @CsvSource(nullValues = "null", value = {
            "128Mi, 134217728",
            "1Gi, 1073741824",
            "1G, 1000000000",
            "1.5Gi, 1610612736",
            "512, 512",
            "lots, null",
            "12Qi, null",
    })
    void bytesAreTheSameTheSecondTime(String spelling, Long expected) {
        assertThat(HostView.bytes(new Quantity(spelling))).isEqualTo(expected);
        assertThat(HostView.bytes(new Quantity(spelling))).as("remembered").isEqualTo(expected);
    }

    @ParameterizedTest(name = "amount {0} format {1}")
    @CsvSource({"1, Gi, 1073741824", "1, G, 1000000000"})
    void theFormatIsPartOfTheSpelling(String amount, String format, long expected) {
        assertThat(HostView.bytes(new Quantity(amount, format))).isEqualTo(expected);
    }
}
