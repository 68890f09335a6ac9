package io.virtfleet.reconcilers.validation;

import io.fabric8.kubernetes.api.model.Quantity;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;

/** Sizes of blank disks: a Kubernetes quantity, rounded up to whole 512-byte sectors as qemu-img does. */
public final class DiskSizes {
    public static final long SECTOR = 512;
    /** 64 TiB: far above a sensible VM disk, and below every format limit of qcow2 and raw files. */
    public static final long MAX_BYTES = 64L << 40;

    private DiskSizes() {
    }

    /** Why the size is not usable, or null. */
    public static String problem(Quantity q) {
        String text = q.toString();
        if (Text.problem(text) != null) {
            return Text.problem(text);
        }
        BigInteger bytes;
        try {
            bytes = exactBytes(q);
        } catch (RuntimeException e) {
            return Text.quote(text) + " is not a quantity (e.g. 10Gi)";
        }
        if (bytes.signum() <= 0) {
            return "must be greater than 0";
        }
        if (bytes.compareTo(BigInteger.valueOf(MAX_BYTES)) > 0) {
            return "must be at most 64Ti";
        }
        return null;
    }

    /** Bytes, rounded up to a whole sector. Only for sizes {@link #problem} accepted. */
    public static long bytes(Quantity q) {
        long b = exactBytes(q).longValueExact();
        return (b + SECTOR - 1) / SECTOR * SECTOR;
    }

    private static BigInteger exactBytes(Quantity q) {
        BigDecimal bytes = Quantity.getAmountInBytes(q);
        return bytes.setScale(0, RoundingMode.CEILING).toBigIntegerExact();
    }
}
