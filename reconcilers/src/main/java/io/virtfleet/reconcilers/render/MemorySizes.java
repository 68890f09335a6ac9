package io.virtfleet.reconcilers.render;

import io.fabric8.kubernetes.api.model.Quantity;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;

/** Kubernetes memory quantities to libvirt's KiB. */
public final class MemorySizes {
    /** 1 PiB in KiB: far above any host, low enough that arithmetic on it never overflows. */
    public static final long MAX_KIB = 1L << 40;

    private MemorySizes() {
    }

    /**
     * Bytes of the quantity, rounded up to whole KiB.
     *
     * @throws IllegalArgumentException when the quantity does not parse
     */
    public static BigInteger kib(Quantity q) {
        BigDecimal bytes = Quantity.getAmountInBytes(q);
        return bytes.divide(BigDecimal.valueOf(1024), 0, RoundingMode.CEILING).toBigIntegerExact();
    }
}
