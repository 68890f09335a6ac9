package io.virtfleet.e2e.reliability;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.stream.Stream;

/**
 * The soak's leak detector: samples a process's resident memory, open file descriptors and threads from /proc (and,
 * for the agent, how many connections its libvirtd has open), and fits a least-squares line through each series.
 * A leak shows as a slope that stays positive once the process warmed up; the first samples (JIT, heap growing to
 * its working size, caches filling) are therefore left out of the fit.
 */
final class ResourceSampler {
    /** One look at one process, {@code minute} after the soak started. */
    record Sample(double minute, long pid, long rssKib, int fds, int threads, int libvirtClients) {
    }

    /** Slopes per hour of one process's series (the fit over the samples after warm-up). */
    record Slopes(String process, int samples, double rssMibPerHour, double fdsPerHour, double threadsPerHour,
                  double libvirtClientsPerHour, Sample first, Sample last) {
    }

    private final Map<String, List<Sample>> series = new LinkedHashMap<>();

    /** Samples {@code pid} under {@code process}; {@code libvirtClients} is -1 where not applicable. */
    synchronized Sample sample(String process, long pid, double minute, LongSupplier libvirtClients) {
        Path proc = Path.of("/proc", Long.toString(pid));
        long rss = -1;
        int threads = -1;
        try {
            for (String line : Files.readAllLines(proc.resolve("status"))) {
                if (line.startsWith("VmRSS:")) {
                    rss = Long.parseLong(line.replaceAll("[^0-9]", ""));
                } else if (line.startsWith("Threads:")) {
                    threads = Integer.parseInt(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException | NumberFormatException e) {
            return null; // gone (restarted meanwhile): no sample
        }
        int fds;
        try (Stream<Path> s = Files.list(proc.resolve("fd"))) {
            fds = (int) s.count();
        } catch (IOException e) {
            return null;
        }
        Sample x = new Sample(minute, pid, rss, fds, threads, (int) libvirtClients.getAsLong());
        series.computeIfAbsent(process, k -> new ArrayList<>()).add(x);
        return x;
    }

    synchronized Map<String, List<Sample>> series() {
        Map<String, List<Sample>> copy = new LinkedHashMap<>();
        series.forEach((k, v) -> copy.put(k, List.copyOf(v)));
        return copy;
    }

    /** The slopes of each process over the samples at or after {@code warmUpMinutes}. */
    synchronized List<Slopes> slopes(double warmUpMinutes) {
        List<Slopes> out = new ArrayList<>();
        series.forEach((process, all) -> {
            List<Sample> s = all.stream().filter(x -> x.minute() >= warmUpMinutes).toList();
            if (s.size() < 2) {
                return;
            }
            out.add(new Slopes(process, s.size(),
                    perHour(s, x -> x.rssKib() / 1024.0), perHour(s, x -> x.fds()),
                    perHour(s, x -> x.threads()), perHour(s, x -> x.libvirtClients()), s.get(0), s.get(s.size() - 1)));
        });
        return out;
    }

    /**
     * Whether a count leaks: the smallest of the last three values is above the largest of the first half (a count
     * that only goes up and down with the work returns to its level; a leaked descriptor, thread or connection
     * stays). Unknown values (negative) never count as growth.
     */
    static boolean grows(List<Sample> s, java.util.function.ToIntFunction<Sample> count) {
        if (s.size() < 6 || s.stream().anyMatch(x -> count.applyAsInt(x) < 0)) {
            return false;
        }
        int firstHalfMax = s.subList(0, s.size() / 2).stream().mapToInt(count).max().orElse(0);
        int lastMin = s.subList(s.size() - 3, s.size()).stream().mapToInt(count).min().orElse(0);
        return lastMin > firstHalfMax;
    }

    /** Least-squares slope of y over the samples' minutes, scaled to one hour. */
    static double perHour(List<Sample> s, java.util.function.ToDoubleFunction<Sample> y) {
        int n = s.size();
        double mx = s.stream().mapToDouble(Sample::minute).average().orElse(0);
        double my = s.stream().mapToDouble(y).average().orElse(0);
        double num = 0;
        double den = 0;
        for (Sample x : s) {
            num += (x.minute() - mx) * (y.applyAsDouble(x) - my);
            den += (x.minute() - mx) * (x.minute() - mx);
        }
        return n < 2 || den == 0 ? 0 : num / den * 60;
    }

    /** The markdown table of the slopes, for RELIABILITY.md. */
    static String table(List<Slopes> slopes) {
        StringBuilder b = new StringBuilder();
        b.append("| process | samples | RSS first → last (MiB) | RSS slope (MiB/h) | fds first → last | fds slope (/h) "
                + "| threads first → last | threads slope (/h) | libvirt clients first → last | slope (/h) |\n");
        b.append("|---|---|---|---|---|---|---|---|---|---|\n");
        for (Slopes s : slopes) {
            boolean noClients = s.first().libvirtClients() < 0;
            b.append(String.format(Locale.ROOT,
                    "| %s | %d | %.0f → %.0f | %+.1f | %d → %d | %+.2f | %d → %d | %+.2f | %s | %s |%n",
                    s.process(), s.samples(), s.first().rssKib() / 1024.0, s.last().rssKib() / 1024.0,
                    s.rssMibPerHour(), s.first().fds(), s.last().fds(), s.fdsPerHour(), s.first().threads(),
                    s.last().threads(), s.threadsPerHour(),
                    noClients ? "–" : s.first().libvirtClients() + " → " + s.last().libvirtClients(),
                    noClients ? "–" : String.format(Locale.ROOT, "%+.2f", s.libvirtClientsPerHour())));
        }
        return b.toString();
    }
}
