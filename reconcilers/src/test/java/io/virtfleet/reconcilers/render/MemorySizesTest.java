package io.virtfleet.reconcilers.render;

import io.fabric8.kubernetes.api.model.Quantity;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.math.BigDecimal;
import java.math.RoundingMode;

import static org.assertj.core.api.Assertions.assertThat;

/** MemorySizes.kib's long fast path gives what fabric8's BigDecimal path gives, and steps aside where it cannot. */
class MemorySizesTest {
    @ParameterizedTest
    @ValueSource(strings = {"1", "1023", "1024", "1025", "512Mi", "1Gi", "3Ti", "2G", "1500M", "7k", "64Ki",
            "999999999999Gi", "1.5Gi", "1e3", "0.5", "1Pi", "1Ei", "0", "100m"})
    void fastPathAgreesWithFabric8(String text) {
        Quantity q = new Quantity(text);
        BigDecimal bytes = Quantity.getAmountInBytes(q);
        var expected = bytes.divide(BigDecimal.valueOf(1024), 0, RoundingMode.CEILING).toBigIntegerExact();
        assertThat(MemorySizes.kib(q)).as(text).isEqualTo(expected);
        long fast = MemorySizes.kibOfWholeAmount(q);
        if (fast >= 0) {
            assertThat(fast).as(text).isEqualTo(expected.longValueExact());
        }
    }
}
