package io.virtfleet.e2e.reliability;

import io.virtfleet.api.v1alpha1.RunStrategy;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.controlplane.EmbeddedControlPlane;
import io.virtfleet.e2e.support.Fleet;
import io.virtfleet.e2e.support.LibvirtGuest;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The operator and an agent survive a restart of kube-apiserver and etcd. The control plane is the test's
 * own, with a persistent data dir: closed (both processes stopped) and started again on the same dir (same ports,
 * certificates and etcd data) while the operator and the agent keep running; a VM change applied after the restart
 * must be acted on, which needs their watches re-established.
 */
class ControlPlaneRestartTest {

    @Test
    void aChangeAppliedAfterAnApiserverAndEtcdRestartIsActedOn() throws Exception {
        Path dir = Files.createTempDirectory("vf-cp-restart-");
        EmbeddedControlPlane cp = EmbeddedControlPlane.builder().dataDir(dir).keepDataDir(true).start();
        EmbeddedControlPlane restarted = null;
        Fleet fleet = null;
        try {
            fleet = Fleet.startOn(cp, "a");
            VirtualMachine vm = fleet.testGuest("survivor");
            fleet.apply(vm);
            LibvirtGuest guest = fleet.guest(fleet.awaitReady("survivor"));
            long pid = guest.qemuPid();

            long apiserverPid = cp.apiserverProcess().pid();
            cp.close();
            assertThat(cp.apiserverProcess().isAlive()).as("apiserver stopped").isFalse();
            assertThat(guest.qemuPid()).as("the VM runs on without a control plane").isEqualTo(pid);
            restarted = EmbeddedControlPlane.builder().dataDir(dir).keepDataDir(true).start();
            assertThat(restarted.apiserverProcess().pid()).isNotEqualTo(apiserverPid);
            assertThat(restarted.serverUrl()).as("same address: clients reconnect").isEqualTo(cp.serverUrl());

            // State survived in etcd, and the VM was not disturbed.
            assertThat(fleet.get("survivor")).isNotNull();
            assertThat(guest.qemuPid()).isEqualTo(pid);

            vm.getSpec().runStrategy = RunStrategy.Halted;
            fleet.apply(vm);
            VirtualMachine stopped = fleet.await("survivor", "Stopped after the restart", Duration.ofSeconds(120),
                    v -> "Stopped".equals(v.getStatus() == null ? null : v.getStatus().printableStatus));
            assertThat(stopped.getStatus().domainId).isEqualTo(-1);
            assertThat(guest.state()).isEqualTo("shut off");
        } finally {
            if (fleet != null) {
                fleet.close();
            }
            if (restarted != null) {
                restarted.close();
            }
            cp.close();
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
