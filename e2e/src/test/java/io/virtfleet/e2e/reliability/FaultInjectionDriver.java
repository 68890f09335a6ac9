package io.virtfleet.e2e.reliability;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.CustomResource;
import io.virtfleet.api.v1alpha1.DeviceStatus;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.RunStrategy;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.api.v1alpha1.VirtualMachineBackup;
import io.virtfleet.api.v1alpha1.VirtualMachineBackupSpec;
import io.virtfleet.api.v1alpha1.VirtualMachineClone;
import io.virtfleet.api.v1alpha1.VirtualMachineFailover;
import io.virtfleet.api.v1alpha1.VirtualMachineFailoverSpec;
import io.virtfleet.api.v1alpha1.VirtualMachineMigration;
import io.virtfleet.api.v1alpha1.VirtualMachineMigrationSpec;
import io.virtfleet.api.v1alpha1.VirtualMachineCloneSpec;
import io.virtfleet.api.v1alpha1.VirtualMachineRestore;
import io.virtfleet.api.v1alpha1.VirtualMachineRestoreSpec;
import io.virtfleet.api.v1alpha1.VirtualMachineSnapshot;
import io.virtfleet.api.v1alpha1.VirtualMachineSnapshotSpec;
import io.virtfleet.api.v1alpha1.VirtualMachineSpec;
import io.virtfleet.e2e.support.Fleet;
import io.virtfleet.e2e.support.LibvirtGuest;
import io.virtfleet.e2e.support.LibvirtHost;

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
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Fault injection: random lifecycle, snapshot, restore, clone, backup, restore-from-backup and (on two hosts) live
 * migration operations on a few test-guest VMs while the operator, a node agent, a libvirtd or a QEMU process is killed
 * with SIGKILL at a random point and brought back (or libvirtd hangs, an agent is partitioned, the control plane
 * restarts, a backup meets a full root: {@link Fault}). After every step it measures how long until everything
 * converged to what the model (the last operation of each VM) asks for, and it checks the invariants the whole time:
 * no VM's domain lost (its UUID never changes), no VM running twice (two QEMU processes with one -uuid or name, except
 * a migration's source and destination of which only one runs), no orphan libvirt domain of ours and no leftover of a
 * deleted VM, and a genid that only changes on a restore (status and what the guest sees).
 *
 * <p>Operations are issued first and the fault lands 0–2 s later, i.e. usually in the middle of the work the
 * operation causes. Everything random comes from one seeded {@link Random}; the seed is printed for a replay (the
 * timing of the machine is of course not replayed).
 */
final class FaultInjectionDriver {
    enum Op { CREATE, START, STOP, RESTART, PLUG, UNPLUG, SNAPSHOT, RESTORE, DELETE, CLONE, BACKUP, RESTORE_BACKUP,
        MIGRATE, FAILOVER, DOWNLOAD }

    /**
     * OPERATOR, AGENT, LIBVIRTD, QEMU: kill -9 (and start again); HANG: libvirtd stopped with SIGSTOP for 2–8 s
     * (a hung daemon, not a dead one), then SIGCONT; PARTITION: the agent cut off the apiserver for longer than its
     * Lease (its VMs must keep running), then healed; APISERVER: kube-apiserver and etcd stopped and started again on
     * their data (the operator's and the agent's watches must come back); DISKFULL: the step becomes a backup onto
     * an allowed root that is full (a small tmpfs the test mounted, filled up to its last 64 KiB) — it must fail
     * with an error that says so, leave nothing half-written there, and leave the VM as it was — or, half of the
     * time, a new VM whose disk is made from an image the agent must download into its image cache on that full
     * root (the first allowed root: the cache's place): the VM must get a Failure that says the space ran out, with
     * no partial download, no base, no overlay and no libvirt domain left, and the other VMs untouched.
     */
    enum Fault { OPERATOR, AGENT, LIBVIRTD, QEMU, HANG, PARTITION, APISERVER, DISKFULL;

        String label() {
            return switch (this) {
                case HANG -> "SIGSTOP libvirtd";
                case PARTITION -> "partition of the agent";
                case APISERVER -> "restart of kube-apiserver + etcd";
                case DISKFULL -> "full allowed root";
                default -> "kill -9 " + name();
            };
        }
    }

    /** Weight of FAILOVER among a VM's operations (the others: 1–4); system property reliability.failoverWeight. */
    static final int FAILOVER_WEIGHT = Integer.getInteger("reliability.failoverWeight", 1);

    static final String REQUEST = "virtfleet.io/request";
    static final String LAST_HANDLED_REQUEST = "virtfleet.io/last-handled-request";
    static final String CLONED_FROM = "virtfleet.io/cloned-from";
    static final String RESTORED_FROM_BACKUP = "virtfleet.io/restored-from-backup";

    /** Run parameters (system properties reliability.*; see FaultInjectionTest). */
    record Config(int ops, int maxVms, long seed, Set<Fault> faults, double faultProbability,
                  double boundSeconds, Path diagnosticsDir, Consumer<String> log, double minutes) {
        /** By operation count: {@code ops} operations. */
        Config(int ops, int maxVms, long seed, Set<Fault> faults, double faultProbability, double boundSeconds,
               Path diagnosticsDir, Consumer<String> log) {
            this(ops, maxVms, seed, faults, faultProbability, boundSeconds, diagnosticsDir, log, 0);
        }
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
        String restore; // or the VirtualMachineRestore that recreates it from a backup
        Backup restoredFrom; // that backup
        boolean clonePending; // until that clone (or restore from a backup) is Succeeded or Failed
        String pendingBackup;
        boolean pendingBackupOntoFullRoot;
        boolean downloadOntoFullRoot; // DOWNLOAD: its disk's image cannot be downloaded (the cache is full)
        boolean onSmallRoot; // stopped for good, its disk on the small root: for DISKFULL's snapshots only
        boolean pendingSnapshotOntoFullRoot;
        long qemuPidBeforeBackup; // a backup onto a full root leaves the VM as it was: same QEMU process
        String host; // where its status says it is (null before the operator placed it)
        String pendingMigration;
        String migrationSource;
        String migrationTarget;
        String pendingFailover;
        String failoverTarget; // the only other host
        String failoverGenid; // the genid before the failover: the one it gives must differ
        String fencedOn; // the host a failover took it from: its copy there must be fenced and never run again
        String staleName; // its libvirt name there
        long stalePid = -1; // the QEMU of that copy when the host was lost (alive until the host's agent fences it)
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

    /** A backup that succeeded: of which VM, the genid it recorded, where it is. */
    record Backup(String name, String vmName, String genid, Path dir) {
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

    /**
     * One host of the run: its node agent (an OS process), the agent's libvirtd — one of the run's own
     * (scripts/libvirt-host), never the machine's, which the other tests on the machine share: this driver kills it
     * and stops it with SIGSTOP — and the proxy between the agent and the apiserver that PARTITION cuts.
     */
    record Node(String host, LibvirtHost libvirt, VirtfleetProcess agent, PartitionProxy partition) {
    }

    private final Fleet fleet;
    private final List<Node> nodes;
    private final VirtfleetProcess operator;
    private final Config config;
    private final Random rnd;
    private final FaultReport report = new FaultReport();
    private final List<Vm> vms = new ArrayList<>();
    private final List<Backup> backups = new ArrayList<>();
    /** Where backups go (an allowed root's directory of this run's own). */
    private Path backupDir;
    /** A small filesystem mounted under an allowed root, for DISKFULL (null: that fault is skipped). */
    private Path smallRoot;
    /** Serves DOWNLOAD's images on loopback (null: DISKFULL makes backups only). */
    private ImageServer imageServer;
    /** Stops kube-apiserver and etcd and starts them again on their data, for APISERVER (null: skipped). */
    private Runnable controlPlaneRestart;
    private final Set<String> stepViolations = new LinkedHashSet<>();
    private int vmCounter;
    private int steps;
    private int nonce;
    private int consecutiveNonConvergence;
    private Action current;
    /** The VM the current step's operation concerns (for CREATE and CLONE the new one), once issued. */
    private Vm subject;
    /** The host a FAILOVER step took down (its agent and libvirtd killed), until it is brought back; else null. */
    private Node lostNode;

    FaultInjectionDriver(Fleet fleet, List<Node> nodes, VirtfleetProcess operator, Config config) {
        this.fleet = fleet;
        this.nodes = List.copyOf(nodes);
        this.operator = operator;
        this.config = config;
        this.rnd = new Random(config.seed());
    }

    FaultReport report() {
        return report;
    }

    private Node node(String host) {
        return nodes.stream().filter(n -> n.host().equals(host)).findFirst().orElse(nodes.get(0));
    }

    /** The host the VM is on: its status says (where the operator placed it, or moved it); the first before that. */
    private String hostOf(Vm vm) {
        return vm.host != null ? vm.host : nodes.get(0).host();
    }

    /** The VM's libvirt domain name on its host (the prefix is the host's). */
    private String dn(Vm vm) {
        return fleet.domainName(hostOf(vm), vm.name);
    }

    /** The host whose agent names its domains with this libvirt name's prefix, or null: not one of ours. */
    private Node nodeOfDomain(String libvirtName) {
        return libvirtName == null ? null : nodes.stream()
                .filter(n -> libvirtName.startsWith(fleet.domainPrefix(n.host()))).findFirst().orElse(null);
    }

    /**
     * The node a host-side fault hits: during a migration the source or the destination (that is where a fault
     * hurts), otherwise any.
     */
    private Node faultNode() {
        if (current != null && current.op() == Op.MIGRATE && current.vm() != null && nodes.size() > 1) {
            return rnd.nextBoolean() ? node(current.vm().migrationSource) : node(current.vm().migrationTarget);
        }
        if (lostNode != null) {
            return nodes.stream().filter(n -> n != lostNode).findFirst().orElseThrow(); // the lost one is down
        }
        return nodes.get(rnd.nextInt(nodes.size()));
    }

    /** Backups go to {@code dir}; DISKFULL fills {@code smallRoot} (a filesystem of its own under an allowed root). */
    FaultInjectionDriver withBackups(Path dir, Path smallRoot) {
        this.backupDir = dir;
        this.smallRoot = smallRoot;
        return this;
    }

    /**
     * DISKFULL may also make a VM from an image served by {@code server}: the agents' first allowed root (where their
     * image cache is) must then be the small root.
     */
    FaultInjectionDriver withImageServer(ImageServer server) {
        this.imageServer = server;
        return this;
    }

    /** What APISERVER does: stop the control plane and start it again on the same data dir, same address. */
    FaultInjectionDriver withControlPlaneRestart(Runnable restart) {
        this.controlPlaneRestart = restart;
        return this;
    }

    /** Runs the configured number of operations, then deletes every VM (checked like any delete). */
    void run() {
        long until = config.minutes() <= 0 ? Long.MAX_VALUE : System.nanoTime() + (long) (config.minutes() * 60e9);
        for (int i = 1; config.minutes() > 0 ? System.nanoTime() < until : i <= config.ops(); i++) {
            Action a = live().size() < Math.min(3, config.maxVms()) ? fill() : pick();
            step(i, a, rnd.nextDouble() < config.faultProbability() ? pickFault() : null);
            steps = i;
            if (consecutiveNonConvergence >= 3) {
                report.violation("aborted after 3 steps in a row did not converge within the bound");
                return;
            }
        }
        for (Vm vm : live()) {
            step(steps + 1, new Action(Op.DELETE, vm, "final clean-up"), null);
        }
        // Backups are not owned by their VM (they outlive it, that is their point): removed with the run.
        for (Backup b : backups) {
            fleet.client().resources(VirtualMachineBackup.class).inNamespace(fleet.namespace()).withName(b.name())
                    .delete();
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
        List<Vm> sources = live().stream().filter(v -> v.desired != null && !v.downloadOntoFullRoot
                && !v.onSmallRoot).toList();
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
        Path filler = null;
        if (fault == Fault.DISKFULL) {
            List<Vm> candidates = live().stream().filter(v -> v.desired != null && !v.clonePending
                    && !v.downloadOntoFullRoot && !v.onSmallRoot && v.pendingBackup == null).toList();
            List<Vm> onSmallRoot = live().stream().filter(v -> v.onSmallRoot && v.pendingSnapshot == null).toList();
            boolean snapshot = rnd.nextInt(3) == 0;
            if (smallRoot == null) {
                fault = null;
            } else if (snapshot && !onSmallRoot.isEmpty()) {
                // A snapshot of the stopped VM whose disk is on the small root: the snapshot is what runs out of
                // space (libvirt's internal snapshot of a shut-off domain is qemu-img snapshot -c on its qcow2).
                a = new Action(Op.SNAPSHOT, onSmallRoot.get(rnd.nextInt(onSmallRoot.size())), "onto the full root");
                filler = fill(smallRoot, 0);
            } else if (snapshot && live().size() < config.maxVms()) {
                // No such VM yet: this step makes one (no fault); a later DISKFULL snapshots it.
                a = new Action(Op.CREATE, null, "stopped, its disk on the small root");
                fault = null;
            } else if (imageServer != null && (candidates.isEmpty() || rnd.nextBoolean())) {
                // A new VM whose image download into the full cache is what runs out of space.
                a = new Action(Op.DOWNLOAD, null, "image download into the full cache");
                filler = fill(smallRoot, 64 * 1024);
            } else if (candidates.isEmpty()) {
                fault = null;
            } else {
                // A backup onto the full root, so that the copy is what runs out of space.
                a = new Action(Op.BACKUP, candidates.get(rnd.nextInt(candidates.size())), "onto the full root");
                filler = fill(smallRoot, 64 * 1024);
            }
        }
        long t0 = System.nanoTime();
        current = a;
        subject = null;
        Vm vm = issue(a);
        subject = vm;
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
        if (lostNode != null) {
            // A failover: once it ended, the lost host comes back (its agent must fence its copy); the convergence
            // is measured from then.
            awaitFailoverEnd(vm);
            bringBack(lostNode);
            tBack = System.nanoTime();
        }
        List<String> pending = awaitConvergence(tBack, config.boundSeconds() + allowance);
        long tEnd = System.nanoTime();
        if (filler != null) {
            try {
                Files.deleteIfExists(filler);
            } catch (IOException e) {
                stepViolations.add("cannot remove the filler " + filler + ": " + e.getMessage());
            }
        }
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
            if (vm.desired == null || vm.downloadOntoFullRoot) {
                continue; // a clone's target whose clone has not ended, a VM whose image did not fit: nothing to do
            }
            if (vm.onSmallRoot) {
                if (live.size() > 2) {
                    add.accept(new Action(Op.DELETE, vm, ""), 1); // otherwise only DISKFULL's snapshots touch it
                }
                continue;
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
            if (nodes.size() > 1 && vm.running && vm.host != null && vm.pendingMigration == null) {
                add.accept(new Action(Op.MIGRATE, vm, ""), 3);
                if (vm.pendingBackup == null && vm.pendingSnapshot == null && vm.pendingRestore == null) {
                    // the lost host's Lease alone is 15 s: rare unless asked for (reliability.failoverWeight)
                    add.accept(new Action(Op.FAILOVER, vm, ""), FAILOVER_WEIGHT);
                }
            }
            if (backupDir != null && vm.pendingBackup == null) {
                add.accept(new Action(Op.BACKUP, vm, ""), 1);
            }
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
        if (live.size() < config.maxVms()) {
            // A backup of a VM that is gone brings it back under its name (the backed-up VM must not exist).
            Set<String> names = vms.stream().map(v -> v.name).collect(Collectors.toSet());
            backups.stream().filter(b -> !names.contains(b.vmName())).findFirst().ifPresent(b ->
                    add.accept(new Action(Op.RESTORE_BACKUP, null, b.name()), 2));
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
            int w = f == Fault.LIBVIRTD || f == Fault.HANG || f == Fault.PARTITION || f == Fault.APISERVER ? 1 : 3;
            for (int k = 0; k < w; k++) {
                weighted.add(f);
            }
        }
        return weighted.get(rnd.nextInt(weighted.size()));
    }

    // -------------------------------------------------------------------------------------------------- operations

    /**
     * START or STOP, either way at random: declared (runStrategy {@code declared}) or requested (runStrategy Manual
     * and the request {@code verb}); then applied.
     */
    private void power(Vm vm, boolean running, RunStrategy declared, String verb) {
        vm.crashed = false;
        vm.eitherPower = false;
        if (rnd.nextBoolean()) {
            vm.desired.getSpec().runStrategy = declared;
        } else {
            vm.desired.getSpec().runStrategy = RunStrategy.Manual;
            request(vm, verb);
        }
        vm.running = running;
        fleet.apply(vm.desired);
    }

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
                if (!a.detail().isEmpty()) {
                    // DISKFULL's snapshot VM: stopped (a running guest whose disk fills up is paused by QEMU, which
                    // is not what is tested here), its data disk on the small root.
                    Path copy = Path.of(desired.getSpec().disks.get(0).volume.path);
                    Path onSmall = smallRoot.resolve(name + "-data.qcow2");
                    try {
                        Files.move(copy, onSmall);
                    } catch (IOException e) {
                        throw new IllegalStateException("cannot move " + copy + " to " + onSmall + ": " + e, e);
                    }
                    desired.getSpec().disks.get(0).volume.path = onSmall.toString();
                    desired.getSpec().runStrategy = RunStrategy.Halted;
                    vm.running = false;
                    vm.onSmallRoot = true;
                }
                vm.files.add(Path.of(desired.getSpec().disks.get(0).volume.path));
                vms.add(vm);
                fleet.apply(desired);
            }
            case START -> power(vm, true, RunStrategy.Always, "start");
            case STOP -> power(vm, false, RunStrategy.Halted, "stop");
            case RESTART -> {
                request(vm, "restart");
                fleet.apply(vm.desired);
            }
            case PLUG -> {
                Path extra = fleet.copyOfDataDisk(vm.name + "-extra-" + (++nonce));
                vm.files.add(extra);
                vm.desired.getSpec().disks.add(Fleet.fileDisk("extra", extra.toString(), "qcow2", "virtio"));
                vm.extraDisk = extra.toString();
                fleet.apply(vm.desired);
            }
            case UNPLUG -> {
                vm.desired.getSpec().disks.removeIf(d -> "extra".equals(d.name));
                vm.extraDisk = null;
                fleet.apply(vm.desired);
            }
            case SNAPSHOT -> {
                VirtualMachineSnapshot s = fleet.inNamespace(new VirtualMachineSnapshot(), vm.name + "-s" + (++nonce),
                        new VirtualMachineSnapshotSpec());
                s.getSpec().vmName = vm.name;
                fleet.client().resource(s).create();
                vm.pendingSnapshot = s.getMetadata().getName();
                vm.pendingSnapshotOntoFullRoot = !a.detail().isEmpty();
            }
            case RESTORE -> {
                VirtualMachineRestore r = fleet.inNamespace(new VirtualMachineRestore(), vm.name + "-r" + (++nonce),
                        new VirtualMachineRestoreSpec());
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
            case MIGRATE -> {
                String from = hostOf(vm);
                String to = nodes.stream().map(Node::host).filter(h -> !h.equals(from)).toList()
                        .get(rnd.nextInt(nodes.size() - 1));
                VirtualMachineMigration m = fleet.inNamespace(new VirtualMachineMigration(), vm.name + "-m" + (++nonce),
                        new VirtualMachineMigrationSpec());
                m.getSpec().vmName = vm.name;
                // half of them name the target, the others leave it to the scheduler (the only other host)
                m.getSpec().targetHost = rnd.nextBoolean() ? to : null;
                vm.pendingMigration = m.getMetadata().getName();
                vm.fencedOn = null; // it may move back to the host a failover took it from
                vm.migrationSource = from;
                vm.migrationTarget = to;
                fleet.client().resource(m).create();
            }
            case FAILOVER -> loseHostAndFailOver(vm);
            case DOWNLOAD -> {
                String name = "rel-" + (++vmCounter);
                VirtualMachine desired = fleet.testGuest(name);
                desired.getSpec().firmware.kernelBoot.cmdline = "console=ttyS0 no_timer_check";
                VirtualMachineSpec.Disk data = desired.getSpec().disks.get(0);
                Path overlay = Path.of(data.volume.path);
                try {
                    // testGuest made a copy of the data disk there just now; the disk is to come from the image
                    Files.deleteIfExists(overlay);
                } catch (IOException e) {
                    throw new IllegalStateException("cannot remove " + overlay + ": " + e.getMessage(), e);
                }
                ImageServer.Image image = imageServer.newImage();
                data.volume = new VirtualMachineSpec.Volume();
                data.volume.path = overlay.toString();
                data.volume.image = new VirtualMachineSpec.Image();
                data.volume.image.url = image.url();
                data.volume.image.sha256 = image.sha256();
                data.volume.image.format = "qcow2";
                vm = new Vm(name, desired);
                vm.downloadOntoFullRoot = true;
                vm.running = false;
                vm.files.add(overlay);
                vms.add(vm);
                fleet.apply(desired);
            }
            case BACKUP -> {
                boolean full = !a.detail().isEmpty();
                VirtualMachineBackup b = fleet.inNamespace(new VirtualMachineBackup(), vm.name + "-b" + (++nonce),
                        new VirtualMachineBackupSpec());
                b.getSpec().vmName = vm.name;
                b.getSpec().destination = (full ? smallRoot : backupDir).toString();
                vm.pendingBackup = b.getMetadata().getName();
                vm.pendingBackupOntoFullRoot = full;
                vm.qemuPidBeforeBackup = qemuPid(vm);
                fleet.client().resource(b).create();
            }
            case RESTORE_BACKUP -> {
                Backup from = backups.stream().filter(b -> b.name().equals(a.detail())).findFirst().orElseThrow();
                // The VM comes back under its name; what it is made of is known once the restore ended (settleMade).
                Vm target = new Vm(from.vmName(), null);
                target.running = false;
                target.restore = from.name() + "-r" + (++nonce);
                target.restoredFrom = from;
                target.clonePending = true;
                vms.add(target);
                VirtualMachineRestore r = fleet.inNamespace(new VirtualMachineRestore(), target.restore,
                        new VirtualMachineRestoreSpec());
                r.getSpec().backupName = from.name();
                fleet.client().resource(r).create();
                return target;
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
                VirtualMachineClone c = fleet.inNamespace(new VirtualMachineClone(), target.clone,
                        new VirtualMachineCloneSpec());
                c.getSpec().source = vm.name;
                c.getSpec().target = target.name;
                fleet.client().resource(c).create();
                return target;
            }
        }
        return vm;
    }

    /** The pid of the VM's QEMU process, -1 when none runs. */
    private long qemuPid(Vm vm) {
        String dn = dn(vm);
        return Processes.qemus().stream().filter(q -> dn.equals(q.name())).mapToLong(Processes.Qemu::pid).findFirst()
                .orElse(-1);
    }

    /**
     * Fills the filesystem at {@code root} up to its last {@code leave} bytes with one file (fallocate: the blocks
     * are taken, not sparse) and returns that file. 64 KiB is less than any disk copy needs (a qcow2's header, L1 and
     * refcount tables alone are 4 clusters of 64 KiB); a snapshot needs less (a new L1 table and snapshot table
     * entry), so for it nothing is left.
     */
    private static Path fill(Path root, long leave) {
        Path filler = root.resolve(".filler");
        try {
            long free = Files.getFileStore(root).getUsableSpace();
            long size = Math.max(0, free - leave);
            Processes.Result r = Processes.run(60, "fallocate", "-l", Long.toString(size), filler.toString());
            if (r.exitCode() != 0) {
                throw new IllegalStateException("fallocate " + filler + ": " + r.output());
            }
            return filler;
        } catch (IOException e) {
            throw new IllegalStateException("cannot fill " + root + ": " + e.getMessage(), e);
        }
    }

    private LibvirtGuest guest(Vm vm) {
        return fleet.guestOn(hostOf(vm), dn(vm));
    }

    private boolean guestAnswers(Vm vm) {
        return guest(vm).exec("true").ok();
    }

    private String consoleHint(Vm vm) {
        String console = guest(vm).console();
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
                Node n = faultNode();
                VirtfleetProcess p = fault == Fault.OPERATOR ? operator : n.agent();
                long pid = p.pid();
                p.kill9();
                VirtfleetProcess.sleep(down);
                p.start();
                p.awaitReady(java.time.Duration.ofSeconds(120));
                return (fault == Fault.AGENT && nodes.size() > 1 ? "agent of " + n.host() + " " : "") + "pid " + pid
                        + ", down " + down + " ms";
            }
            case LIBVIRTD -> {
                Node n = faultNode();
                long pid = n.libvirt().daemonPid();
                if (pid <= 0) {
                    return null;
                }
                Processes.kill9(pid);
                VirtfleetProcess.sleep(down);
                n.libvirt().restartDaemon();
                return (nodes.size() > 1 ? "libvirtd of " + n.host() + " " : "") + "pid " + pid + ", down " + down
                        + " ms";
            }
            case HANG -> {
                long pid = faultNode().libvirt().daemonPid();
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
                Node n = faultNode();
                PartitionProxy partition = n.partition();
                if (partition == null) {
                    return null;
                }
                // Longer than the agent's Lease (15 s): the operator sees the host lost meanwhile.
                long cutMs = 16_000 + rnd.nextInt(8000);
                Map<String, String> steady = new HashMap<>(); // libvirt name -> VM, of the VMs running at the cut
                for (Vm v : vms) {
                    if (v.exists && v.running && !v.crashed && v != current.vm() && v != subject
                            && n.host().equals(hostOf(v))) {
                        steady.put(dn(v), v.name);
                    }
                }
                Set<String> before = qemuNames();
                partition.cut();
                try {
                    VirtfleetProcess.sleep(cutMs);
                    for (String stopped : stoppedDuringPartition(steady, before, qemuNames())) {
                        stepViolations.add(stopped + ": its QEMU stopped while the agent was partitioned from the "
                                + "apiserver");
                    }
                } finally {
                    partition.heal();
                }
                return "agent" + (nodes.size() > 1 ? " of " + n.host() : "") + " cut off the apiserver for " + cutMs
                        + " ms";
            }
            case APISERVER -> {
                if (controlPlaneRestart == null) {
                    return null;
                }
                long t = System.nanoTime();
                controlPlaneRestart.run();
                return String.format(Locale.ROOT, "down and back in %.1f s", (System.nanoTime() - t) / 1e9);
            }
            case DISKFULL -> {
                // filled before the backup was issued (step); nothing more to do here
                try {
                    return smallRoot + " full (" + Files.getFileStore(smallRoot).getUsableSpace() / 1024 + " KiB free)";
                } catch (IOException e) {
                    return smallRoot + " full";
                }
            }
            case QEMU -> {
                // The victim comes from the model (not from what runs right now), so a replay picks the same VM.
                // (Not the VM being failed over: whether its stale copy dies or not, it is to run on the new host.)
                List<Vm> candidates = vms.stream().filter(v -> v.exists && v.running && v.pendingFailover == null)
                        .toList();
                if (candidates.isEmpty()) {
                    return null;
                }
                Vm vm = candidates.get(rnd.nextInt(candidates.size()));
                String dn = dn(vm);
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

    private static Set<String> qemuNames() {
        return Processes.qemus().stream().map(Processes.Qemu::name).filter(java.util.Objects::nonNull)
                .collect(Collectors.toSet());
    }

    /**
     * The VMs (of {@code steady}: libvirt name → VM name) whose QEMU ran when the agent was cut off and no longer runs
     * when the partition ends. A VM whose QEMU did not run yet at the cut — created or started in the same step, the
     * work still on its way to the agent — is not one: the partition keeps it from starting, which is right.
     */
    static List<String> stoppedDuringPartition(Map<String, String> steady, Set<String> runningAtCut,
                                               Set<String> runningAtHeal) {
        return steady.entrySet().stream().filter(e -> runningAtCut.contains(e.getKey())
                && !runningAtHeal.contains(e.getKey())).map(Map.Entry::getValue).sorted().toList();
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
        Map<String, String> libvirtStates = new HashMap<>();
        for (Node n : nodes) {
            if (n == lostNode) {
                continue; // its libvirtd is down on purpose: what runs there is seen in the QEMU processes
            }
            Processes.Result list = Processes.run(30, "virsh", "-c", n.libvirt().uri(), "list", "--all");
            if (list.exitCode() != 0) {
                throw new IllegalStateException("virsh list on " + n.host() + ": " + list.output().strip());
            }
            libvirtStates.putAll(parseVirshList(list.output(), fleet.domainPrefix(n.host())));
        }
        return new World(vmObjects, domains, libvirtStates, Processes.qemus());
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
        Set<String> ourUuids = vms.stream().map(v -> v.uuid).filter(java.util.Objects::nonNull)
                .map(u -> u.toLowerCase(Locale.ROOT)).collect(Collectors.toSet());
        Map<String, RunningTwice.Migration> inFlight = new HashMap<>();
        for (Vm vm : vms) {
            if (vm.uuid != null && vm.pendingMigration != null) {
                inFlight.put(vm.uuid, new RunningTwice.Migration(vm.name, vm.pendingMigration, vm.migrationSource,
                        vm.migrationTarget, fleet.domainName(vm.migrationSource, vm.name),
                        fleet.domainName(vm.migrationTarget, vm.name)));
            }
            if (vm.uuid != null && vm.fencedOn != null && vm.stalePid > 0) {
                // a failover, in flight or ended, until the stale copy is gone: it and the new host's start attempts
                inFlight.put(vm.uuid, new RunningTwice.Migration(vm.name, vm.pendingFailover == null ? "(ended)"
                        : vm.pendingFailover, vm.fencedOn, vm.failoverTarget, vm.staleName,
                        fleet.domainName(vm.failoverTarget, vm.name), true));
            }
            if (vm.exists && vm.fencedOn != null) {
                // The lost host's copy is fenced, never started again: no QEMU of that name but the stale one.
                for (Processes.Qemu q : w.qemus()) {
                    if (vm.staleName.equals(q.name()) && q.pid() != vm.stalePid) {
                        stepViolations.add(vm.name + ": failed over from " + vm.fencedOn + ", but a QEMU (pid "
                                + q.pid() + ") runs its copy there again");
                    }
                }
            }
        }
        stepViolations.addAll(RunningTwice.violations(w.qemus(), q -> nodeOfDomain(q.name()) != null
                        || q.uuid() != null && ourUuids.contains(q.uuid().toLowerCase(Locale.ROOT)), inFlight,
                w.libvirt(), this::domainStatesInReverseHostOrder));
        for (Vm vm : vms) {
            VirtualMachine v = w.vms().get(vm.name);
            if (!vm.exists || v == null || v.getStatus() == null) {
                continue;
            }
            if (vm.uuid != null && v.getStatus().uuid != null && !vm.uuid.equalsIgnoreCase(v.getStatus().uuid)) {
                stepViolations.add(vm.name + ": domain lost: uuid " + vm.uuid + " became " + v.getStatus().uuid);
            }
            String g = v.getStatus().genid;
            if (vm.genid != null && vm.pendingRestore == null && vm.pendingFailover == null && g != null
                    && !g.equalsIgnoreCase(vm.genid)
                    && !vm.alsoAcceptedGenids.contains(g.toLowerCase(Locale.ROOT))) {
                stepViolations.add(vm.name + ": genid changed without a restore: " + vm.genid + " -> " + g);
            }
        }
    }

    /** libvirt's state of a migrating VM's domains, the hosts read in the other order than {@link #observe()}. */
    private Map<String, String> domainStatesInReverseHostOrder(RunningTwice.Migration m) {
        List<Node> reversed = new ArrayList<>(nodes);
        java.util.Collections.reverse(reversed);
        Map<String, String> again = new HashMap<>();
        for (Node n : reversed) {
            String dn = fleet.domainName(n.host(), m.vm());
            again.put(dn, Processes.run(30, "virsh", "-c", n.libvirt().uri(), "domstate", dn).output().strip());
        }
        return again;
    }

    /** What differs between the model and the API objects, libvirt and the processes (cheap: no per-VM calls). */
    private List<String> differences(World w) {
        List<String> diff = new ArrayList<>();
        for (Vm vm : vms) {
            VirtualMachine v = w.vms().get(vm.name);
            Domain d = w.domains().get(vm.name);
            if (!vm.exists) {
                if (v != null) {
                    diff.add(vm.name + ": VirtualMachine still there");
                }
                if (d != null) {
                    diff.add(vm.name + ": Domain still there");
                }
                for (Node n : nodes) {
                    String name = fleet.domainName(n.host(), vm.name);
                    if (w.libvirt().containsKey(name)) {
                        diff.add(vm.name + ": libvirt domain still defined on " + n.host() + " ("
                                + w.libvirt().get(name) + ")");
                    }
                    if (w.qemus().stream().anyMatch(q -> name.equals(q.name()))) {
                        diff.add(vm.name + ": QEMU still running on " + n.host());
                    }
                }
                continue;
            }
            if (vm.downloadOntoFullRoot) {
                String waiting = settleDownload(vm, v, w);
                if (waiting != null) {
                    diff.add(vm.name + ": " + waiting);
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
            if (st.host != null) {
                vm.host = st.host;
            }
            String dn = dn(vm);
            List<Processes.Qemu> qemus = w.qemus().stream().filter(q -> dn.equals(q.name())).toList();
            if (vm.pendingMigration != null) {
                String waiting = settleMigration(vm, st.host);
                if (waiting != null) {
                    diff.add(vm.name + ": " + waiting);
                }
            }
            if (vm.pendingFailover != null) {
                String waiting = settleFailover(vm, st.host);
                if (waiting != null) {
                    diff.add(vm.name + ": " + waiting);
                }
            }
            if (vm.fencedOn != null && vm.stalePid > 0) {
                long stale = vm.stalePid;
                if (w.qemus().stream().anyMatch(q -> q.pid() == stale)) {
                    diff.add(vm.name + ": its stale copy on " + vm.fencedOn + " (QEMU " + stale + ") still runs");
                } else {
                    vm.stalePid = -1;
                }
            }
            if (vm.fencedOn != null && w.libvirt().containsKey(vm.staleName)) {
                diff.add(vm.name + ": its stale copy " + vm.staleName + " is still defined on " + vm.fencedOn + " ("
                        + w.libvirt().get(vm.staleName) + ")");
            }
            if (d != null && d.getSpec() != null && !java.util.Objects.equals(d.getSpec().host, st.host)) {
                diff.add(vm.name + ": its Domain names host " + d.getSpec().host + ", its status " + st.host);
            }
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
                List<Long> sameUuid = w.qemus().stream().filter(q -> st.uuid != null
                        && st.uuid.equalsIgnoreCase(q.uuid())).map(Processes.Qemu::pid).toList();
                if (sameUuid.size() > 1) {
                    diff.add(vm.name + ": QEMU processes " + sameUuid + " with its uuid (a migration's source left?)");
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
            if (vm.pendingBackup != null && terminalBackup(vm.pendingBackup) == null) {
                diff.add(vm.name + ": backup " + vm.pendingBackup + " not finished");
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
                String persistent = genidOf(guest(vm).persistentXml());
                if (!g.equalsIgnoreCase(st.genid)) {
                    diff.add(vm.name + ": status.genid " + st.genid + ", want restore " + vm.pendingRestore + "'s "
                            + g);
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
            LibvirtGuest g = guest(vm);
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
            String dn = dn(vm);
            b.append("==== ").append(vm.name).append(" on ").append(hostOf(vm)).append(" exists=").append(vm.exists)
                    .append(" running=")
                    .append(vm.running).append(" extra=").append(vm.extraDisk).append(" strategy=")
                    .append(vm.strategy()).append("\n");
            try {
                b.append(fleet.client().getKubernetesSerialization().asYaml(fleet.get(vm.name))).append("\n");
                b.append(fleet.client().getKubernetesSerialization().asYaml(fleet.domain(vm.name))).append("\n");
            } catch (RuntimeException e) {
                b.append(e).append("\n");
            }
            LibvirtGuest g = fleet.guestOn(hostOf(vm), dn);
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

    /** The object of that name once its phase (read from its status) is Succeeded or Failed, else null. */
    private <T extends CustomResource<?, S>, S> T terminal(Class<T> type, String name, Function<S, String> phase) {
        T o = fleet.client().resources(type).inNamespace(fleet.namespace()).withName(name).get();
        return o != null && o.getStatus() != null && ("Succeeded".equals(phase.apply(o.getStatus()))
                || "Failed".equals(phase.apply(o.getStatus()))) ? o : null;
    }

    private VirtualMachineSnapshot terminalSnapshot(String name) {
        return terminal(VirtualMachineSnapshot.class, name, st -> st.phase);
    }

    /**
     * A migration, while its VM's status names {@code statusHost}: once Succeeded the VM must be on the target (the
     * one QEMU of its uuid named for that host: checked by the convergence and the invariants), once Failed where it
     * was. Returns what is still awaited, null once settled. A moved VM's snapshots stay with libvirt on the source:
     * the model restores none of them afterwards.
     */
    private String settleMigration(Vm vm, String statusHost) {
        VirtualMachineMigration m = fleet.client().resources(VirtualMachineMigration.class)
                .inNamespace(fleet.namespace()).withName(vm.pendingMigration).get();
        String phase = m == null || m.getStatus() == null ? null : m.getStatus().phase;
        if (!"Succeeded".equals(phase) && !"Failed".equals(phase)) {
            return "migration " + vm.pendingMigration + (m == null ? " not found" : " in phase " + phase);
        }
        if ("Succeeded".equals(phase)) {
            if (!vm.migrationTarget.equals(statusHost)) {
                return "migration " + vm.pendingMigration + " Succeeded, status still names host " + statusHost;
            }
            if (!vm.migrationTarget.equals(m.getStatus().targetHost)) {
                stepViolations.add(vm.name + ": migration " + vm.pendingMigration + " went to "
                        + m.getStatus().targetHost + ", the only other host is " + vm.migrationTarget);
            }
            vm.snaps.clear();
        } else {
            report.operationFailed("migrate", vm.pendingMigration + ": " + m.getStatus().error);
            if (!vm.migrationSource.equals(statusHost)) {
                report.note(vm.name + ": failed migration " + vm.pendingMigration + " left it on " + statusHost
                        + ", not its source " + vm.migrationSource);
            }
        }
        // Migrations are not owned by their VM either: removed once settled, so the namespace ends clean.
        fleet.client().resource(m).delete();
        vm.pendingMigration = null;
        return null;
    }

    /**
     * FAILOVER, the first half (in the step, before its fault): the VM's host is lost — its agent and its libvirtd
     * killed and left down, its QEMU processes running on (the dangerous case: a host cut off, not a dead one) — until
     * the operator sees its Lease expired; then the failover is requested, half of them naming the target (the only
     * other host), the others leaving it to the scheduler. The host comes back once the failover ended
     * ({@link #bringBack}); its agent must then fence its copy.
     */
    private void loseHostAndFailOver(Vm vm) {
        Node lost = node(hostOf(vm));
        String to = nodes.stream().map(Node::host).filter(h -> !h.equals(lost.host())).findFirst().orElseThrow();
        VirtualMachineFailover f = fleet.inNamespace(new VirtualMachineFailover(), vm.name + "-f" + (++nonce),
                new VirtualMachineFailoverSpec());
        f.getSpec().vmName = vm.name;
        f.getSpec().targetHost = rnd.nextBoolean() ? to : null;
        vm.staleName = dn(vm);
        vm.stalePid = qemuPid(vm);
        vm.failoverTarget = to;
        vm.failoverGenid = vm.genid;
        vm.pendingFailover = f.getMetadata().getName();
        vm.fencedOn = lost.host(); // from now on no new QEMU of its copy there (undone if the failover fails)
        lostNode = lost;
        lost.agent().kill9();
        long pid = lost.libvirt().daemonPid();
        if (pid > 0) {
            Processes.kill9(pid);
        }
        boolean expired = watchUntil(90, () -> {
            VirtualMachine v = fleet.get(vm.name);
            return v != null && v.getStatus() != null && "Unknown".equals(v.getStatus().printableStatus);
        });
        if (!expired) {
            report.note(vm.name + ": host " + lost.host() + " not seen lost within 90 s of its agent's kill; failover "
                    + vm.pendingFailover + " requested anyway");
        }
        fleet.client().resource(f).create();
    }

    /** FAILOVER: waits (checking the invariants) until the failover is Succeeded or Failed, at most 120 s. */
    private void awaitFailoverEnd(Vm vm) {
        if (vm == null || vm.pendingFailover == null) {
            return;
        }
        String name = vm.pendingFailover;
        if (!watchUntil(120, () -> terminalFailover(name) != null)) {
            report.note(vm.name + ": failover " + name + " not ended within 120 s; host " + lostNode.host()
                    + " brought back anyway");
        }
        VirtualMachineFailover f = terminalFailover(name);
        if (f != null && "Failed".equals(f.getStatus().phase)) {
            vm.fencedOn = null; // nothing moved: the VM stays (or starts again) where it was
        }
    }

    /** The lost host's libvirtd and agent started again (it finds its QEMUs still running). */
    private void bringBack(Node n) {
        lostNode = null;
        n.libvirt().restartDaemon();
        n.agent().start();
        n.agent().awaitReady(java.time.Duration.ofSeconds(120));
    }

    /**
     * Polls (every 250 ms, up to {@code seconds}) until {@code done}, checking the invariants meanwhile: the moments
     * of a failover between the host's loss and its return are the ones where a VM could run twice.
     */
    private boolean watchUntil(double seconds, java.util.function.BooleanSupplier done) {
        long deadline = System.nanoTime() + (long) (seconds * 1e9);
        while (System.nanoTime() < deadline) {
            try {
                checkInvariants(observe());
                if (done.getAsBoolean()) {
                    return true;
                }
            } catch (RuntimeException e) {
                // the API or a libvirtd away (a fault of the step): look again
            }
            VirtfleetProcess.sleep(250);
        }
        return false;
    }

    private VirtualMachineFailover terminalFailover(String name) {
        return terminal(VirtualMachineFailover.class, name, st -> st.phase);
    }

    /**
     * A failover, while its VM's status names {@code statusHost}: once Succeeded the VM must be on the target with a
     * new genid (the guest on the new host re-executes from a state the lost host's copy already ran past: the
     * genid rules), its copy on the lost host fenced (checked by the differences and the invariants); once Failed
     * where it was, with its genid. Returns what is still awaited, null once settled.
     */
    private String settleFailover(Vm vm, String statusHost) {
        VirtualMachineFailover f = terminalFailover(vm.pendingFailover);
        if (f == null) {
            return "failover " + vm.pendingFailover + " not ended";
        }
        var st = f.getStatus();
        if ("Succeeded".equals(st.phase)) {
            if (!java.util.Objects.equals(st.toHost, statusHost)) {
                return "failover " + vm.pendingFailover + " Succeeded, status still names host " + statusHost;
            }
            if (!vm.failoverTarget.equals(st.toHost)) {
                stepViolations.add(vm.name + ": failover " + vm.pendingFailover + " went to " + st.toHost
                        + ", the only other host is " + vm.failoverTarget);
            }
            if (st.genid == null || st.genid.equalsIgnoreCase(vm.failoverGenid)
                    || st.genid.equalsIgnoreCase(st.previousGenid)) {
                stepViolations.add(vm.name + ": failover " + vm.pendingFailover + " gave no new genid: "
                        + st.previousGenid + " -> " + st.genid);
            } else if (vm.failoverGenid != null && !vm.failoverGenid.equalsIgnoreCase(st.previousGenid)) {
                stepViolations.add(vm.name + ": failover " + vm.pendingFailover + " says the genid was "
                        + st.previousGenid + ", the VM had " + vm.failoverGenid);
            }
            if (st.genid != null) {
                // the old one until the VM's status catches up (cleared once converged, then it is a violation)
                if (vm.failoverGenid != null) {
                    vm.alsoAcceptedGenids.add(vm.failoverGenid.toLowerCase(Locale.ROOT));
                }
                vm.genid = st.genid.toLowerCase(Locale.ROOT);
            }
            if (!java.util.Objects.equals(st.fromHost, vm.fencedOn)) {
                stepViolations.add(vm.name + ": failover " + vm.pendingFailover + " says it came from " + st.fromHost
                        + ", it was on " + vm.fencedOn);
            }
            vm.snaps.clear(); // internal snapshots stayed with the lost host's libvirt, which undefines them
        } else {
            report.operationFailed("failover", vm.pendingFailover + ": " + st.error);
            vm.fencedOn = null;
            vm.stalePid = -1;
        }
        // Failovers are not owned by their VM: removed once settled, so the namespace ends clean.
        fleet.client().resource(f).delete();
        vm.pendingFailover = null;
        return null;
    }

    private VirtualMachineBackup terminalBackup(String name) {
        return terminal(VirtualMachineBackup.class, name, st -> st.phase);
    }

    /**
     * A backup that ended. Onto the full root it must have failed, saying the space ran out, with nothing left in
     * that root but the filler, and the VM as it was (its QEMU process the same one). Elsewhere a success is
     * remembered for RESTORE_BACKUP.
     */
    private void settleBackup(Vm vm) {
        VirtualMachineBackup b = terminalBackup(vm.pendingBackup);
        vm.pendingBackup = null;
        String phase = b.getStatus().phase;
        if (vm.pendingBackupOntoFullRoot) {
            if (!"Failed".equals(phase)) {
                stepViolations.add(vm.name + ": backup " + b.getMetadata().getName() + " onto the full root " + phase);
            } else if (b.getStatus().error == null
                    || !NO_SPACE.matcher(b.getStatus().error).find()) {
                stepViolations.add(vm.name + ": backup onto the full root failed without saying the space ran out: "
                        + b.getStatus().error);
            } else {
                report.operationFailed("backup", "onto the full root, " + b.getMetadata().getName() + ": "
                        + b.getStatus().error);
            }
            List<Path> files = leftOnSmallRoot();
            if (!files.isEmpty()) {
                stepViolations.add(vm.name + ": a failed backup onto the full root left " + files);
            }
            long pid = qemuPid(vm);
            if (vm.qemuPidBeforeBackup != pid && vm.running) {
                stepViolations.add(vm.name + ": a backup onto the full root changed its QEMU process "
                        + vm.qemuPidBeforeBackup + " -> " + pid);
            }
            return;
        }
        if ("Succeeded".equals(phase)) {
            backups.add(new Backup(b.getMetadata().getName(), vm.name, b.getStatus().genid,
                    backupDir.resolve(b.getMetadata().getName())));
        } else {
            report.operationFailed("backup", b.getMetadata().getName() + ": " + b.getStatus().error);
        }
    }

    /**
     * A snapshot of a VM whose disk is on the full root: it must have failed saying the space ran out, with nothing
     * half-made — no snapshot in libvirt's list, none inside the qcow2 ({@code qemu-img snapshot -l}), the image
     * consistent ({@code qemu-img check}) — and the VM as it was (stopped, same genid: the convergence and the
     * invariants).
     */
    private void settleSnapshotOntoFullRoot(Vm vm, VirtualMachineSnapshot s) {
        String name = s.getMetadata().getName();
        if (!"Failed".equals(s.getStatus().phase)) {
            stepViolations.add(vm.name + ": snapshot " + name + " onto the full root " + s.getStatus().phase);
        } else if (s.getStatus().error == null || !NO_SPACE.matcher(s.getStatus().error).find()) {
            stepViolations.add(vm.name + ": snapshot onto the full root failed without saying the space ran out: "
                    + s.getStatus().error);
        } else {
            report.operationFailed("snapshot", "onto the full root, " + name + ": " + s.getStatus().error);
        }
        Processes.Result list = Processes.run(30, "virsh", "-c", node(hostOf(vm)).libvirt().uri(), "snapshot-list",
                "--name", dn(vm));
        if (list.exitCode() != 0 || !list.output().isBlank()) {
            stepViolations.add(vm.name + ": after the snapshot onto the full root libvirt lists snapshots: "
                    + list.output().strip());
        }
        String disk = vm.files.get(0).toString();
        Processes.Result inImage = Processes.run(30, "qemu-img", "snapshot", "-U", "-l", disk);
        if (inImage.exitCode() != 0 || !inImage.output().isBlank()) {
            stepViolations.add(vm.name + ": after the snapshot onto the full root its disk has: "
                    + inImage.output().strip());
        }
        Processes.Result check = Processes.run(60, "qemu-img", "check", "-U", "-f", "qcow2", disk);
        // exit 0: clean; 3: leaked clusters only (allocated, unreferenced: space, no data at risk)
        if (check.exitCode() != 0 && check.exitCode() != 3) {
            stepViolations.add(vm.name + ": after the snapshot onto the full root qemu-img check " + disk
                    + " exits " + check.exitCode() + ": " + check.output().strip());
        } else if (check.exitCode() == 3) {
            report.note(vm.name + ": the failed snapshot onto the full root leaked clusters in " + disk + " ("
                    + check.output().strip().replace('\n', ' ') + ")");
        }
    }

    /** What is on the small root but the filler and the (empty) directories of the image cache. */
    private List<Path> leftOnSmallRoot() {
        Set<Path> expected = new HashSet<>(List.of(smallRoot, smallRoot.resolve(".filler"),
                smallRoot.resolve("image-cache"), smallRoot.resolve("image-cache/.partial")));
        live().stream().filter(v -> v.onSmallRoot).forEach(v -> expected.addAll(v.files)); // their disks
        try (Stream<Path> left = Files.walk(smallRoot)) {
            return left.filter(f -> !expected.contains(f)).toList();
        } catch (IOException e) {
            stepViolations.add("cannot list " + smallRoot + ": " + e.getMessage());
            return List.of();
        }
    }

    /**
     * DOWNLOAD: the VM whose image could not be downloaded into the full cache. It must get a Failure that says the
     * space ran out, and nothing of it may exist yet — no partial download or base in the cache, no overlay, no
     * libvirt domain; then it is deleted (checked like any delete). Returns what is still awaited.
     */
    private String settleDownload(Vm vm, VirtualMachine v, World w) {
        io.fabric8.kubernetes.api.model.Condition failure = v == null ? null : Fleet.conditionOf(v, "Failure");
        if (failure == null || !"True".equals(failure.getStatus())) {
            if (v != null && v.getStatus() != null && "Running".equals(v.getStatus().printableStatus)) {
                stepViolations.add(vm.name + ": Running although its image cannot have been downloaded into the "
                        + "full cache");
            } else {
                return "waiting for the Failure of the image download into the full cache";
            }
        } else if (!NO_SPACE.matcher(String.valueOf(failure.getMessage())).find()) {
            stepViolations.add(vm.name + ": the image download into the full cache failed without saying the space "
                    + "ran out: " + failure.getMessage());
        } else {
            report.operationFailed("download", "into the full cache, " + vm.name + ": " + failure.getMessage());
        }
        List<Path> left = leftOnSmallRoot();
        if (!left.isEmpty()) {
            stepViolations.add(vm.name + ": the failed image download left " + left);
        }
        Path overlay = vm.files.get(0);
        if (Files.exists(overlay)) {
            stepViolations.add(vm.name + ": the failed image download left its disk " + overlay);
        }
        String dn = dn(vm);
        if (w.libvirt().containsKey(dn)) {
            stepViolations.add(vm.name + ": defined in libvirt (" + w.libvirt().get(dn) + ") although its image "
                    + "could not be downloaded");
        }
        vm.downloadOntoFullRoot = false;
        vm.exists = false;
        fleet.delete(vm.name);
        return "deleting the VM whose image download failed";
    }

    /** What an error says when a filesystem is full: strerror(ENOSPC), qemu-img's and QEMU's words for it. */
    static final java.util.regex.Pattern NO_SPACE =
            java.util.regex.Pattern.compile("(?i)no space left|ENOSPC|disk full|not enough (free )?space");

    private VirtualMachineRestore terminalRestore(String name) {
        return terminal(VirtualMachineRestore.class, name, st -> st.phase);
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
        if (vm.restoredFrom != null) {
            return settleRestoreFromBackup(vm);
        }
        VirtualMachineClone c = cloneObject(vm);
        addCloneCopies(vm, c);
        var st = c == null ? null : c.getStatus();
        return settleMadeVm(vm, "clone", vm.clone, c != null, st == null ? null : st.phase,
                st == null ? null : st.error, "clone");
    }

    /**
     * A VM recreated from a backup, once its restore ended: Succeeded gives the model the VM the operator wrote, its
     * disks (copied back from the backup) belong to it; Failed leaves no VM. Returns what is still awaited.
     */
    private String settleRestoreFromBackup(Vm vm) {
        VirtualMachineRestore r = fleet.client().resources(VirtualMachineRestore.class).inNamespace(fleet.namespace())
                .withName(vm.restore).get();
        if (r != null && r.getStatus() != null && r.getStatus().disks != null) {
            r.getStatus().disks.values().stream().map(Path::of).filter(f -> !vm.files.contains(f))
                    .forEach(vm.files::add);
        }
        var st = r == null ? null : r.getStatus();
        return settleMadeVm(vm, "restore", vm.restore, r != null, st == null ? null : st.phase,
                st == null ? null : st.error, "restore from a backup");
    }

    /**
     * The VM an operation of the operator makes ({@code kind} {@code name}: a clone, a restore from a backup), by the
     * operation's phase: not ended yet, awaited; Failed, the operation ended in error and the model has no VM unless
     * one exists; Succeeded, the VM once it is there ({@link #adopt}). Returns what is still awaited, null once ended.
     */
    private String settleMadeVm(Vm vm, String kind, String name, boolean found, String phase, String error,
                                String operation) {
        if (!"Succeeded".equals(phase) && !"Failed".equals(phase)) {
            return kind + " " + name + (!found ? " not found" : " in phase " + phase);
        }
        VirtualMachine v = fleet.get(vm.name);
        if ("Failed".equals(phase)) {
            report.operationFailed(operation, name + ": " + error);
            if (v == null) {
                vm.clonePending = false;
                vm.exists = false;
                return null;
            }
            report.note(vm.name + ": " + kind + " " + name + " Failed but its VM exists; the model keeps the VM");
        } else if (v == null) {
            return kind + " " + name + " Succeeded, but VirtualMachine " + vm.name + " is not there yet";
        }
        adopt(vm, v);
        return null;
    }

    /** A VM the operator wrote (a clone's target, a VM restored from a backup) becomes one the driver applies. */
    private void adopt(Vm vm, VirtualMachine v) {
        vm.clonePending = false;
        // From now on the driver applies this VM like its own: the spec the operator wrote, and its annotation
        // (server-side apply; the lists are atomic, so a later unplug does remove the disk).
        VirtualMachine desired = new VirtualMachine();
        Map<String, String> annotations = new HashMap<>();
        for (String a : List.of(CLONED_FROM, RESTORED_FROM_BACKUP)) {
            if (v.getMetadata().getAnnotations() != null && v.getMetadata().getAnnotations().containsKey(a)) {
                annotations.put(a, v.getMetadata().getAnnotations().get(a));
            }
        }
        desired.setMetadata(new ObjectMetaBuilder().withName(vm.name).withNamespace(fleet.namespace())
                .withAnnotations(annotations).build());
        desired.setSpec(v.getSpec());
        vm.desired = desired;
        RunStrategy rs = vm.strategy();
        vm.running = rs == RunStrategy.Always || rs == RunStrategy.RerunOnFailure || rs == RunStrategy.Once;
        vm.extraDisk = v.getSpec().disks.stream().filter(d -> "extra".equals(d.name) && d.volume != null)
                .map(d -> d.volume.path).findFirst().orElse(null);
    }

    /** A clone's target, once converged: cloned-from its source, genid history starting with Cloned, own identity. */
    private void checkCloneIdentity(Vm vm) {
        VirtualMachine v = fleet.get(vm.name);
        if (v == null || v.getStatus() == null) {
            return;
        }
        vm.identityChecked = true;
        var st = v.getStatus();
        if (vm.restoredFrom != null) {
            checkRestoredIdentity(vm, v);
            return;
        }
        checkOrigin(vm, v, CLONED_FROM, vm.cloneSource.name, "Cloned");
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

    /** A VM recreated from a backup: annotated with it, genid history starting with BackupRestored, a new genid. */
    private void checkRestoredIdentity(Vm vm, VirtualMachine v) {
        var st = v.getStatus();
        checkOrigin(vm, v, RESTORED_FROM_BACKUP, vm.restoredFrom.name(), "BackupRestored");
        if (vm.restoredFrom.genid() != null && (st.genid == null
                || st.genid.equalsIgnoreCase(vm.restoredFrom.genid()))) {
            stepViolations.add(vm.name + ": restored from backup " + vm.restoredFrom.name() + " with its genid "
                    + st.genid + " (a restored VM must get a new one)");
        }
    }

    /** A VM made from another object: {@code annotation} names {@code want}, its genid history starts with that. */
    private void checkOrigin(Vm vm, VirtualMachine v, String annotation, String want, String firstReason) {
        var st = v.getStatus();
        String from = v.getMetadata().getAnnotations() == null ? null
                : v.getMetadata().getAnnotations().get(annotation);
        if (!want.equals(from)) {
            stepViolations.add(vm.name + ": annotation " + annotation + " is " + from + ", want " + want);
        }
        if (st.genidHistory == null || st.genidHistory.isEmpty()
                || !firstReason.equals(st.genidHistory.get(0).reason)) {
            stepViolations.add(vm.name + ": genidHistory does not start with " + firstReason + ": "
                    + (st.genidHistory == null ? null : st.genidHistory.stream().map(h -> h.reason).toList()));
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
                if ((vm.clone != null || vm.restoredFrom != null) && !vm.clonePending && !vm.identityChecked) {
                    checkCloneIdentity(vm);
                }
            }
            if (vm.pendingBackup != null) {
                settleBackup(vm);
            }
            if (vm.pendingSnapshot != null && vm.pendingSnapshotOntoFullRoot) {
                settleSnapshotOntoFullRoot(vm, terminalSnapshot(vm.pendingSnapshot));
                vm.pendingSnapshot = null;
                vm.pendingSnapshotOntoFullRoot = false;
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
        // On each host: what its libvirtd has with that host's prefix and no VM on that host accounts for (a domain a
        // migration left on its source is one too).
        for (Node node : nodes) {
            String prefix = fleet.domainPrefix(node.host());
            Set<String> expected = live().stream().filter(v -> node.host().equals(hostOf(v))).map(this::dn)
                    .collect(Collectors.toSet());
            Processes.Result list = Processes.run(30, "virsh", "-c", node.libvirt().uri(), "list", "--all", "--name");
            for (String n : list.output().split("\n")) {
                if (n.strip().startsWith(prefix) && !expected.contains(n.strip())) {
                    stepViolations.add("orphan libvirt domain " + n.strip() + " on " + node.host());
                }
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
        VirtualMachineClone clone = vm.clone == null ? null : cloneObject(vm);
        addCloneCopies(vm, clone);
        for (Processes.Qemu q : Processes.qemus()) {
            for (Path f : vm.files) {
                if (q.cmdline().contains(f.toString())) {
                    stepViolations.add(vm.name + " deleted, but QEMU pid " + q.pid() + " still uses " + f);
                }
            }
        }
        for (Node node : nodes) {
            String dn = fleet.domainName(node.host(), vm.name);
            Path qemuState = node.libvirt().qemuStateDir();
            for (Path dir : List.of(qemuState.resolve("save"), qemuState.resolve("nvram"))) {
                try (Stream<Path> files = Files.isDirectory(dir) ? Files.list(dir) : Stream.empty()) {
                    files.filter(f -> f.getFileName().toString().startsWith(dn)).forEach(f ->
                            stepViolations.add(vm.name + " deleted, but libvirt's " + f + " is left"));
                } catch (IOException e) {
                    // unreadable: nothing to say
                }
            }
            Path meta = qemuState.resolve("snapshot").resolve(dn);
            if (Files.isDirectory(meta)) {
                try (Stream<Path> st = Files.list(meta)) {
                    List<Path> left = st.toList();
                    if (!left.isEmpty()) {
                        stepViolations.add(vm.name + " deleted, but libvirt snapshot metadata is left: " + left);
                    }
                } catch (IOException e) {
                    // unreadable as non-root: nothing to say
                }
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
