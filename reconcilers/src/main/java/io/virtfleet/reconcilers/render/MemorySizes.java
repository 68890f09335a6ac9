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
        long fast = kibOfWholeAmount(q);
        if (fast >= 0) {
            return BigInteger.valueOf(fast);
        }
        BigDecimal bytes = Quantity.getAmountInBytes(q);
        return bytes.divide(BigDecimal.valueOf(1024), 0, RoundingMode.CEILING).toBigIntegerExact();
    }

    /**
     * The usual quantity — a whole number with a binary or decimal suffix ({@code 512Mi}, {@code 2G}) — in long
     * arithmetic, or -1 for anything else (fractions, exponents, overflow), which takes fabric8's BigDecimal path: the
     * renderer sizes memory on every render, and that path was a twentieth of a render.
     */
    static long kibOfWholeAmount(Quantity q) {
        String amount = q.getAmount();
        String format = q.getFormat() == null ? "" : q.getFormat();
        if (amount == null || amount.isEmpty() || amount.length() > 12) {
            return -1;
        }
        for (int i = 0; i < amount.length(); i++) {
            char c = amount.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
        }
        long multiplier = switch (format) {
            case "" -> 1L;
            case "Ki" -> 1L << 10;
            case "Mi" -> 1L << 20;
            case "Gi" -> 1L << 30;
            case "Ti" -> 1L << 40;
            case "k" -> 1_000L;
            case "M" -> 1_000_000L;
            case "G" -> 1_000_000_000L;
            default -> -1L;
        };
        if (multiplier < 0) {
            return -1;
        }
        try {
            long bytes = Math.multiplyExact(Long.parseLong(amount), multiplier);
            return bytes / 1024 + (bytes % 1024 == 0 ? 0 : 1);
        } catch (ArithmeticException e) {
            return -1;
        }
    }
}
