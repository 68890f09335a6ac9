package io.virtfleet.bench;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;

/** Percentiles and a least-squares line; nothing clever. */
public final class Stats {
    private Stats() {
    }

    /** Nearest-rank percentile (p in 0..100) of the values; NaN when there are none. */
    public static double percentile(Collection<? extends Number> values, double p) {
        if (values.isEmpty()) {
            return Double.NaN;
        }
        List<Double> sorted = sorted(values);
        int rank = (int) Math.ceil(p / 100.0 * sorted.size());
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, rank - 1)));
    }

    public static double max(Collection<? extends Number> values) {
        return values.stream().mapToDouble(Number::doubleValue).max().orElse(Double.NaN);
    }

    public static double min(Collection<? extends Number> values) {
        return values.stream().mapToDouble(Number::doubleValue).min().orElse(Double.NaN);
    }

    public static double mean(Collection<? extends Number> values) {
        return values.stream().mapToDouble(Number::doubleValue).average().orElse(Double.NaN);
    }

    public static double median(Collection<? extends Number> values) {
        if (values.isEmpty()) {
            return Double.NaN;
        }
        List<Double> s = sorted(values);
        int n = s.size();
        return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }

    public static List<Double> sorted(Collection<? extends Number> values) {
        List<Double> out = new ArrayList<>();
        for (Number v : values) {
            out.add(v.doubleValue());
        }
        Collections.sort(out);
        return out;
    }

    /** Slope of the least-squares line through (x[i], y[i]); NaN with fewer than two distinct x. */
    public static double slope(List<? extends Number> x, List<? extends Number> y) {
        int n = Math.min(x.size(), y.size());
        if (n < 2) {
            return Double.NaN;
        }
        double mx = 0;
        double my = 0;
        for (int i = 0; i < n; i++) {
            mx += x.get(i).doubleValue();
            my += y.get(i).doubleValue();
        }
        mx /= n;
        my /= n;
        double sxy = 0;
        double sxx = 0;
        for (int i = 0; i < n; i++) {
            double dx = x.get(i).doubleValue() - mx;
            sxy += dx * (y.get(i).doubleValue() - my);
            sxx += dx * dx;
        }
        return sxx == 0 ? Double.NaN : sxy / sxx;
    }

    /** Rounds for reports: to {@code digits} decimals; NaN and infinities stay as they are. */
    public static double round(double v, int digits) {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            return v;
        }
        double f = Math.pow(10, digits);
        return Math.round(v * f) / f;
    }
}
