package io.virtfleet.e2e.lifecycle;

import io.fabric8.kubernetes.api.model.Quantity;
import io.virtfleet.api.v1alpha1.RunStrategy;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.api.v1alpha1.VirtualMachineSpec;
import io.virtfleet.controlplane.KubectlResult;
import io.virtfleet.e2e.support.Fleet;
import io.virtfleet.e2e.support.StartFleet;
import io.virtfleet.e2e.support.LibvirtGuest;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The VM lifecycle end to end: the real operator, a real node agent, the real apiserver and libvirtd, the test
 * guest. What is asserted is what libvirt and the guest show, not only what status says.
 */
class VmLifecycleTest {
    @StartFleet
    static Fleet fleet;

    @Test
    void applyRunsTheVmWithAnIdAndGenidAndKubectlWaitWorks() {
        VirtualMachine applied = fleet.apply(fleet.testGuest("life-1"));

        VirtualMachine vm = fleet.awaitReady("life-1");
        assertThat(vm.getStatus().printableStatus).isEqualTo("Running");
        assertThat(vm.getStatus().domainId).isPositive();
        assertThat(vm.getStatus().genid).matches("[0-9a-f-]{36}");
        LibvirtGuest guest = fleet.guest(vm);
        assertThat(guest.state()).isEqualTo("running");
        assertThat(guest.genidSeenByGuest()).isEqualTo(vm.getStatus().genid);

        KubectlResult wait = fleet.controlPlane().kubectl(Duration.ofSeconds(60), "wait", "-n", fleet.namespace(),
                "--for=condition=Ready", "vfvm/life-1", "--timeout=30s");
        assertThat(wait.exitCode()).as(wait.output()).isZero();

        // Halted: stopped, id -1, libvirt shut off; the spec stays exactly what was applied.
        VirtualMachine halted = fleet.testGuest("life-1");
        halted.getSpec().disks = applied.getSpec().disks;
        halted.getSpec().runStrategy = RunStrategy.Halted;
        fleet.apply(halted);
        vm = fleet.await("life-1", "Stopped", Duration.ofSeconds(120),
                v -> "Stopped".equals(v.getStatus().printableStatus));
        assertThat(vm.getStatus().domainId).isEqualTo(-1);
        assertThat(guest.state()).isEqualTo("shut off");
        assertThat(vm.getSpec()).usingRecursiveComparison().isEqualTo(halted.getSpec());

        fleet.delete("life-1");
        fleet.awaitDeleted("life-1");
        assertThat(guest.isDefined()).as("libvirt domain undefined after delete").isFalse();
    }

    @Test
    void guestPowerOffUnderAlwaysIsRestartedUnderManualAndRerunOnFailureIsNot() {
        for (RunStrategy strategy : new RunStrategy[] {RunStrategy.Always, RunStrategy.Manual,
                RunStrategy.RerunOnFailure}) {
            String name = "poweroff-" + strategy.name().toLowerCase();
            VirtualMachine vm = fleet.testGuest(name);
            vm.getSpec().runStrategy = strategy;
            if (strategy == RunStrategy.Manual) {
                // Manual starts nothing by itself: the user asks, as with virtctl start.
                vm.getMetadata().setAnnotations(java.util.Map.of("virtfleet.io/request", "start/1"));
            }
            fleet.apply(vm);
            VirtualMachine ready = fleet.awaitReady(name);
            LibvirtGuest guest = fleet.guest(ready);
            long pid = guest.qemuPid();

            // In the background, so the command channel answers before the guest is gone.
            assertThat(guest.exec("(sleep 1; poweroff -f) >/dev/null 2>&1 &").exitCode()).isZero();

            if (strategy == RunStrategy.Always) {
                VirtualMachine again = fleet.await(name, "restarted", Duration.ofSeconds(120),
                        v -> Fleet.condition(v, "Ready") && v.getStatus().domainId != null
                                && v.getStatus().domainId > 0 && pidChanged(guest, pid));
                assertThat(again.getStatus().printableStatus).isEqualTo("Running");
            } else {
                fleet.await(name, "Stopped", Duration.ofSeconds(60),
                        v -> "Stopped".equals(v.getStatus().printableStatus));
                // It stays stopped: give the operator several reconcile rounds to (wrongly) restart it.
                org.awaitility.Awaitility.await().during(Duration.ofSeconds(8)).atMost(Duration.ofSeconds(12))
                        .until(() -> guest.state().equals("shut off"));
            }
            fleet.delete(name);
            fleet.awaitDeleted(name);
        }
    }

    @Test
    void rerunOnFailureRestartsAfterQemuIsKilled() throws Exception {
        VirtualMachine vm = fleet.testGuest("crash-1");
        vm.getSpec().runStrategy = RunStrategy.RerunOnFailure;
        fleet.apply(vm);
        LibvirtGuest guest = fleet.guest(fleet.awaitReady("crash-1"));
        long pid = guest.qemuPid();

        new ProcessBuilder("kill", "-9", Long.toString(pid)).start().waitFor();

        fleet.await("crash-1", "restarted after the crash", Duration.ofSeconds(120),
                v -> Fleet.condition(v, "Ready") && pidChanged(guest, pid));
        fleet.delete("crash-1");
    }

    @Test
    void memoryChangeOnARunningVmNeedsARestartAndTheSpecNeverDrifts() {
        VirtualMachine vm = fleet.testGuest("mem-1");
        fleet.apply(vm);
        fleet.awaitReady("mem-1");

        vm.getSpec().memory = new Quantity("384Mi");
        fleet.apply(vm);
        VirtualMachine changed = fleet.await("mem-1", "RestartRequired", Duration.ofSeconds(60),
                v -> Fleet.condition(v, "RestartRequired"));
        assertThat(changed.getSpec()).usingRecursiveComparison().isEqualTo(vm.getSpec());
        assertThat(fleet.guest(changed).liveXml()).contains("<memory unit='KiB'>262144</memory>");

        fleet.client().resources(VirtualMachine.class).inNamespace(fleet.namespace()).withName("mem-1")
                .edit(v -> {
                    if (v.getMetadata().getAnnotations() == null) {
                        v.getMetadata().setAnnotations(new java.util.HashMap<>());
                    }
                    v.getMetadata().getAnnotations().put("virtfleet.io/request", "restart/1");
                    return v;
                });
        VirtualMachine restarted = fleet.await("mem-1", "restarted with the new memory", Duration.ofSeconds(120),
                v -> Fleet.condition(v, "Ready") && !Fleet.condition(v, "RestartRequired"));
        assertThat(fleet.guest(restarted).liveXml()).contains("<memory unit='KiB'>393216</memory>");
        assertThat(restarted.getSpec()).usingRecursiveComparison().isEqualTo(vm.getSpec());
        fleet.delete("mem-1");
    }

    /**
     * Pause and unpause are requests like restart: libvirt's state really is paused (vCPUs stopped, the same QEMU
     * process) with printableStatus Paused and a Paused condition, and unpause brings back the same process running;
     * neither changes the genid (a pause/resume is not a new generation).
     */
    @Test
    void pauseAndUnpauseRequestsPauseTheSameQemuAndResumeIt() {
        fleet.apply(fleet.testGuest("pause-1"));
        VirtualMachine ready = fleet.awaitReady("pause-1");
        LibvirtGuest guest = fleet.guest(ready);
        long pid = guest.qemuPid();
        String genid = ready.getStatus().genid;

        request("pause-1", "pause/1");
        VirtualMachine paused = fleet.await("pause-1", "Paused", Duration.ofSeconds(60),
                v -> "Paused".equals(v.getStatus().printableStatus) && Fleet.condition(v, "Paused"));
        assertThat(guest.state()).isEqualTo("paused");
        assertThat(Fleet.conditionOf(paused, "Paused").getReason()).isEqualTo("PausedByUser");
        assertThat(Fleet.condition(paused, "Ready")).isFalse();
        assertThat(guest.qemuPid()).isEqualTo(pid);
        assertThat(guest.genidSeenByGuest()).isEqualTo(genid);

        request("pause-1", "unpause/2");
        VirtualMachine running = fleet.await("pause-1", "Running again", Duration.ofSeconds(60),
                v -> "Running".equals(v.getStatus().printableStatus) && Fleet.condition(v, "Ready"));
        assertThat(guest.state()).isEqualTo("running");
        assertThat(Fleet.condition(running, "Paused")).isFalse();
        assertThat(guest.qemuPid()).isEqualTo(pid);
        assertThat(running.getStatus().genid).isEqualTo(genid);
        assertThat(guest.exec("echo alive").output()).contains("alive");
        fleet.delete("pause-1");
        fleet.awaitDeleted("pause-1");
    }

    private static void request(String name, String value) {
        fleet.client().resources(VirtualMachine.class).inNamespace(fleet.namespace()).withName(name)
                .edit(v -> {
                    if (v.getMetadata().getAnnotations() == null) {
                        v.getMetadata().setAnnotations(new java.util.HashMap<>());
                    }
                    v.getMetadata().getAnnotations().put("virtfleet.io/request", value);
                    return v;
                });
    }

    @Test
    void invalidVmGetsAFailureConditionNamingTheFieldAndNoDomain() {
        VirtualMachine vm = fleet.testGuest("bad-mac");
        VirtualMachineSpec.NetworkInterface nic = new VirtualMachineSpec.NetworkInterface();
        nic.name = "lan";
        nic.bridge = "virbr-none";
        nic.macAddress = "01:00:5e:00:00:01";
        vm.getSpec().interfaces.add(nic);
        fleet.apply(vm);

        VirtualMachine failed = fleet.await("bad-mac", "Failure", Duration.ofSeconds(30),
                v -> Fleet.condition(v, "Failure"));
        assertThat(Fleet.conditionOf(failed, "Failure").getMessage()).contains("spec.interfaces[0].macAddress");
        assertThat(fleet.domain("bad-mac")).isNull();
        fleet.delete("bad-mac");
    }

    private static boolean pidChanged(LibvirtGuest guest, long before) {
        try {
            return guest.qemuPid() != before;
        } catch (IllegalStateException e) {
            return false;
        }
    }
}
