package io.virtfleet.reconcilers.lifecycle;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.virtfleet.api.v1alpha1.HostSpec;
import io.virtfleet.api.v1alpha1.Hypervisor;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.api.v1alpha1.VirtualMachineSpec;
import io.virtfleet.reconcilers.validation.DiskPaths;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.StringJoiner;
import java.util.function.Function;

/**
 * Chooses a Host for a VirtualMachine. A host is a candidate when, in this order:
 * <ol>
 *   <li>it is the one {@code spec.nodeName} names (when set);</li>
 *   <li>its labels match {@code spec.hostSelector};</li>
 *   <li>its heartbeat Lease is fresh (renewTime + leaseDurationSeconds after now) and it reported its capacity;</li>
 *   <li>it is not {@code unschedulable};</li>
 *   <li>it offers the VM's driver (kvm VMs need "kvm", qemu VMs "qemu", ...);</li>
 *   <li>every host path the VM uses (disk volumes, kernel, initrd) is under one of its allowed disk roots;</li>
 *   <li>the vCPUs and memory of the VMs already placed there plus this one fit its CPUs and memory (no overcommit).</li>
 * </ol>
 * Among the candidates the one with the most memory left after placing the VM wins (so VMs spread), then the most
 * CPUs left, then the name. When nothing fits the reason is the check that stopped the host that came closest
 * (e.g. {@code NoHostWithDriver xen} rather than {@code NoReadyHost} when one host is down and the other has no xen),
 * and the message counts what every host lacked.
 *
 * <p>A pinned VM ({@code nodeName}) still waits for its host to be ready, schedulable and large enough: it is never
 * put on a host that cannot run it.
 */
public final class Scheduler {
    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    /**
     * The VM as the scheduler should see it when it moves (migration, failover): a copy pinned to {@code targetHost}
     * (or to nothing: any host), never to the host it is on; the VM itself is not changed.
     */
    public static VirtualMachine pinnedTo(VirtualMachine vm, String targetHost) {
        VirtualMachine copy = new VirtualMachine();
        copy.setMetadata(vm.getMetadata());
        VirtualMachineSpec spec = vm.getSpec() == null ? new VirtualMachineSpec()
                : JSON.convertValue(vm.getSpec(), VirtualMachineSpec.class);
        spec.nodeName = targetHost;
        copy.setSpec(spec);
        return copy;
    }

    /**
     * Virtual CPUs placed per host CPU. A vCPU is a thread that time-shares a core, so hosts are overcommitted on CPU
     * (OpenStack's default allows 16:1) but never on memory, which a guest that uses it cannot give back.
     */
    public static final int CPU_OVERCOMMIT = 4;

    /** Driver assumed when spec.hypervisor is absent (the validator normally requires it). */
    public static final Hypervisor DEFAULT_HYPERVISOR = Hypervisor.KVM;

    private enum Stage {
        SELECTOR(Decision.NO_HOST_MATCHES_SELECTOR, "not matching the selector"),
        NOT_READY(Decision.NO_READY_HOST, "not ready"),
        UNSCHEDULABLE(Decision.NO_SCHEDULABLE_HOST, "unschedulable"),
        DRIVER(Decision.NO_HOST_WITH_DRIVER, null),
        PATHS(Decision.NO_HOST_ALLOWS_PATH, "not allowing the VM's disk paths"),
        CPU(Decision.INSUFFICIENT_CPU, "without enough free CPUs"),
        MEMORY(Decision.INSUFFICIENT_MEMORY, "without enough free memory");

        final String reason;
        final String text;

        Stage(String reason, String text) {
            this.reason = reason;
            this.text = text;
        }
    }

    private Scheduler() {
    }

    /**
     * @param placed VMs already assigned to each host (by host name); the VM being scheduled is ignored if present
     */
    public static Decision choose(VirtualMachine vm, List<HostView> hosts,
                                  Map<String, ? extends Collection<VirtualMachine>> placed, Instant now) {
        return choose(vm, hosts, host -> used(placed.get(host), vm), now);
    }

    /**
     * As {@link #choose(VirtualMachine, List, Map, Instant)}, with what each host already reserves given directly
     * (without the VM being scheduled), e.g. from a {@link HostUsage} tally: the cost is then per host, not per VM.
     *
     * @param used host name → the vCPUs and memory the VMs already placed there reserve
     */
    public static Decision choose(VirtualMachine vm, List<HostView> hosts, Function<String, VmResources> used,
                                  Instant now) {
        VirtualMachineSpec spec = vm.getSpec() != null ? vm.getSpec() : new VirtualMachineSpec();
        String driver = (spec.hypervisor != null ? spec.hypervisor : DEFAULT_HYPERVISOR).value();
        VmResources need = VmResources.of(spec);

        List<HostView> candidates = new ArrayList<>();
        for (HostView h : hosts) {
            if (h != null && h.name() != null && (spec.nodeName == null || spec.nodeName.equals(h.name()))) {
                candidates.add(h);
            }
        }
        if (spec.nodeName != null && candidates.isEmpty()) {
            return Decision.unschedulable(Decision.HOST_NOT_FOUND, spec.nodeName,
                    Decision.HOST_NOT_FOUND + " " + spec.nodeName + ": spec.nodeName names a host that is not registered");
        }
        if (candidates.isEmpty()) {
            return Decision.unschedulable(Decision.NO_READY_HOST, null,
                    Decision.NO_READY_HOST + ": no host is registered");
        }

        Map<Stage, Integer> failures = new EnumMap<>(Stage.class);
        Stage furthest = null;
        HostView best = null;
        VmResources bestFree = null;
        List<String> paths = hostPaths(spec);
        String deniedPath = null;
        for (HostView h : candidates) {
            VmResources usedOn = used.apply(h.name());
            Stage failed = check(h, spec, driver, need, usedOn, now);
            if (failed == null || failed.ordinal() > Stage.PATHS.ordinal()) {
                String denied = deniedPath(paths, h);
                if (denied != null) {
                    failed = Stage.PATHS;
                    deniedPath = deniedPath == null ? denied : deniedPath;
                }
            }
            if (failed != null) {
                failures.merge(failed, 1, Integer::sum);
                if (furthest == null || failed.ordinal() > furthest.ordinal()) {
                    furthest = failed;
                }
                continue;
            }
            VmResources free = new VmResources(h.cpus() * CPU_OVERCOMMIT - usedOn.cpus() - need.cpus(),
                    h.memoryBytes() - usedOn.memoryBytes() - need.memoryBytes());
            if (best == null || BY_FREE.compare(new Scored(h, free), new Scored(best, bestFree)) < 0) {
                best = h;
                bestFree = free;
            }
        }
        if (best != null) {
            return Decision.scheduled(best.name(), "host " + best.name() + " fits (" + bestFree.cpus()
                    + " CPUs and " + Quantities.format(bestFree.memoryBytes()) + " left after placing this VM; "
                    + (candidates.size() - failures.values().stream().mapToInt(Integer::intValue).sum()) + "/"
                    + candidates.size() + " hosts fit)");
        }
        String detail = switch (Objects.requireNonNull(furthest)) {
            case DRIVER -> driver;
            case SELECTOR -> LabelSelectors.describe(spec.hostSelector);
            case PATHS -> deniedPath;
            default -> null;
        };
        StringJoiner counts = new StringJoiner(", ");
        for (Map.Entry<Stage, Integer> e : failures.entrySet()) {
            String text = e.getKey() == Stage.DRIVER ? "without the " + driver + " driver" : e.getKey().text;
            counts.add(e.getValue() + " " + text);
        }
        String head = detail == null || detail.isEmpty() ? furthest.reason : furthest.reason + " " + detail;
        String needs = furthest == Stage.CPU || furthest == Stage.MEMORY
                ? "; the VM needs " + need.cpus() + " CPUs and " + Quantities.format(need.memoryBytes()) : "";
        return Decision.unschedulable(furthest.reason, detail,
                head + ": 0/" + candidates.size() + " hosts fit (" + counts + ")" + needs);
    }

    private record Scored(HostView host, VmResources free) {
    }

    private static final Comparator<Scored> BY_FREE = Comparator
            .comparingLong((Scored s) -> -s.free().memoryBytes())
            .thenComparingInt(s -> -s.free().cpus())
            .thenComparing(s -> s.host().name());

    private static Stage check(HostView h, VirtualMachineSpec spec, String driver, VmResources need, VmResources used,
                               Instant now) {
        if (!LabelSelectors.matches(spec.hostSelector, h.labels())) {
            return Stage.SELECTOR;
        }
        if (!h.isReady(now) || h.cpus() == null || h.memoryBytes() == null) {
            return Stage.NOT_READY;
        }
        if (h.unschedulable()) {
            return Stage.UNSCHEDULABLE;
        }
        if (!h.offers(driver)) {
            return Stage.DRIVER;
        }
        if (used.cpus() + need.cpus() > h.cpus() * CPU_OVERCOMMIT) {
            return Stage.CPU;
        }
        if (used.memoryBytes() + need.memoryBytes() > h.memoryBytes()) {
            return Stage.MEMORY;
        }
        return null;
    }

    /** Host paths the VM needs: disk volumes, then the direct-boot kernel and initrd. */
    public static List<String> hostPaths(VirtualMachineSpec spec) {
        List<String> out = new ArrayList<>();
        if (spec.disks != null) {
            for (VirtualMachineSpec.Disk d : spec.disks) {
                if (d != null && d.volume != null && d.volume.path != null) {
                    out.add(d.volume.path);
                }
            }
        }
        if (spec.firmware != null && spec.firmware.kernelBoot != null) {
            if (spec.firmware.kernelBoot.kernel != null) {
                out.add(spec.firmware.kernelBoot.kernel);
            }
            if (spec.firmware.kernelBoot.initrd != null) {
                out.add(spec.firmware.kernelBoot.initrd);
            }
        }
        return out;
    }

    /** The first path not under one of the host's allowed roots (the agent's default root when it lists none). */
    private static String deniedPath(List<String> paths, HostView h) {
        List<String> roots = h.allowedDiskRoots().isEmpty() ? List.of(HostSpec.DEFAULT_ALLOWED_ROOT)
                : h.allowedDiskRoots();
        for (String p : paths) {
            if (roots.stream().noneMatch(r -> DiskPaths.isUnder(p, r))) {
                return p;
            }
        }
        return null;
    }

    /** Sum of what the VMs placed on a host reserve, not counting {@code self}. */
    static VmResources used(Collection<VirtualMachine> placed, VirtualMachine self) {
        VmResources sum = VmResources.ZERO;
        if (placed == null) {
            return sum;
        }
        for (VirtualMachine other : placed) {
            if (other == null || sameVm(other, self)) {
                continue;
            }
            sum = sum.plus(VmResources.of(other));
        }
        return sum;
    }

    static boolean sameVm(VirtualMachine a, VirtualMachine b) {
        if (a.getMetadata() == null || b.getMetadata() == null) {
            return false;
        }
        return Objects.equals(a.getMetadata().getNamespace(), b.getMetadata().getNamespace())
                && Objects.equals(a.getMetadata().getName(), b.getMetadata().getName());
    }
}
