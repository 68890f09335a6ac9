package io.virtfleet.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Hand-written SVG line charts: latency CDFs and scale curves. No plotting library. */
public final class Svg {
    private static final int W = 760;
    private static final int H = 440;
    private static final int LEFT = 70;
    private static final int RIGHT = 20;
    private static final int TOP = 40;
    private static final int BOTTOM = 55;
    public static final String[] COLORS = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"};

    /** One line: points in data coordinates; {@code step} draws a staircase (for CDFs). */
    public record Series(String name, List<double[]> points, boolean step, boolean dashed) {
    }

    private Svg() {
    }

    /** A CDF series: the sorted values against the fraction of values at or below each. */
    public static Series cdf(String name, List<? extends Number> values) {
        List<Double> s = Stats.sorted(values);
        List<double[]> pts = new ArrayList<>();
        int n = s.size();
        if (n > 0) {
            pts.add(new double[] {s.get(0), 0});
        }
        for (int i = 0; i < n; i++) {
            pts.add(new double[] {s.get(i), (i + 1.0) / n});
        }
        return new Series(name, pts, true, false);
    }

    /** A vertical marker line at x (e.g. a target), drawn dashed. */
    public static Series vline(String name, double x) {
        return new Series(name, List.of(new double[] {x, 0}, new double[] {x, Double.NaN}), false, true);
    }

    public static void write(Path file, String title, String xLabel, String yLabel, List<Series> series,
                             Double yMaxFixed) throws IOException {
        Files.writeString(file, render(title, xLabel, yLabel, series, yMaxFixed), StandardCharsets.UTF_8);
    }

    public static String render(String title, String xLabel, String yLabel, List<Series> series, Double yMaxFixed) {
        double xMax = 0;
        double yMax = 0;
        for (Series s : series) {
            for (double[] p : s.points()) {
                if (!Double.isNaN(p[0])) {
                    xMax = Math.max(xMax, p[0]);
                }
                if (!Double.isNaN(p[1])) {
                    yMax = Math.max(yMax, p[1]);
                }
            }
        }
        xMax = nice(xMax <= 0 ? 1 : xMax * 1.05);
        yMax = yMaxFixed != null ? yMaxFixed : nice(yMax <= 0 ? 1 : yMax * 1.05);
        int pw = W - LEFT - RIGHT;
        int ph = H - TOP - BOTTOM;
        StringBuilder b = new StringBuilder();
        b.append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").append(W).append("\" height=\"").append(H)
                .append("\" viewBox=\"0 0 ").append(W).append(' ').append(H)
                .append("\" font-family=\"sans-serif\" font-size=\"12\">\n");
        b.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        b.append(text(W / 2.0, 22, title, "middle", 15));
        // grid and ticks
        for (double t : ticks(xMax)) {
            double x = LEFT + t / xMax * pw;
            b.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#e5e5e5\"/>%n",
                    x, TOP, x, TOP + ph));
            b.append(text(x, TOP + ph + 16, label(t), "middle", 11));
        }
        for (double t : ticks(yMax)) {
            double y = TOP + ph - t / yMax * ph;
            b.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#e5e5e5\"/>%n",
                    LEFT, y, LEFT + pw, y));
            b.append(text(LEFT - 6, y + 4, label(t), "end", 11));
        }
        b.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" "
                + "stroke=\"#333\"/>%n", LEFT, TOP, pw, ph));
        b.append(text(LEFT + pw / 2.0, H - 14, xLabel, "middle", 12));
        b.append(String.format(Locale.ROOT, "<text x=\"16\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"12\" "
                + "transform=\"rotate(-90 16 %.1f)\">%s</text>%n", TOP + ph / 2.0, TOP + ph / 2.0, esc(yLabel)));
        // series
        int i = 0;
        for (Series s : series) {
            String color = COLORS[i % COLORS.length];
            StringBuilder d = new StringBuilder();
            double prevY = Double.NaN;
            for (double[] p : s.points()) {
                double px = LEFT + Math.min(p[0], xMax) / xMax * pw;
                double py = Double.isNaN(p[1]) ? TOP : TOP + ph - Math.min(p[1], yMax) / yMax * ph;
                if (d.length() == 0) {
                    d.append(String.format(Locale.ROOT, "M%.1f,%.1f", px, py));
                } else {
                    if (s.step() && !Double.isNaN(prevY)) {
                        d.append(String.format(Locale.ROOT, " L%.1f,%.1f", px, prevY));
                    }
                    d.append(String.format(Locale.ROOT, " L%.1f,%.1f", px, py));
                }
                prevY = py;
            }
            b.append("<path d=\"").append(d).append("\" fill=\"none\" stroke=\"").append(color)
                    .append("\" stroke-width=\"2\"").append(s.dashed() ? " stroke-dasharray=\"6,4\"" : "")
                    .append("/>\n");
            // legend
            double ly = TOP + 16 + i * 18;
            b.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"%s\" "
                            + "stroke-width=\"2\"%s/>%n", LEFT + 10, ly - 4, LEFT + 34, ly - 4, color,
                    s.dashed() ? " stroke-dasharray=\"6,4\"" : ""));
            b.append(text(LEFT + 40, ly, s.name(), "start", 12));
            i++;
        }
        b.append("</svg>\n");
        return b.toString();
    }

    private static String text(double x, double y, String s, String anchor, int size) {
        return String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" font-size=\"%d\">%s</text>%n",
                x, y, anchor, size, esc(s));
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    /** The smallest round number (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 times a power of ten) at or above v. */
    static double nice(double v) {
        double p = Math.pow(10, Math.floor(Math.log10(v)));
        for (double m : new double[] {1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10}) {
            if (m * p >= v) {
                return m * p;
            }
        }
        return 10 * p;
    }

    static List<Double> ticks(double max) {
        double step = tickStep(max / 6);
        List<Double> out = new ArrayList<>();
        for (double t = 0; t <= max + step * 1e-9; t += step) {
            out.add(t);
        }
        return out;
    }

    /** 1, 2, 2.5 or 5 times a power of ten, at or above v: tick spacing. */
    static double tickStep(double v) {
        double p = Math.pow(10, Math.floor(Math.log10(v)));
        for (double m : new double[] {1, 2, 2.5, 5, 10}) {
            if (m * p >= v) {
                return m * p;
            }
        }
        return 10 * p;
    }

    private static String label(double t) {
        if (t == Math.rint(t)) {
            return String.format(Locale.ROOT, "%,.0f", t);
        }
        return String.format(Locale.ROOT, "%.2f", t).replaceAll("0+$", "");
    }
}
