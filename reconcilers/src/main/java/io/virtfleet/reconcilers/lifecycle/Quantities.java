package io.virtfleet.reconcilers.lifecycle;

/** Byte counts for humans: 2Gi, 512Mi, 1536Ki, 100. */
final class Quantities {
    private Quantities() {
    }

    static String format(long bytes) {
        if (bytes < 0) {
            return "-" + format(-bytes);
        }
        String[] units = {"", "Ki", "Mi", "Gi", "Ti", "Pi"};
        int u = 0;
        long v = bytes;
        while (u < units.length - 1 && v >= 1024 && v % 1024 == 0) {
            v /= 1024;
            u++;
        }
        return v + units[u];
    }
}
