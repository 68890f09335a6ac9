package io.virtfleet.e2e.genid;

import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.api.v1alpha1.VirtualMachineRestore;
import io.virtfleet.api.v1alpha1.VirtualMachineSnapshot;
import io.virtfleet.e2e.support.Fleet;
import io.virtfleet.e2e.support.StartFleet;
import io.virtfleet.e2e.support.LibvirtGuest;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * End to end: the genid the guest sees (QEMU's query-vm-generation-id) equals status.genid after every step;
 * it survives pause/resume, restart and an agent restart; a restore from a snapshot taken while running brings back
 * the memory and disk state (a file written afterwards is gone) with a new genid, recorded in genidHistory.
 */
class GenidLifecycleTest {
    @StartFleet
    static Fleet fleet;

    @Test
    void genidIsKeptByRestartPauseAndAgentRestartAndRenewedByASnapshotRestore() {
        long t0 = System.nanoTime();
        fleet.apply(fleet.testGuest("gen-1"));
        VirtualMachine vm = fleet.awaitReady("gen-1");
        LibvirtGuest guest = fleet.guest(vm);
        String g0 = vm.getStatus().genid;
        assertThat(g0).matches("[0-9a-f-]{36}");
        assertThat(guest.genidSeenByGuest()).isEqualTo(g0);
        vm = fleet.await("gen-1", "genidHistory Created", Duration.ofSeconds(30),
                v -> v.getStatus().genidHistory.size() == 1);
        assertThat(vm.getStatus().genidHistory.get(0).reason).isEqualTo("Created");
        assertThat(vm.getStatus().genidHistory.get(0).genid).isEqualTo(g0);
        log("running", t0);

        // pause/resume (the agent resumes a domain whose powerState is Running by itself, so resume may be a no-op)
        assertThat(guest.virsh("suspend", guest.name()).ok()).isTrue();
        assertThat(guest.genidSeenByGuest()).isEqualTo(g0);
        guest.virsh("resume", guest.name());
        vm = fleet.await("gen-1", "Running", Duration.ofSeconds(60),
                v -> "Running".equals(v.getStatus().printableStatus));
        assertThat(vm.getStatus().genid).isEqualTo(g0);
        assertThat(guest.genidSeenByGuest()).isEqualTo(g0);
        log("pause/resume", t0);

        // restart
        vm = restart(guest, "restart/1", "restarted");
        assertThat(vm.getStatus().genid).isEqualTo(g0);
        assertThat(guest.genidSeenByGuest()).isEqualTo(g0);
        log("restart", t0);

        // agent restart
        fleet.stopAgent(fleet.host("a"));
        fleet.startAgent(fleet.host("a"));
        vm = fleet.awaitReady("gen-1");
        assertThat(vm.getStatus().genid).isEqualTo(g0);
        assertThat(guest.genidSeenByGuest()).isEqualTo(g0);
        log("agent restart", t0);

        // snapshot while running, then a write the restore must undo
        guest.awaitConsole("VIRTFLEET-GUEST-READY", Duration.ofSeconds(60));
        VirtualMachineSnapshot snap = VirtualMachineSnapshot.of(fleet.namespace(), "gen-1-s1", "gen-1");
        fleet.client().resource(snap).create();
        snap = awaitSnapshot("gen-1-s1", s -> s.getStatus() != null && s.getStatus().phase != null
                && !"Pending".equals(s.getStatus().phase));
        assertThat(snap.getStatus().error).isNull();
        assertThat(snap.getStatus().readyToUse).isTrue();
        assertThat(snap.getStatus().vmState).isEqualTo("Running");
        assertThat(snap.getStatus().genid).isEqualTo(g0);
        assertThat(guest.virsh("snapshot-list", "--name", guest.name()).output()).contains("gen-1-s1");
        log("snapshot", t0);

        assertThat(guest.exec("echo x > /data/marker && sync && ls /data").output()).contains("marker");

        VirtualMachineRestore restore = fleet.snapshotRestore("gen-1-r1", "gen-1", "gen-1-s1");
        fleet.client().resource(restore).create();
        restore = Awaitility.await().atMost(Duration.ofSeconds(120)).until(() -> fleet.client()
                        .resources(VirtualMachineRestore.class).inNamespace(fleet.namespace()).withName("gen-1-r1").get(),
                r -> r.getStatus() != null && r.getStatus().phase != null && !"Pending".equals(r.getStatus().phase));
        assertThat(restore.getStatus().error).isNull();
        assertThat(restore.getStatus().phase).isEqualTo("Succeeded");
        String g1 = restore.getStatus().genid;
        assertThat(g1).isNotEqualTo(g0).matches("[0-9a-f-]{36}");
        vm = fleet.await("gen-1", "new genid in status", Duration.ofSeconds(60),
                v -> g1.equals(v.getStatus().genid) && "Running".equals(v.getStatus().printableStatus));
        assertThat(guest.state()).isEqualTo("running");
        assertThat(guest.genidSeenByGuest()).isEqualTo(g1);
        assertThat(guest.exec("ls /data").output()).doesNotContain("marker");
        assertThat(vm.getStatus().genidHistory).extracting(c -> c.reason)
                .containsExactly("Created", "SnapshotRestored");
        assertThat(vm.getStatus().genidHistory.get(1).genid).isEqualTo(g1);
        assertThat(vm.getStatus().genidSource).isEqualTo("SnapshotRestored");
        assertThat(vm.getStatus().genidMessage).isNull(); // spec.genid auto: nothing to explain
        log("restore", t0);

        // the new genid sticks across a restart (the persistent config has it too)
        vm = restart(guest, "restart/2", "restarted after restore");
        assertThat(vm.getStatus().genid).isEqualTo(g1);
        assertThat(guest.genidSeenByGuest()).isEqualTo(g1);
        log("restart after restore", t0);

        // deleting the snapshot object deletes the libvirt snapshot
        fleet.client().resource(snap).delete();
        Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> fleet.client()
                .resources(VirtualMachineSnapshot.class).inNamespace(fleet.namespace()).withName("gen-1-s1")
                .get() == null);
        assertThat(guest.virsh("snapshot-list", "--name", guest.name()).output()).doesNotContain("gen-1-s1");
        log("snapshot deleted", t0);

        fleet.delete("gen-1");
        fleet.awaitDeleted("gen-1");
    }

    @Test
    void aSnapshotOfAMissingVmFailsWithAClearError() {
        VirtualMachineSnapshot snap = VirtualMachineSnapshot.of(fleet.namespace(), "nope-s1", "nope");
        fleet.client().resource(snap).create();
        snap = awaitSnapshot("nope-s1", s -> s.getStatus() != null && "Failed".equals(s.getStatus().phase));
        assertThat(snap.getStatus().error).contains("nope").contains("not found");
        assertThat(snap.getStatus().readyToUse).isFalse();
    }

    private static VirtualMachineSnapshot awaitSnapshot(String name, Predicate<VirtualMachineSnapshot> p) {
        return Awaitility.await().atMost(Duration.ofSeconds(120)).until(() -> fleet.client()
                .resources(VirtualMachineSnapshot.class).inNamespace(fleet.namespace()).withName(name).get(),
                s -> s != null && p.test(s));
    }

    /**
     * Restarts gen-1 by the request annotation ({@code request}, a new value each time) and waits until it is Ready
     * with another QEMU process than before.
     */
    private static VirtualMachine restart(LibvirtGuest guest, String request, String what) {
        long pid = guest.qemuPid();
        annotate("gen-1", "virtfleet.io/request", request);
        return fleet.await("gen-1", what, Duration.ofSeconds(180),
                v -> Fleet.condition(v, "Ready") && pidChanged(guest, pid));
    }

    private static void annotate(String vm, String key, String value) {
        fleet.client().resources(VirtualMachine.class).inNamespace(fleet.namespace()).withName(vm).edit(v -> {
            Map<String, String> a = v.getMetadata().getAnnotations() == null ? new HashMap<>()
                    : new HashMap<>(v.getMetadata().getAnnotations());
            a.put(key, value);
            v.getMetadata().setAnnotations(a);
            return v;
        });
    }

    private static boolean pidChanged(LibvirtGuest guest, long pid) {
        try {
            return guest.qemuPid() != pid;
        } catch (RuntimeException e) {
            return false;
        }
    }

    private static void log(String step, long t0) {
        System.out.printf("GENID-E2E %s at %.1f s%n", step, (System.nanoTime() - t0) / 1e9);
    }
}
