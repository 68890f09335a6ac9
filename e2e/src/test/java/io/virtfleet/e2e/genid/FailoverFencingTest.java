package io.virtfleet.e2e.genid;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.virtfleet.api.v1alpha1.ApiGroup;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.Host;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.api.v1alpha1.VirtualMachineFailover;
import io.virtfleet.api.v1alpha1.VirtualMachineFailoverSpec;
import io.virtfleet.e2e.support.AgentProcess;
import io.virtfleet.e2e.support.PeriodicSampler;
import io.virtfleet.e2e.support.Fleet;
import io.virtfleet.e2e.support.LibvirtGuest;
import io.virtfleet.e2e.support.StartFleet;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static io.virtfleet.e2e.support.QemuProcesses.cmdline;
import static io.virtfleet.e2e.support.QemuProcesses.pids;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * End to end: DR failover of a VM whose host lost its heartbeat, in the dangerous case — a network
 * partition: host A's agent is gone (its Lease expires) but A's QEMU keeps running the guest.
 *
 * <p><b>Two libvirts on one machine.</b> Host A's agent uses the machine's libvirtd (qemu:///system). Host B's agent
 * gets a libvirt of its own, the embedded QEMU driver {@code qemu:///embed?root=/run/vfe-<fleet>-b} (libvirt ≥ 6.1;
 * verified here with libvirt 9.0): a failed-over domain keeps its UUID, and one libvirt cannot hold two domains with
 * one UUID. (Root's qemu:///session is no option: for root it is served by the system daemon.) What it takes:
 * the agent sets no keepalive/close callback on it (unsupported); the root path is short (QEMU's socket paths under
 * it must fit in 108 bytes); the machine's qemu.conf is copied to {@code <root>/etc/qemu.conf} (else every lookup
 * re-probes QEMU, ~60 s per define); and the embedded driver takes over the process that loads it (no connection to
 * libvirtd can be opened there afterwards), so B's agent runs in a JVM of its own ({@link AgentProcess}) while A's,
 * which the test restarts, runs in the test's. B's domains are only visible through that agent, so what B runs is
 * checked from outside libvirt: QEMU processes in /proc, the pid file under the embed root, and the guest itself over
 * its command channel ({@code vf-genid} reads the vmgenid GUID from guest memory).
 *
 * <p><b>Shared storage.</b> Both hosts see the VM's disk at the same path (the documented failover assumption). QEMU
 * locks its images: while A's stale copy runs, B's QEMU cannot open the disk for writing and B's start fails (the
 * agent retries); the VM starts on B once A's agent is back and has fenced its copy. So guest code never runs in two
 * places at once, which a sampler thread checks every 100 ms from the failover request on: A's QEMU alive and B's
 * guest booted (kernel output on B's console) must never coincide. (B's failed starts do launch a QEMU with the
 * VM's UUID for a moment, which exits on the lock before any guest code runs.)
 */
class FailoverFencingTest {
    private static final Logger LOG = LoggerFactory.getLogger(FailoverFencingTest.class);
    @StartFleet
    static Fleet fleet;
    static Path embedRoot;
    static AgentProcess agentB;

    @BeforeAll
    static void start() throws IOException {
        // After the fleet deleted its VMs through virtfleet, which needs B's agent still running.
        fleet.afterClose(FailoverFencingTest::stopHostB);
        String b = fleet.host("b");
        // Short: QEMU's UNIX socket paths under the root must fit in 108 bytes.
        embedRoot = Path.of("/run/vfe-" + b.substring(4));
        Files.createDirectories(embedRoot.resolve("etc"));
        // The embedded driver reads <root>/etc/qemu.conf, not /etc/libvirt's: without the machine's settings (QEMU
        // runs as root, no security driver) it probes KVM as root but checks /dev/kvm as libvirt-qemu, finds its
        // capability cache stale on every lookup and re-runs QEMU's probe each time (~60 s per define here).
        Files.copy(Path.of("/etc/libvirt/qemu.conf"), embedRoot.resolve("etc/qemu.conf"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        agentB = AgentProcess.start(fleet, b, "qemu:///embed?root=" + embedRoot,
                Path.of("target", "failover-agent-b.log"));
        Awaitility.await().alias("host B registered and ready").atMost(Duration.ofSeconds(90))
                .pollInterval(Duration.ofMillis(500)).until(() -> {
                    Host h = fleet.client().resources(Host.class).withName(b).get();
                    return h != null && h.getStatus() != null && h.getStatus().cpus != null;
                });
    }

    static void stopHostB() throws IOException {
        if (agentB != null) {
            agentB.close();
            String b = fleet.host("b");
            fleet.client().resources(Host.class).withName(b).delete();
            fleet.client().leases().inNamespace(ApiGroup.SYSTEM_NAMESPACE).withName(ApiGroup.leaseName(b)).delete();
        }
        if (embedRoot != null) {
            // QEMU processes of B that virtfleet did not clean up (a failed run): never leave them running.
            for (long pid : pids(s -> s.contains(embedRoot.toString()) || s.contains("guest=e2e"))) {
                String cmd = cmdline(pid);
                if (cmd != null && cmd.contains(fleet.domainPrefix(fleet.host("b")))) {
                    ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
                }
            }
            try (Stream<Path> files = Files.walk(embedRoot)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @Test
    void aPartitionedVmFailsOverToBWithANewGenidAndAsStaleCopyIsFencedNeverStarted() throws Exception {
        String a = fleet.host("a");
        String b = fleet.host("b");
        VirtualMachine spec = fleet.testGuest("dr");
        spec.getSpec().nodeName = a;
        fleet.apply(spec);
        VirtualMachine vm = fleet.awaitReady("dr");
        assertThat(vm.getStatus().host).isEqualTo(a);
        String uuid = vm.getStatus().uuid;
        LibvirtGuest onA = fleet.guest(vm);
        assertThat(agentB.isAlive()).isTrue();
        String g0 = vm.getStatus().genid;
        assertThat(onA.genidSeenByGuest()).isEqualTo(g0);
        long pidA = onA.qemuPid();
        onA.awaitConsole("VIRTFLEET-GUEST-READY", Duration.ofSeconds(90));
        assertThat(onA.exec("vf-genid").output().trim()).isEqualTo(g0);

        // host A is ready: refused, naming the field, and nothing changes
        String rv = fleet.domain("dr").getMetadata().getResourceVersion();
        VirtualMachineFailover early = awaitDone(request("dr-early", "dr", b));
        assertThat(early.getStatus().phase).isEqualTo("Failed");
        assertThat(early.getStatus().error).startsWith("spec.vmName: host " + a + " of VirtualMachine "
                + fleet.namespace() + "/dr is ready").contains("failover refused");
        assertThat(fleet.domain("dr").getMetadata().getResourceVersion()).isEqualTo(rv);
        assertThat(ProcessHandle.of(pidA).map(ProcessHandle::isAlive)).hasValue(true);

        // the partition: A's agent is gone, A's QEMU runs on
        fleet.stopAgent(a);
        fleet.await("dr", "Unknown (host lost)", Duration.ofSeconds(60),
                v -> "Unknown".equals(v.getStatus().printableStatus));
        assertThat(ProcessHandle.of(pidA).map(ProcessHandle::isAlive)).hasValue(true);

        Sampler sampler = new Sampler(uuid, fleet.domainName(a, "dr"), pidA,
                fleet.guest(fleet.domainName(b, "dr")).consoleLog());
        sampler.start();
        try {
            VirtualMachineFailover done = awaitDone(request("dr-to-b", "dr", null));
            assertThat(done.getStatus().error).isNull();
            assertThat(done.getStatus().phase).isEqualTo("Succeeded");
            assertThat(done.getStatus().fromHost).isEqualTo(a);
            assertThat(done.getStatus().toHost).isEqualTo(b);
            assertThat(done.getStatus().previousGenid).isEqualTo(g0);
            String g1 = done.getStatus().genid;
            assertThat(g1).matches("[0-9a-f-]{36}").isNotEqualTo(g0);
            Domain d = fleet.domain("dr");
            assertThat(d.getSpec().host).isEqualTo(b);
            assertThat(d.getSpec().genid).isEqualTo(g1);

            // A's copy still holds the disk: B cannot start a second copy (QEMU's image lock), and retries
            Awaitility.await().alias("B reports that it cannot start while A's copy holds the disk")
                    .atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500))
                    .until(() -> {
                        Domain x = fleet.domain("dr");
                        return x.getStatus() != null && x.getStatus().lastError != null
                                && x.getStatus().lastError.contains("lock");
                    });
            LOG.info("B while A's copy runs: {}", fleet.domain("dr").getStatus().lastError);
            assertThat(ProcessHandle.of(pidA).map(ProcessHandle::isAlive)).hasValue(true);
            assertThat(fleet.get("dr").getStatus().printableStatus).isNotEqualTo("Running");

            // A's agent comes back: it sees the Domain assigned to B and fences its copy (destroy + undefine)
            fleet.startAgent(a);
            Awaitility.await().alias("A's stale domain destroyed and undefined").atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(250))
                    .until(() -> !onA.isDefined() && ProcessHandle.of(pidA).map(p -> !p.isAlive()).orElse(true));
            assertThat(onA.virsh("list", "--all", "--name").output()).doesNotContain(onA.name());

            // ... and B starts the VM with the new genid, which the guest sees
            vm = fleet.await("dr", "Running on B with the new genid", Duration.ofSeconds(120),
                    v -> "Running".equals(v.getStatus().printableStatus) && b.equals(v.getStatus().host)
                            && g1.equals(v.getStatus().genid));
            LibvirtGuest onB = fleet.guest(fleet.domainName(b, "dr"));
            long pidB = Long.parseLong(Files.readString(embedRoot.resolve("run/qemu/" + onB.name() + ".pid")).trim());
            assertThat(cmdline(pidB)).contains("-uuid " + uuid).contains(g1);
            onB.awaitConsole("VIRTFLEET-GUEST-READY", Duration.ofSeconds(90));
            assertThat(onB.exec("vf-genid").output().trim()).isEqualTo(g1);
            assertThat(vm.getStatus().genidHistory).extracting(c -> c.reason).containsExactly("Created", "Failover");
            assertThat(vm.getStatus().genidSource).isEqualTo("Failover");
            assertThat(fleet.eventReasons("dr")).contains("FailedOver", "Fenced");
            // the guest's disk state came along (shared storage): the data disk is the same file
            assertThat(onB.exec("ls /data").ok()).isTrue();

            // A stays fenced: its agent never defines or starts the domain again
            Thread.sleep(3000);
            assertThat(onA.isDefined()).isFalse();
        } finally {
            sampler.stop();
        }
        // B's QEMU is started (and fails on the lock) while A's copy runs, but no guest code ran on B before A's copy
        // was gone: a booting kernel writes to B's console log.
        assertThat(sampler.bothRan.get()).as("samples where A's copy ran and B's guest had booted").isZero();
        assertThat(sampler.bootedOnB.get()).as("B's guest booted while sampling").isTrue();
        LOG.info("QEMU processes with the VM's UUID: at most {} at once (B's failed starts included)",
                sampler.maxCopies.get());
        assertThat(sampler.startedOnA).as("QEMU processes started for A's domain after the partition").isEmpty();
        assertThat(sampler.samples.get()).isGreaterThan(50);
    }

    private VirtualMachineFailover request(String name, String vm, String target) {
        VirtualMachineFailover f = new VirtualMachineFailover();
        f.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(fleet.namespace()).build());
        f.setSpec(new VirtualMachineFailoverSpec());
        f.getSpec().vmName = vm;
        f.getSpec().targetHost = target;
        return fleet.client().resource(f).create();
    }

    private VirtualMachineFailover awaitDone(VirtualMachineFailover f) {
        return Awaitility.await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                .until(() -> fleet.client().resources(VirtualMachineFailover.class).inNamespace(fleet.namespace())
                        .withName(f.getMetadata().getName()).get(), x -> x.getStatus() != null
                        && x.getStatus().phase != null);
    }

    /** Counts the VM's QEMU processes (any libvirt: both run on this machine) and notes new ones for A's domain. */
    static final class Sampler extends PeriodicSampler {
        final AtomicInteger maxCopies = new AtomicInteger();
        final AtomicInteger samples = new AtomicInteger();
        final Set<Long> startedOnA = ConcurrentHashMap.newKeySet();
        final AtomicInteger bothRan = new AtomicInteger();
        final AtomicBoolean bootedOnB = new AtomicBoolean();
        private final String uuid;
        private final String nameOnA;
        private final long pidA;
        private final Path consoleOfB;

        Sampler(String uuid, String nameOnA, long pidA, Path consoleOfB) {
            super("failover-sampler");
            this.uuid = uuid;
            this.nameOnA = nameOnA;
            this.pidA = pidA;
            this.consoleOfB = consoleOfB;
        }

        @Override
        protected void sample() {
            List<Long> pids = pids(s -> s.contains("-uuid " + uuid));
            maxCopies.accumulateAndGet(pids.size(), Math::max);
            for (long p : pids) {
                String cmd = cmdline(p);
                if (p != pidA && cmd != null && cmd.contains("guest=" + nameOnA + ",")) {
                    startedOnA.add(p);
                }
            }
            boolean aRuns = ProcessHandle.of(pidA).map(ProcessHandle::isAlive).orElse(false);
            boolean bBooted = booted(consoleOfB);
            bootedOnB.compareAndSet(false, bBooted);
            if (aRuns && bBooted) {
                bothRan.incrementAndGet();
                LOG.error("two copies of {} run: A's QEMU {} and a booted guest on B ({})", uuid, pidA, pids);
            }
            samples.incrementAndGet();
        }
    }

    static boolean booted(Path consoleLog) {
        try {
            return Files.exists(consoleLog)
                    && Files.readString(consoleLog, StandardCharsets.ISO_8859_1).contains("Linux version");
        } catch (IOException e) {
            return false;
        }
    }
}
