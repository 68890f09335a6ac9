package io.virtfleet.e2e.node;

import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * Peak memory of the node's containers, read from the host: the kubelet (cgroupfs driver) puts a container in the
 * cgroup {@code /virtfleet-node/kubepods/<qos>/pod<uid>/<container id>}. Per container the highest value seen of
 * its processes' peak resident set ({@code VmHWM} in /proc/PID/status) and of the cgroup's peak charge
 * ({@code memory.max_usage_in_bytes} on cgroup v1, {@code memory.peak} on v2; that one includes page cache).
 */
final class PodMemory {
    private static final Path V1 = Path.of("/sys/fs/cgroup/memory/virtfleet-node");
    private static final Path V2 = Path.of("/sys/fs/cgroup/virtfleet-node");

    record Peak(String pod, String container, long limitBytes, long rssBytes, long cgroupBytes) {
        @Override
        public String toString() {
            return "%s/%s: peak RSS %d MiB, peak cgroup charge %d MiB, limit %d MiB".formatted(pod, container,
                    rssBytes >> 20, cgroupBytes >> 20, limitBytes >> 20);
        }
    }

    private final Map<String, Peak> peaks = new ConcurrentHashMap<>();
    private final Map<String, String> restarts = new ConcurrentHashMap<>();

    /** Samples every running container of these pods (call it before a pod is killed, and at the end). */
    void sample(List<Pod> pods) {
        for (Pod pod : pods) {
            if (pod.getStatus() == null || pod.getStatus().getContainerStatuses() == null) {
                continue;
            }
            for (ContainerStatus cs : pod.getStatus().getContainerStatuses()) {
                if (cs.getRestartCount() != null && cs.getRestartCount() > 0) {
                    String why = cs.getLastState() != null && cs.getLastState().getTerminated() != null
                            ? cs.getLastState().getTerminated().getReason() + " (exit code "
                            + cs.getLastState().getTerminated().getExitCode() + ")" : "unknown";
                    restarts.put(pod.getMetadata().getName() + "/" + cs.getName(),
                            cs.getRestartCount() + " restart(s), last: " + why);
                }
                if (cs.getContainerID() == null || cs.getState() == null || cs.getState().getRunning() == null) {
                    continue;
                }
                String id = cs.getContainerID().replaceFirst("^[a-z]+://", "");
                Optional<Path> dir = cgroupOf(pod.getMetadata().getUid(), id);
                if (dir.isEmpty()) {
                    continue;
                }
                long rss = 0;
                for (String pid : lines(dir.get().resolve("cgroup.procs"))) {
                    rss += hwm(pid);
                }
                long charge = number(dir.get().resolve(Files.exists(dir.get().resolve("memory.max_usage_in_bytes"))
                        ? "memory.max_usage_in_bytes" : "memory.peak"));
                long limit = pod.getSpec().getContainers().stream().filter(c -> c.getName().equals(cs.getName()))
                        .findFirst().map(c -> c.getResources().getLimits().get("memory"))
                        .map(q -> q.getNumericalAmount().longValue()).orElse(-1L);
                String key = pod.getMetadata().getName() + "/" + cs.getName();
                long r = rss;
                peaks.merge(key, new Peak(pod.getMetadata().getName(), cs.getName(), limit, rss, charge),
                        (a, b) -> new Peak(a.pod(), a.container(), a.limitBytes(), Math.max(a.rssBytes(), r),
                                Math.max(a.cgroupBytes(), b.cgroupBytes())));
            }
        }
    }

    /** Containers seen restarted (e.g. OOM-killed: the kubelet restarts them), with the last termination's reason. */
    Map<String, String> restarts() {
        return Map.copyOf(restarts);
    }

    List<Peak> peaks() {
        return peaks.values().stream().sorted(java.util.Comparator.comparing(Peak::pod)).toList();
    }

    /** The host pids of the processes of {@code pod}'s running containers (from their cgroups). */
    static List<Long> pids(Pod pod) {
        List<Long> out = new java.util.ArrayList<>();
        if (pod.getStatus() == null || pod.getStatus().getContainerStatuses() == null) {
            return out;
        }
        for (ContainerStatus cs : pod.getStatus().getContainerStatuses()) {
            if (cs.getContainerID() == null || cs.getState() == null || cs.getState().getRunning() == null) {
                continue;
            }
            cgroupOf(pod.getMetadata().getUid(), cs.getContainerID().replaceFirst("^[a-z]+://", ""))
                    .ifPresent(dir -> lines(dir.resolve("cgroup.procs")).forEach(l -> out.add(Long.parseLong(l.strip()))));
        }
        return out;
    }

    private static Optional<Path> cgroupOf(String podUid, String containerId) {
        Path root = Files.isDirectory(V1) ? V1 : V2;
        if (!Files.isDirectory(root)) {
            return Optional.empty();
        }
        String podDir = "pod" + podUid;
        try (Stream<Path> s = Files.walk(root, 4)) {
            return s.filter(p -> p.getFileName().toString().equals(containerId)
                    && p.getParent().getFileName().toString().equals(podDir)).findFirst();
        } catch (IOException | UncheckedIOException e) {
            return Optional.empty();
        }
    }

    private static long hwm(String pid) {
        for (String line : lines(Path.of("/proc", pid, "status"))) {
            if (line.startsWith("VmHWM:")) {
                return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
            }
        }
        return 0;
    }

    private static List<String> lines(Path f) {
        try {
            return Files.readAllLines(f).stream().filter(l -> !l.isBlank()).toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    private static long number(Path f) {
        List<String> l = lines(f);
        return l.isEmpty() ? 0 : Long.parseLong(l.get(0).strip());
    }
}
