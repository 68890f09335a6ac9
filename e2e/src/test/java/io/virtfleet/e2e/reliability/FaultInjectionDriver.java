package io.virtfleet.e2e.reliability;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.virtfleet.api.v1alpha1.DeviceStatus;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.RunStrategy;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.api.v1alpha1.VirtualMachineClone;
import io.virtfleet.api.v1alpha1.VirtualMachineCloneSpec;
import io.virtfleet.api.v1alpha1.VirtualMachineRestore;
import io.virtfleet.api.v1alpha1.VirtualMachineRestoreSpec;
import io.virtfleet.api.v1alpha1.VirtualMachineSnapshot;
import io.virtfleet.api.v1alpha1.VirtualMachineSnapshotSpec;
import io.virtfleet.api.v1alpha1.VirtualMachineSpec;
import io.virtfleet.e2e.support.Fleet;
import io.virtfleet.e2e.support.LibvirtGuest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Fault injection: random lifecycle operations on a few test-guest VMs while the operator, the node agent,
 * libvirtd or a QEMU process is killed with SIGKILL at a random point and brought back. After every step it measures
 * how long until everything converged to what the model (the last operation of each VM) asks for, and it checks the
 * invariants the whole time: no VM's domain lost (its UUID never changes), no VM running twice (two QEMU processes
 * with one -uuid or name), no orphan libvirt domain of ours and no leftover of a deleted VM, and a genid that only
 * changes on a restore (status and what the guest sees).
 *
 * <p>Operations are issued first and the fault lands 0–2 s later, i.e. usually in the middle of the work the
 * operation causes. Everything random comes from one seeded {@link Random}; the seed is printed for a replay (the
 * timing of the machine is of course not replayed).
 */
final class FaultInjectionDriver {
    enum Op { CREATE, START, STOP, RESTART, PLUG, UNPLUG, SNAPSHOT, RESTORE, DELETE, CLONE }

    /**
     * OPERATOR, AGENT, LIBVIRTD, QEMU: kill -9 (and start again); HANG: libvirtd stopped with SIGSTOP for 2–8 s
     * (a hung daemon, not a dead one), then SIGCONT; PARTITION: the agent cut off the apiserver for longer than its
     * Lease (its VMs must keep running), then healed.
     */
    enum Fault { OPERATOR, AGENT, LIBVIRTD, QEMU, HANG, PARTITION;

        String label() {
            return switch (this) {
                case HANG -> "SIGSTOP libvirtd";
                case PARTITION -> "partition of the agent";
                default -> "kill -9 " + name();
            };
        }
    }

    static final String REQUEST = "virtfleet.io/request";
    static final String LAST_HANDLED_REQUEST = "virtfleet.io/last-handled-request";
    static final String CLONED_FROM = "virtfleet.io/cloned-from";
    private static final Path LIBVIRT_QEMU = Path.of("/var/lib/libvirt/qemu");
    private static final Path SNAPSHOT_METADATA = LIBVIRT_QEMU.resolve("snapshot");

    /** Run parameters (system properties reliability.*; see FaultInjectionTest). */
    record Config(int ops, int maxVms, long seed, Set<Fault> faults, double faultProbability,
                  double boundSeconds, Path diagnosticsDir, Consumer<String> log) {
    }

    /** What the model expects of one VM: the sum of the operations issued on it and of the faults that hit it. */
    static final class Vm {
        final String name;
        VirtualMachine desired; // null for a clone's target until its clone ended (the operator writes the VM)
        boolean exists = true;
        boolean running = true;
        boolean crashed; // its QEMU was killed and its runStrategy leaves it stopped: Failed is as right as Stopped
        boolean eitherPower; // killed while a restart/start was in flight: running again and staying down both right
        String extraDisk; // path of the hot-plugged disk, null when unplugged
        String lastRequest; // the last request annotation value, to be handled
        String uuid; // first seen; must never change
        String genid; // expected; null until first seen
        final Set<String> alsoAcceptedGenids = new HashSet<>(); // the previous one, while a restore lands
        String pendingSnapshot;
        String pendingRestore;
        String restoreFrom; // the genid before the pending restore
        String clone; // the VirtualMachineClone that made (or is making) this VM; deleted with it
        boolean clonePending; // until that clone is Succeeded or Failed
        Vm cloneSource;
        String cloneSourceGenid; // the source's genid when the clone was issued: this VM's must differ
        boolean identityChecked; // a clone's target: its own uuid and genid were checked once it converged
        final List<Snap> snaps = new ArrayList<>();
        final List<Path> files = new ArrayList<>();
        int qemuKills;
        long lastQemuKillNanos;

        Vm(String name, VirtualMachine desired) {
            this.name = name;
            this.desired = desired;
        }

        RunStrategy strategy() {
            return desired == null ? null : desired.getSpec().runStrategy;
        }
    }

    /** A snapshot that succeeded, with the state it can be restored into unchanged (same power state and disks). */
    record Snap(String name, boolean running, String extraDisk) {
    }

    private record Action(Op op, Vm vm, String detail) {
    }

    /** One look at the world: the API objects, libvirt's domains and the QEMU processes. */
    private record World(Map<String, VirtualMachine> vms, Map<String, Domain> domains, Map<String, String> libvirt,
                         List<Processes.Qemu> qemus) {
    }

    private final Fleet fleet;
    private final String host;
    /** Between the agent and the apiserver, for the PARTITION fault (null: that fault is skipped). */
    private PartitionProxy partition;
    private final String prefix;
    private final VirtfleetProcess operator;
    private final VirtfleetProcess agent;
    private final Path repo;
    private final Config config;
    private final Random rnd;
    private final FaultReport report = new FaultReport();
    private final List<Vm> vms = new ArrayList<>();
    private final Set<String> stepViolations = new LinkedHashSet<>();
    private int vmCounter;
    private int nonce;
    private int consecutiveNonConvergence;
    private Action current;

    FaultInjectionDriver(Fleet fleet, String host, VirtfleetProcess operator, VirtfleetProcess agent, Path repo,
                         Config config) {
        this.fleet = fleet;
        this.host = host;
        this.prefix = fleet.domainPrefix(host);
        this.operator = operator;
        this.agent = agent;
        this.repo = repo;
        this.config = config;
        this.rnd = new Random(config.seed());
    }

    FaultReport report() {
        return report;
    }

    /** The proxy the agent reaches the apiserver through, which PARTITION cuts. */
    FaultInjectionDriver withPartition(PartitionProxy proxy) {
        this.partition = proxy;
        return this;
    }

    /** Runs the configured number of operations, then deletes every VM (checked like any delete). */
    void run() {
        for (int i = 1; i <= config.ops(); i++) {
            Action a = live().size() < Math.min(3, config.maxVms()) ? fill() : pick();
            step(i, a, rnd.nextDouble() < config.faultProbability() ? pickFault() : null);
            if (consecutiveNonConvergence >= 3) {
                report.violation("aborted after 3 steps in a row did not converge within the bound");
                return;
            }
        }
        for (Vm vm : live()) {
            step(config.ops() + 1, new Action(Op.DELETE, vm, "final clean-up"), null);
        }
        List<String> clonesLeft = fleet.client().resources(VirtualMachineClone.class).inNamespace(fleet.namespace())
                .list().getItems().stream().map(c -> c.getMetadata().getName()).toList();
        if (!clonesLeft.isEmpty()) {
            report.violation("after the final deletes VirtualMachineClones are left: " + clonesLeft);
        }
    }

    /**
     * The step that brings the fleet back to its minimum size: usually a create, sometimes a clone of an existing VM.
     * Without this a CI-sized run (at most 3 VMs, refilled to 3 at once) would never have room for a clone.
     */
    private Action fill() {
        List<Vm> sources = live().stream().filter(v -> v.desired != null).toList();
        if (!sources.isEmpty() && rnd.nextInt(4) == 0) {
            return new Action(Op.CLONE, sources.get(rnd.nextInt(sources.size())), "");
        }
        return new Action(Op.CREATE, null, "");
    }

    // ---------------------------------------------------------------------------------------------------- one step

    private void step(int i, Action a, Fault fault) {
        stepViolations.clear();
        if (a.op() == Op.UNPLUG && a.vm().running && !guestAnswers(a.vm())) {
            // A hot-unplug needs the guest's cooperation; a guest that does not answer on its channel (still booting,
            // or its kernel panicked) would never acknowledge it. Restart it instead, which is an operation too.
            report.note("step " + i + ": the guest of " + a.vm().name + " did not answer before an unplug"
                    + consoleHint(a.vm()) + "; restarted it instead");
            a = new Action(Op.RESTART, a.vm(), "instead of an unplug");
        }
        long t0 = System.nanoTime();
        current = a;
        Vm vm = issue(a);
        String what = a.op() + " " + (vm == null ? "" : vm.name)
                + (a.detail().isEmpty() ? "" : " (" + a.detail() + ")")
                + (a.op() == Op.CLONE ? " (clone of " + a.vm().name + ")" : "");
        double backSeconds = 0;
        long tBack = t0;
        String faultDetail = null;
        double allowance = 0;
        if (fault != null) {
            VirtfleetProcess.sleep(rnd.nextInt(2000));
            long tKill = System.nanoTime();
            faultDetail = inject(fault);
            if (faultDetail == null) {
                fault = null; // nothing to kill (no running QEMU): the step runs without a fault
            } else {
                tBack = System.nanoTime();
                backSeconds = (tBack - tKill) / 1e9;
                if (fault == Fault.QEMU) {
                    allowance = backOffAllowance(faultDetail);
                }
            }
        }
        List<String> pending = awaitConvergence(tBack, config.boundSeconds() + allowance);
        long tEnd = System.nanoTime();
        double opSeconds = (tEnd - t0) / 1e9;
        double convSeconds = (tEnd - tBack) / 1e9;
        if (!pending.isEmpty()) {
            consecutiveNonConvergence++;
            dumpDiagnostics(i);
            report.violation(String.format(Locale.ROOT, "step %d %s%s: not converged within %.0f s: %s", i, what,
                    fault == null ? "" : " + " + fault.label(), config.boundSeconds() + allowance, pending));
        } else {
            consecutiveNonConvergence = 0;
            afterConvergence(a);
        }
        report.operation(a.op().name().toLowerCase(Locale.ROOT), opSeconds);
        if (fault != null) {
            report.fault(fault.name().toLowerCase(Locale.ROOT), backSeconds, convSeconds,
                    FaultReport.TARGET_SECONDS + allowance, "step " + i + " " + what + ", " + faultDetail
                            + (pending.isEmpty() ? "" : " (NOT converged)"));
        }
        stepViolations.forEach(v -> report.violation("step " + i + " " + what + ": " + v));
        config.log().accept(String.format(Locale.ROOT, "RELIABILITY step %d: %s%s -> %s in %.1f s%s", i, what,
                fault == null ? "" : String.format(Locale.ROOT, " + %s [%s, back after %.1f s]",
                        fault.label(), faultDetail, backSeconds),
                pending.isEmpty() ? "converged" : "NOT converged", fault == null ? opSeconds : convSeconds,
                stepViolations.isEmpty() ? "" : " VIOLATIONS " + stepViolations));
    }

    private List<Vm> live() {
        return vms.stream().filter(v -> v.exists).toList();
    }

    private Action pick() {
        List<Vm> live = live();
        List<Action> candidates = new ArrayList<>();
        List<Integer> weights = new ArrayList<>();
        java.util.function.BiConsumer<Action, Integer> add = (action, weight) -> {
            candidates.add(action);
            weights.add(weight);
        };
        if (live.size() < config.maxVms()) {
            add.accept(new Action(Op.CREATE, null, ""), 2);
        }
        for (Vm vm : live) {
            if (vm.desired == null) {
                continue; // a clone's target whose clone has not ended: nothing to operate on yet
            }
            if (live.size() < config.maxVms()) {
                add.accept(new Action(Op.CLONE, vm, ""), 1);
            }
            if (vm.running) {
                add.accept(new Action(Op.STOP, vm, ""), 3);
                if (vm.strategy() != RunStrategy.Halted) {
                    add.accept(new Action(Op.RESTART, vm, ""), 2);
                }
            } else {
                add.accept(new Action(Op.START, vm, ""), 4);
            }
            add.accept(new Action(vm.extraDisk == null ? Op.PLUG : Op.UNPLUG, vm, ""), 3);
            add.accept(new Action(Op.SNAPSHOT, vm, ""), 2);
            for (Snap s : vm.snaps) {
                if (s.running() == vm.running && java.util.Objects.equals(s.extraDisk(), vm.extraDisk)) {
                    add.accept(new Action(Op.RESTORE, vm, s.name()), 3);
                    break;
                }
            }
            if (live.size() > 2) {
                add.accept(new Action(Op.DELETE, vm, ""), 1);
            }
        }
        int total = weights.stream().mapToInt(Integer::intValue).sum();
        int r = rnd.nextInt(total);
        for (int k = 0; k < candidates.size(); k++) {
            r -= weights.get(k);
            if (r < 0) {
                return candidates.get(k);
            }
        }
        throw new IllegalStateException("unreachable");
    }

    private Fault pickFault() {
        List<Fault> kinds = new ArrayList<>(config.faults());
        // libvirtd is shared with every other test on the machine: kill it less often than the rest.
        List<Fault> weighted = new ArrayList<>();
        for (Fault f : kinds) {
            // libvirtd (killed or hung) and the partition (20 s each) less often than the rest
            int w = f == Fault.LIBVIRTD || f == Fault.HANG || f == Fault.PARTITION ? 1 : 3;
            for (int k = 0; k < w; k++) {
                weighted.add(f);
            }
        }
        return weighted.get(rnd.nextInt(weighted.size()));
    }

    // -------------------------------------------------------------------------------------------------- operations

    /** Issues the operation (without waiting for its effect) and updates the model; returns the VM it concerns. */
    private Vm issue(Action a) {
        Vm vm = a.vm();
        switch (a.op()) {
            case CREATE -> {
                String name = "rel-" + (++vmCounter);
                VirtualMachine desired = fleet.testGuest(name);
                // Under TCG on a loaded machine the guest kernel's IO-APIC timer check can fail and panic at boot
                // ("IO-APIC + timer doesn't work"), seen in this driver's runs; virtual machines skip that check.
                desired.getSpec().firmware.kernelBoot.cmdline = "console=ttyS0 no_timer_check";
                vm = new Vm(name, desired);
                vm.files.add(Path.of(desired.getSpec().disks.get(0).volume.path));
                vms.add(vm);
                fleet.apply(desired);
            }
            case START -> {
                vm.crashed = false;
                vm.eitherPower = false;
                if (rnd.nextBoolean()) {
                    vm.desired.getSpec().runStrategy = RunStrategy.Always;
                } else {
                    vm.desired.getSpec().runStrategy = RunStrategy.Manual;
                    request(vm, "start");
                }
                vm.running = true;
                fleet.apply(vm.desired);
            }
            case STOP -> {
                vm.crashed = false;
                vm.eitherPower = false;
                if (rnd.nextBoolean()) {
                    vm.desired.getSpec().runStrategy = RunStrategy.Halted;
                } else {
                    vm.desired.getSpec().runStrategy = RunStrategy.Manual;
                    request(vm, "stop");
                }
                vm.running = false;
                fleet.apply(vm.desired);
            }
            case RESTART -> {
                request(vm, "restart");
                fleet.apply(vm.desired);
            }
            case PLUG -> {
                Path extra = fleet.copyOfDataDisk(vm.name + "-extra-" + (++nonce));
                vm.files.add(extra);
                VirtualMachineSpec.Disk d = new VirtualMachineSpec.Disk();
                d.name = "extra";
                d.volume = new VirtualMachineSpec.Volume();
                d.volume.path = extra.toString();
                d.volume.format = "qcow2";
                d.bus = "virtio";
                vm.desired.getSpec().disks.add(d);
                vm.extraDisk = extra.toString();
                fleet.apply(vm.desired);
            }
            case UNPLUG -> {
                vm.desired.getSpec().disks.removeIf(d -> "extra".equals(d.name));
                vm.extraDisk = null;
                fleet.apply(vm.desired);
            }
            case SNAPSHOT -> {
                VirtualMachineSnapshot s = new VirtualMachineSnapshot();
                s.setMetadata(new ObjectMetaBuilder().withName(vm.name + "-s" + (++nonce))
                        .withNamespace(fleet.namespace()).build());
                s.setSpec(new VirtualMachineSnapshotSpec());
                s.getSpec().vmName = vm.name;
                fleet.client().resource(s).create();
                vm.pendingSnapshot = s.getMetadata().getName();
            }
            case RESTORE -> {
                VirtualMachineRestore r = new VirtualMachineRestore();
                r.setMetadata(new ObjectMetaBuilder().withName(vm.name + "-r" + (++nonce))
                        .withNamespace(fleet.namespace()).build());
                r.setSpec(new VirtualMachineRestoreSpec());
                r.getSpec().vmName = vm.name;
                r.getSpec().snapshotName = a.detail();
                vm.restoreFrom = vm.genid;
                vm.pendingRestore = r.getMetadata().getName();
                fleet.client().resource(r).create();
            }
            case DELETE -> {
                vm.exists = false;
                vm.running = false;
                fleet.delete(vm.name);
            }
            case CLONE -> {
                // The target is a VM of the model from now on (it counts against the VM cap), but what it is made of
                // (spec, disks, power state) is only known once the clone ended: see settleClone.
                // Copies are named <images>/<namespace>_<target>_data.qcow2; a target name of this run's own keeps
                // the driver's own bookkeeping of VMs unambiguous.
                Vm target = new Vm("rel-" + (++vmCounter) + "-" + fleet.namespace().substring(4), null);
                target.running = false;
                target.clone = vm.name + "-c" + (++nonce);
                target.clonePending = true;
                target.cloneSource = vm;
                target.cloneSourceGenid = vm.genid;
                vms.add(target);
                VirtualMachineClone c = new VirtualMachineClone();
                c.setMetadata(new ObjectMetaBuilder().withName(target.clone).withNamespace(fleet.namespace()).build());
                c.setSpec(new VirtualMachineCloneSpec());
                c.getSpec().source = vm.name;
                c.getSpec().target = target.name;
                fleet.client().resource(c).create();
                return target;
            }
        }
        return vm;
    }

    private boolean guestAnswers(Vm vm) {
        return fleet.guest(fleet.domainName(host, vm.name)).exec("true").ok();
    }

    private String consoleHint(Vm vm) {
        String console = fleet.guest(fleet.domainName(host, vm.name)).console();
        int panic = console.indexOf("Kernel panic");
        return panic < 0 ? "" : " (console: " + console.substring(panic, Math.min(console.length(),
                console.indexOf('\n', panic) < 0 ? console.length() : console.indexOf('\n', panic))).strip() + ")";
    }

    private void request(Vm vm, String verb) {
        String value = verb + "/" + (++nonce);
        Map<String, String> annotations = vm.desired.getMetadata().getAnnotations() == null ? new HashMap<>()
                : new HashMap<>(vm.desired.getMetadata().getAnnotations());
        annotations.put(REQUEST, value);
        vm.desired.getMetadata().setAnnotations(annotations);
        vm.lastRequest = value;
    }

    // ------------------------------------------------------------------------------------------------------ faults

    /**
     * Kills the component with SIGKILL, waits 0–1.5 s, brings it back (or hangs libvirtd, or partitions the agent);
     * null when there was nothing to do.
     */
    private String inject(Fault fault) {
        long down = rnd.nextInt(1500);
        switch (fault) {
            case OPERATOR, AGENT -> {
                VirtfleetProcess p = fault == Fault.OPERATOR ? operator : agent;
                long pid = p.pid();
                p.kill9();
                VirtfleetProcess.sleep(down);
                p.start();
                p.awaitReady(java.time.Duration.ofSeconds(120));
                return "pid " + pid + ", down " + down + " ms";
            }
            case LIBVIRTD -> {
                long pid = Processes.libvirtdPid();
                if (pid <= 0) {
                    return null;
                }
                Processes.kill9(pid);
                VirtfleetProcess.sleep(down);
                Processes.Result r = Processes.startLibvirtd(repo);
                if (r.exitCode() != 0) {
                    throw new IllegalStateException("libvirtd did not come back: " + r.output());
                }
                return "pid " + pid + ", down " + down + " ms";
            }
            case HANG -> {
                long pid = Processes.libvirtdPid();
                if (pid <= 0) {
                    return null;
                }
                long hung = 2000 + rnd.nextInt(6000);
                Processes.run(10, "kill", "-STOP", Long.toString(pid));
                try {
                    VirtfleetProcess.sleep(hung);
                } finally {
                    Processes.run(10, "kill", "-CONT", Long.toString(pid));
                }
                return "libvirtd pid " + pid + " stopped for " + hung + " ms";
            }
            case PARTITION -> {
                if (partition == null) {
                    return null;
                }
                // Longer than the agent's Lease (15 s): the operator sees the host lost meanwhile.
                long cutMs = 16_000 + rnd.nextInt(8000);
                List<Vm> steady = vms.stream().filter(v -> v.exists && v.running && v != current.vm()).toList();
                partition.cut();
                try {
                    VirtfleetProcess.sleep(cutMs);
                    List<String> names = Processes.qemus().stream().map(Processes.Qemu::name).toList();
                    for (Vm v : steady) {
                        if (!names.contains(fleet.domainName(host, v.name)) && !v.crashed) {
                            stepViolations.add(v.name + ": its QEMU stopped while the agent was partitioned from the "
                                    + "apiserver");
                        }
                    }
                } finally {
                    partition.heal();
                }
                return "agent cut off the apiserver for " + cutMs + " ms";
            }
            case QEMU -> {
                // The victim comes from the model (not from what runs right now), so a replay picks the same VM.
                List<Vm> candidates = vms.stream().filter(v -> v.exists && v.running).toList();
                if (candidates.isEmpty()) {
                    return null;
                }
                Vm vm = candidates.get(rnd.nextInt(candidates.size()));
                String dn = fleet.domainName(host, vm.name);
                Processes.Qemu victim = Processes.qemus().stream().filter(q -> dn.equals(q.name())).findFirst()
                        .orElse(null);
                if (victim == null) {
                    return null; // not started yet
                }
                Processes.kill9(victim.pid());
                // Manual (and Halted) leave a crashed domain stopped; Always restarts it, after a back-off when it
                // crashed recently (operator README: first restart immediate, then 10 s doubling; reset after 10 min).
                if (vm.strategy() != RunStrategy.Always) {
                    // Killed before the restart's own stop, the restart brings it back; killed after its start, the
                    // strategy leaves the crashed domain down. Which one it was is a matter of timing. Likewise a
                    // start: a QEMU killed while libvirt still launches it makes the start fail, and the agent retries.
                    vm.eitherPower = vm == current.vm() && (current.op() == Op.RESTART || current.op() == Op.START);
                    vm.running = false;
                    vm.crashed = true;
                }
                long now = System.nanoTime();
                if (now - vm.lastQemuKillNanos > 600e9) {
                    vm.qemuKills = 0;
                }
                vm.qemuKills++;
                vm.lastQemuKillNanos = now;
                return "qemu of " + vm.name + " pid " + victim.pid() + ", " + vm.strategy() + ", kill #"
                        + vm.qemuKills + " in 10 min";
            }
        }
        throw new IllegalStateException("unreachable");
    }

    /** Extra seconds the restart back-off adds to a QEMU kill of an Always VM that was killed before recently. */
    static double backOffAllowance(String qemuFaultDetail) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("Always, kill #(\\d+)").matcher(qemuFaultDetail);
        if (!m.find()) {
            return 0;
        }
        int n = Integer.parseInt(m.group(1));
        return n <= 1 ? 0 : Math.min(300, 10 * Math.pow(2, n - 2));
    }

    // ------------------------------------------------------------------------------------------------- convergence

    /** Polls until the world matches the model; returns what still differs (empty: converged). */
    private List<String> awaitConvergence(long tBack, double boundSeconds) {
        long deadline = tBack + (long) (boundSeconds * 1e9);
        List<String> pending = List.of("not looked yet");
        while (System.nanoTime() < deadline || pending.equals(List.of("not looked yet"))) {
            World w;
            try {
                w = observe();
            } catch (RuntimeException e) {
                pending = List.of("cannot observe: " + e.getMessage());
                VirtfleetProcess.sleep(250);
                continue;
            }
            checkInvariants(w);
            pending = differences(w);
            if (pending.isEmpty()) {
                pending = deepDifferences();
                if (pending.isEmpty()) {
                    return pending;
                }
            }
            VirtfleetProcess.sleep(250);
        }
        return pending;
    }

    private World observe() {
        Map<String, VirtualMachine> vmObjects = fleet.client().resources(VirtualMachine.class)
                .inNamespace(fleet.namespace()).list().getItems().stream()
                .collect(Collectors.toMap(v -> v.getMetadata().getName(), v -> v));
        Map<String, Domain> domains = fleet.client().resources(Domain.class).inNamespace(fleet.namespace()).list()
                .getItems().stream().collect(Collectors.toMap(d -> d.getMetadata().getName(), d -> d));
        Processes.Result list = Processes.run(30, "virsh", "-c", "qemu:///system", "list", "--all");
        if (list.exitCode() != 0) {
            throw new IllegalStateException("virsh list: " + list.output().strip());
        }
        return new World(vmObjects, domains, parseVirshList(list.output(), prefix), Processes.qemus());
    }

    /** {@code virsh list --all} → name → state ("running", "shut off", ...), only names with the prefix. */
    static Map<String, String> parseVirshList(String out, String prefix) {
        Map<String, String> m = new HashMap<>();
        for (String line : out.split("\n")) {
            String[] f = line.trim().split("\\s+", 3);
            if (f.length == 3 && f[1].startsWith(prefix)) {
                m.put(f[1], f[2].trim());
            }
        }
        return m;
    }

    /** The invariants that must hold at every moment, converged or not. */
    private void checkInvariants(World w) {
        Map<String, List<Long>> byUuid = new HashMap<>();
        Map<String, List<Long>> byName = new HashMap<>();
        Set<String> ourUuids = vms.stream().map(v -> v.uuid).filter(java.util.Objects::nonNull)
                .collect(Collectors.toSet());
        for (Processes.Qemu q : w.qemus()) {
            boolean ours = (q.name() != null && q.name().startsWith(prefix)) || ourUuids.contains(q.uuid());
            if (ours) {
                byUuid.computeIfAbsent(String.valueOf(q.uuid()), k -> new ArrayList<>()).add(q.pid());
                byName.computeIfAbsent(String.valueOf(q.name()), k -> new ArrayList<>()).add(q.pid());
            }
        }
        byUuid.forEach((u, pids) -> {
            if (pids.size() > 1) {
                stepViolations.add("VM running twice: QEMU processes " + pids + " share -uuid " + u);
            }
        });
        byName.forEach((n, pids) -> {
            if (pids.size() > 1) {
                stepViolations.add("VM running twice: QEMU processes " + pids + " share the name " + n);
            }
        });
        for (Vm vm : vms) {
            VirtualMachine v = w.vms().get(vm.name);
            if (!vm.exists || v == null || v.getStatus() == null) {
                continue;
            }
            if (vm.uuid != null && v.getStatus().uuid != null && !vm.uuid.equalsIgnoreCase(v.getStatus().uuid)) {
                stepViolations.add(vm.name + ": domain lost: uuid " + vm.uuid + " became " + v.getStatus().uuid);
            }
            String g = v.getStatus().genid;
            if (vm.genid != null && vm.pendingRestore == null && g != null && !g.equalsIgnoreCase(vm.genid)
                    && !vm.alsoAcceptedGenids.contains(g.toLowerCase(Locale.ROOT))) {
                stepViolations.add(vm.name + ": genid changed without a restore: " + vm.genid + " -> " + g);
            }
        }
    }

    /** What differs between the model and the API objects, libvirt and the processes (cheap: no per-VM calls). */
    private List<String> differences(World w) {
        List<String> diff = new ArrayList<>();
        for (Vm vm : vms) {
            String dn = fleet.domainName(host, vm.name);
            VirtualMachine v = w.vms().get(vm.name);
            Domain d = w.domains().get(vm.name);
            List<Processes.Qemu> qemus = w.qemus().stream().filter(q -> dn.equals(q.name())).toList();
            if (!vm.exists) {
                if (v != null) {
                    diff.add(vm.name + ": VirtualMachine still there");
                }
                if (d != null) {
                    diff.add(vm.name + ": Domain still there");
                }
                if (w.libvirt().containsKey(dn)) {
                    diff.add(vm.name + ": libvirt domain still defined (" + w.libvirt().get(dn) + ")");
                }
                if (!qemus.isEmpty()) {
                    diff.add(vm.name + ": QEMU still running");
                }
                continue;
            }
            if (vm.clonePending) {
                String waiting = settleClone(vm);
                if (waiting != null) {
                    diff.add(vm.name + ": " + waiting);
                    continue;
                }
                if (!vm.exists) {
                    continue; // the clone failed without a VM: nothing more to converge
                }
                v = w.vms().get(vm.name);
            }
            if (v == null || v.getStatus() == null) {
                diff.add(vm.name + ": no VirtualMachine status");
                continue;
            }
            var st = v.getStatus();
            if (vm.eitherPower) {
                vm.running = "Running".equals(st.printableStatus);
            }
            if (!java.util.Objects.equals(st.observedGeneration, v.getMetadata().getGeneration())) {
                diff.add(vm.name + ": status is for generation " + st.observedGeneration + ", not "
                        + v.getMetadata().getGeneration());
            }
            String want = vm.running ? "Running" : "Stopped";
            if (!want.equals(st.printableStatus) && !(vm.crashed && "Failed".equals(st.printableStatus))) {
                diff.add(vm.name + ": printableStatus " + st.printableStatus + ", want " + want);
            }
            if (vm.running && !Fleet.condition(v, "Ready")) {
                diff.add(vm.name + ": not Ready");
            }
            if (d == null || d.getStatus() == null) {
                diff.add(vm.name + ": no Domain status");
                continue;
            }
            String domainState = vm.running ? "Running" : "Shutoff";
            if (!domainState.equals(d.getStatus().state)) {
                diff.add(vm.name + ": Domain state " + d.getStatus().state + ", want " + domainState);
            }
            String libvirtState = vm.running ? "running" : "shut off";
            if (!libvirtState.equals(w.libvirt().get(dn))) {
                diff.add(vm.name + ": libvirt state " + w.libvirt().get(dn) + ", want " + libvirtState);
            }
            if (vm.running) {
                if (qemus.size() != 1 || st.uuid == null || !st.uuid.equalsIgnoreCase(qemus.get(0).uuid())) {
                    diff.add(vm.name + ": want one QEMU with -uuid " + st.uuid + ", have " + qemus);
                }
                DeviceStatus extra = st.devices == null ? null
                        : st.devices.stream().filter(x -> "extra".equals(x.name)).findFirst().orElse(null);
                boolean attached = extra != null && DeviceStatus.STATE_ATTACHED.equals(extra.state)
                        && vm.extraDisk != null && vm.extraDisk.equals(extra.source);
                if ((vm.extraDisk != null) != attached || (vm.extraDisk == null && extra != null)) {
                    diff.add(vm.name + ": disk extra in status " + extra + ", want "
                            + (vm.extraDisk == null ? "none" : "Attached " + vm.extraDisk));
                }
            } else if (!qemus.isEmpty()) {
                diff.add(vm.name + ": stopped, but QEMU runs: " + qemus);
            }
            if (vm.lastRequest != null && (d.getMetadata().getAnnotations() == null
                    || !vm.lastRequest.equals(d.getMetadata().getAnnotations().get(LAST_HANDLED_REQUEST)))) {
                diff.add(vm.name + ": request " + vm.lastRequest + " not handled yet");
            }
            if (vm.pendingSnapshot != null && terminalSnapshot(vm.pendingSnapshot) == null) {
                diff.add(vm.name + ": snapshot " + vm.pendingSnapshot + " not finished");
            }
            VirtualMachineRestore landed = vm.pendingRestore == null ? null : terminalRestore(vm.pendingRestore);
            if (vm.pendingRestore != null && landed == null) {
                diff.add(vm.name + ": restore " + vm.pendingRestore + " not finished");
            } else if (landed != null && "Succeeded".equals(landed.getStatus().phase)
                    && landed.getStatus().genid != null) {
                // A finished restore has converged only once the VM's status, its Domain and libvirt's persistent
                // definition all carry its genid (a lost genid used to surface only at the next step).
                String g = landed.getStatus().genid;
                String persistent = genidOf(fleet.guest(fleet.domainName(host, vm.name)).persistentXml());
                if (!g.equalsIgnoreCase(st.genid)) {
                    diff.add(vm.name + ": status.genid " + st.genid + ", want restore " + vm.pendingRestore + "'s " + g);
                }
                if (!g.equalsIgnoreCase(d.getStatus().genid)) {
                    diff.add(vm.name + ": Domain genid " + d.getStatus().genid + ", want restore "
                            + vm.pendingRestore + "'s " + g);
                }
                if (!g.equalsIgnoreCase(persistent)) {
                    diff.add(vm.name + ": libvirt's persistent genid " + persistent + ", want restore "
                            + vm.pendingRestore + "'s " + g);
                }
            } else if (vm.pendingRestore == null && vm.genid != null
                    && (st.genid == null || !vm.genid.equalsIgnoreCase(st.genid))) {
                diff.add(vm.name + ": status.genid " + st.genid + ", want " + vm.genid);
            }
            if (vm.pendingRestore == null && vm.genid != null && d.getStatus().genid != null
                    && !vm.genid.equalsIgnoreCase(d.getStatus().genid)) {
                diff.add(vm.name + ": Domain genid " + d.getStatus().genid + ", want " + vm.genid);
            }
        }
        return diff;
    }

    /** What only libvirt's live XML and QEMU's monitor show, asked once the cheap checks pass. */
    private List<String> deepDifferences() {
        List<String> diff = new ArrayList<>();
        for (Vm vm : vms) {
            if (!vm.exists) {
                continue;
            }
            // a restore that just landed: take its genid as the expected one before comparing with the guest
            settleRestore(vm);
            VirtualMachine v = fleet.get(vm.name);
            if (vm.genid == null && v != null && v.getStatus() != null) {
                vm.genid = v.getStatus().genid == null ? null : v.getStatus().genid.toLowerCase(Locale.ROOT);
            }
            if (!vm.running) {
                continue;
            }
            LibvirtGuest g = fleet.guest(fleet.domainName(host, vm.name));
            try {
                // The alias element, not the text: the agent's <metadata> fingerprint names devices too
                // (disk[ua-extra]), and the live one keeps the boot-time fingerprint after an unplug by design.
                String xml = g.liveXml();
                if (hasAlias(xml, "ua-extra") != (vm.extraDisk != null)) {
                    diff.add(vm.name + ": live XML " + (vm.extraDisk == null ? "still has" : "lacks") + " disk extra");
                }
                String seen = g.genidSeenByGuest();
                if (vm.genid != null && !vm.genid.equalsIgnoreCase(seen)) {
                    diff.add(vm.name + ": the guest sees genid " + seen + ", want " + vm.genid);
                }
            } catch (RuntimeException e) {
                diff.add(vm.name + ": " + e.getMessage());
            }
        }
        return diff;
    }

    /** What a human needs to see why a step did not converge: Domain statuses and libvirt's live XML, to files. */
    private void dumpDiagnostics(int step) {
        StringBuilder b = new StringBuilder();
        for (Vm vm : vms) {
            String dn = fleet.domainName(host, vm.name);
            b.append("==== ").append(vm.name).append(" exists=").append(vm.exists).append(" running=")
                    .append(vm.running).append(" extra=").append(vm.extraDisk).append(" strategy=")
                    .append(vm.strategy()).append("\n");
            try {
                b.append(fleet.client().getKubernetesSerialization().asYaml(fleet.get(vm.name))).append("\n");
                b.append(fleet.client().getKubernetesSerialization().asYaml(fleet.domain(vm.name))).append("\n");
            } catch (RuntimeException e) {
                b.append(e).append("\n");
            }
            LibvirtGuest g = fleet.guest(dn);
            b.append("---- virsh dumpxml ").append(dn).append("\n").append(g.virsh("dumpxml", dn).output())
                    .append("\n---- virsh dumpxml --inactive\n").append(g.virsh("dumpxml", "--inactive", dn).output())
                    .append("\n");
        }
        Path f = config.diagnosticsDir().resolve("step-" + step + "-not-converged.txt");
        try {
            Files.createDirectories(f.getParent());
            Files.writeString(f, b.toString());
            config.log().accept("RELIABILITY diagnostics of step " + step + ": " + f);
        } catch (IOException e) {
            config.log().accept("RELIABILITY cannot write " + f + ": " + e);
        }
    }

    /** Whether domain XML has a device with this alias ({@code <alias name='..'/>}, either quote). */
    static boolean hasAlias(String xml, String alias) {
        return java.util.regex.Pattern.compile("<alias\\s+name=['\"]" + java.util.regex.Pattern.quote(alias) + "['\"]")
                .matcher(xml).find();
    }

    private VirtualMachineSnapshot terminalSnapshot(String name) {
        VirtualMachineSnapshot s = fleet.client().resources(VirtualMachineSnapshot.class)
                .inNamespace(fleet.namespace()).withName(name).get();
        return s != null && s.getStatus() != null && ("Succeeded".equals(s.getStatus().phase)
                || "Failed".equals(s.getStatus().phase)) ? s : null;
    }

    private VirtualMachineRestore terminalRestore(String name) {
        VirtualMachineRestore r = fleet.client().resources(VirtualMachineRestore.class)
                .inNamespace(fleet.namespace()).withName(name).get();
        return r != null && r.getStatus() != null && ("Succeeded".equals(r.getStatus().phase)
                || "Failed".equals(r.getStatus().phase)) ? r : null;
    }

    private VirtualMachineClone cloneObject(Vm vm) {
        return fleet.client().resources(VirtualMachineClone.class).inNamespace(fleet.namespace()).withName(vm.clone)
                .get();
    }

    /**
     * The disk copies a clone made belong to its target: checked and removed when it is deleted. A failed clone's
     * planned path can be a file that was there before ("already occupied"): only one written since the clone was
     * created is its own.
     */
    private void addCloneCopies(Vm vm, VirtualMachineClone c) {
        if (c == null || c.getStatus() == null || c.getStatus().disks == null) {
            return;
        }
        java.time.Instant created = java.time.Instant.parse(c.getMetadata().getCreationTimestamp());
        for (String copy : c.getStatus().disks.values()) {
            Path f = Path.of(copy);
            boolean own;
            try {
                own = "Succeeded".equals(c.getStatus().phase) || !Files.exists(f)
                        || !Files.getLastModifiedTime(f).toInstant().isBefore(created);
            } catch (IOException e) {
                own = false;
            }
            if (own && !vm.files.contains(f)) {
                vm.files.add(f);
            }
        }
    }

    /**
     * A clone's target once its clone ended: Succeeded gives the model the VM the operator wrote (running iff its
     * runStrategy says so); Failed — a fault can do that — counts as "ended in error" and the target is gone (no VM,
     * no domain, its copies removed). Returns what is still awaited, null once it ended.
     */
    private String settleClone(Vm vm) {
        VirtualMachineClone c = cloneObject(vm);
        addCloneCopies(vm, c);
        String phase = c == null || c.getStatus() == null ? null : c.getStatus().phase;
        if (!"Succeeded".equals(phase) && !"Failed".equals(phase)) {
            return "clone " + vm.clone + (c == null ? " not found" : " in phase " + phase);
        }
        VirtualMachine v = fleet.get(vm.name);
        if ("Failed".equals(phase)) {
            report.operationFailed("clone", vm.clone + ": " + c.getStatus().error);
            if (v == null) {
                vm.clonePending = false;
                vm.exists = false;
                return null;
            }
            report.note(vm.name + ": clone " + vm.clone + " Failed but its VM exists; the model keeps the VM");
        } else if (v == null) {
            return "clone " + vm.clone + " Succeeded, but VirtualMachine " + vm.name + " is not there yet";
        }
        vm.clonePending = false;
        // From now on the driver applies this VM like its own: the spec the operator wrote, and its annotation
        // (server-side apply; the lists are atomic, so a later unplug does remove the disk).
        VirtualMachine desired = new VirtualMachine();
        Map<String, String> annotations = new HashMap<>();
        if (v.getMetadata().getAnnotations() != null && v.getMetadata().getAnnotations().containsKey(CLONED_FROM)) {
            annotations.put(CLONED_FROM, v.getMetadata().getAnnotations().get(CLONED_FROM));
        }
        desired.setMetadata(new ObjectMetaBuilder().withName(vm.name).withNamespace(fleet.namespace())
                .withAnnotations(annotations).build());
        desired.setSpec(v.getSpec());
        vm.desired = desired;
        RunStrategy rs = vm.strategy();
        vm.running = rs == RunStrategy.Always || rs == RunStrategy.RerunOnFailure || rs == RunStrategy.Once;
        vm.extraDisk = v.getSpec().disks.stream().filter(d -> "extra".equals(d.name) && d.volume != null)
                .map(d -> d.volume.path).findFirst().orElse(null);
        return null;
    }

    /** A clone's target, once converged: cloned-from its source, genid history starting with Cloned, own identity. */
    private void checkCloneIdentity(Vm vm) {
        VirtualMachine v = fleet.get(vm.name);
        if (v == null || v.getStatus() == null) {
            return;
        }
        vm.identityChecked = true;
        var st = v.getStatus();
        String from = v.getMetadata().getAnnotations() == null ? null
                : v.getMetadata().getAnnotations().get(CLONED_FROM);
        if (!vm.cloneSource.name.equals(from)) {
            stepViolations.add(vm.name + ": annotation " + CLONED_FROM + " is " + from + ", want "
                    + vm.cloneSource.name);
        }
        if (st.genidHistory == null || st.genidHistory.isEmpty() || !"Cloned".equals(st.genidHistory.get(0).reason)) {
            stepViolations.add(vm.name + ": genidHistory does not start with Cloned: " + (st.genidHistory == null
                    ? null : st.genidHistory.stream().map(h -> h.reason).toList()));
        }
        if (vm.cloneSourceGenid != null && (st.genid == null || st.genid.equalsIgnoreCase(vm.cloneSourceGenid))) {
            stepViolations.add(vm.name + ": clone of " + vm.cloneSource.name + " has genid " + st.genid
                    + ", the source had " + vm.cloneSourceGenid);
        }
        for (Vm other : vms) {
            if (other != vm && other.uuid != null && other.uuid.equalsIgnoreCase(st.uuid)) {
                stepViolations.add(vm.name + ": clone has the uuid " + st.uuid + " of " + other.name);
            }
        }
    }

    private static final java.util.regex.Pattern GENID_ELEMENT =
            java.util.regex.Pattern.compile("<genid>([0-9a-fA-F-]{36})</genid>");

    private static String genidOf(String xml) {
        java.util.regex.Matcher m = GENID_ELEMENT.matcher(xml == null ? "" : xml);
        return m.find() ? m.group(1).toLowerCase(Locale.ROOT) : null;
    }

    private void settleRestore(Vm vm) {
        if (vm.pendingRestore == null) {
            return;
        }
        VirtualMachineRestore r = terminalRestore(vm.pendingRestore);
        if (r == null) {
            return;
        }
        vm.pendingRestore = null;
        if (vm.restoreFrom != null) {
            vm.alsoAcceptedGenids.add(vm.restoreFrom.toLowerCase(Locale.ROOT));
        }
        if ("Succeeded".equals(r.getStatus().phase)) {
            String g = r.getStatus().genid == null ? null : r.getStatus().genid.toLowerCase(Locale.ROOT);
            if (g != null && g.equalsIgnoreCase(vm.restoreFrom)) {
                stepViolations.add(vm.name + ": restore " + r.getMetadata().getName() + " kept the genid " + g);
            }
            vm.genid = g;
        } else {
            report.operationFailed("restore", r.getMetadata().getName() + ": " + r.getStatus().error);
            VirtualMachine v = fleet.get(vm.name);
            String now = v == null || v.getStatus() == null ? null : v.getStatus().genid;
            if (now != null && !now.equalsIgnoreCase(vm.restoreFrom)) {
                report.note(vm.name + ": failed restore " + r.getMetadata().getName() + " changed the genid to " + now);
                vm.genid = now.toLowerCase(Locale.ROOT);
            }
        }
    }

    /** Book-keeping once converged, and the checks that only make sense then (orphans, leftovers of deletes). */
    private void afterConvergence(Action a) {
        for (Vm vm : vms) {
            vm.alsoAcceptedGenids.clear();
            if (vm.eitherPower) {
                report.note(vm.name + " (" + vm.strategy() + "): QEMU killed while its " + current.op()
                        .name().toLowerCase(Locale.ROOT) + " was in flight; it ended " + (vm.running
                        ? "running (killed before the start completed)" : "stopped (killed after it)"));
                vm.eitherPower = false;
            }
            if (vm.exists) {
                VirtualMachine v = fleet.get(vm.name);
                if (vm.uuid == null && v != null && v.getStatus() != null) {
                    vm.uuid = v.getStatus().uuid == null ? null : v.getStatus().uuid.toLowerCase(Locale.ROOT);
                }
                if (vm.clone != null && !vm.clonePending && !vm.identityChecked) {
                    checkCloneIdentity(vm);
                }
            }
            if (vm.pendingSnapshot != null) {
                VirtualMachineSnapshot s = terminalSnapshot(vm.pendingSnapshot);
                if ("Succeeded".equals(s.getStatus().phase)) {
                    vm.snaps.add(new Snap(vm.pendingSnapshot, "Running".equals(s.getStatus().vmState),
                            vm.extraDisk));
                } else {
                    report.operationFailed("snapshot", vm.pendingSnapshot + ": " + s.getStatus().error);
                }
                vm.pendingSnapshot = null;
            }
        }
        // Orphans: a libvirt domain with our prefix that no existing VM accounts for.
        Set<String> expected = live().stream().map(v -> fleet.domainName(host, v.name)).collect(Collectors.toSet());
        Processes.Result list = Processes.run(30, "virsh", "-c", "qemu:///system", "list", "--all", "--name");
        for (String n : list.output().split("\n")) {
            if (n.strip().startsWith(prefix) && !expected.contains(n.strip())) {
                stepViolations.add("orphan libvirt domain " + n.strip());
            }
        }
        for (Vm vm : List.copyOf(vms)) {
            if (!vm.exists) {
                checkLeftovers(vm);
                vms.remove(vm);
            }
        }
    }

    /**
     * A deleted VM leaves nothing: no QEMU holding its disk images, no managed-save image, NVRAM or snapshot metadata
     * in libvirt's directories; then the driver removes the images it created.
     */
    private void checkLeftovers(Vm vm) {
        String dn = fleet.domainName(host, vm.name);
        VirtualMachineClone clone = vm.clone == null ? null : cloneObject(vm);
        addCloneCopies(vm, clone);
        for (Processes.Qemu q : Processes.qemus()) {
            for (Path f : vm.files) {
                if (q.cmdline().contains(f.toString())) {
                    stepViolations.add(vm.name + " deleted, but QEMU pid " + q.pid() + " still uses " + f);
                }
            }
        }
        for (Path dir : List.of(LIBVIRT_QEMU.resolve("save"), LIBVIRT_QEMU.resolve("nvram"))) {
            try (Stream<Path> files = Files.isDirectory(dir) ? Files.list(dir) : Stream.empty()) {
                files.filter(f -> f.getFileName().toString().startsWith(dn)).forEach(f ->
                        stepViolations.add(vm.name + " deleted, but libvirt's " + f + " is left"));
            } catch (IOException e) {
                // unreadable: nothing to say
            }
        }
        Path meta = SNAPSHOT_METADATA.resolve(dn);
        if (Files.isDirectory(meta)) {
            try (Stream<Path> s = Files.list(meta)) {
                List<Path> left = s.toList();
                if (!left.isEmpty()) {
                    stepViolations.add(vm.name + " deleted, but libvirt snapshot metadata is left: " + left);
                }
            } catch (IOException e) {
                // unreadable as non-root: nothing to say
            }
        }
        // Snapshot objects outlive their VM (not in the model): remove them so the namespace ends clean.
        vm.snaps.forEach(s -> fleet.client().resources(VirtualMachineSnapshot.class).inNamespace(fleet.namespace())
                .withName(s.name()).delete());
        // The clone object does not own its target either (operator README): it goes with the VM it made.
        if (clone != null) {
            fleet.client().resource(clone).delete();
        }
        for (Path f : vm.files) {
            try {
                Files.deleteIfExists(f);
            } catch (IOException e) {
                report.note("cannot remove " + f + ": " + e.getMessage());
            }
        }
    }

    static Set<Fault> parseFaults(String csv) {
        Set<Fault> s = EnumSet.noneOf(Fault.class);
        for (String f : csv.split(",")) {
            if (!f.isBlank()) {
                s.add(Fault.valueOf(f.trim().toUpperCase(Locale.ROOT)));
            }
        }
        return s;
    }
}
