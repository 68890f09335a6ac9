package io.virtfleet.agent.snapshot;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.virtfleet.agent.TestEnv;
import io.virtfleet.agent.TestHost;
import io.virtfleet.agent.domain.PathPolicy;
import io.virtfleet.api.v1alpha1.ApiGroup;
import io.virtfleet.api.v1alpha1.VirtualMachineRestore;
import io.virtfleet.api.v1alpha1.VirtualMachineRestoreSpec;
import io.virtfleet.api.v1alpha1.VirtualMachineSnapshot;
import io.virtfleet.api.v1alpha1.VirtualMachineSnapshotSpec;
import io.virtfleet.api.v1alpha1.VirtualMachineSnapshotStatus;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The agent's snapshot/restore worker against the real apiserver while libvirtd cannot be reached (a socket that does
 * not exist stands for libvirtd being down or restarting). Found by the fault-injection driver: such a request used to
 * end {@code Failed} for good although nothing had been done; it must stay pending and be retried.
 */
class SnapshotControllerTest {
    @RegisterExtension
    static final TestEnv.LibvirtFixture LIBVIRT =
            TestEnv.LibvirtFixture.started("qemu+unix:///system?socket=/nonexistent/virtfleet-test/libvirt-sock");
    private static SnapshotController controller;
    @RegisterExtension
    static final TestHost ENV = TestHost.withoutAgent("snapdown");
    private static TestEnv.Guest guest;

    @BeforeAll
    static void start() {
        guest = TestEnv.guest(ENV.host(), ENV.ns());
        ENV.client().resource(TestEnv.domainObject(ENV.ns(), "vm-1", ENV.host(), guest, "Running")).create();
        controller = new SnapshotController(ENV.client(), LIBVIRT.connection(), ENV.host(),
                new PathPolicy(List.of("/var/lib/virtfleet")));
        controller.start();
    }

    @AfterAll
    static void stop() throws Exception {
        if (controller != null) {
            controller.close();
        }
        if (guest != null) {
            Files.deleteIfExists(guest.disk());
        }
    }

    /** A snapshot of vm-1, labelled for this test's host when {@code labelled} (so this agent handles it). */
    private static VirtualMachineSnapshot snapshot(String name, boolean labelled) {
        VirtualMachineSnapshot s = new VirtualMachineSnapshot();
        s.setMetadata(new ObjectMetaBuilder().withNamespace(ENV.ns()).withName(name)
                .withLabels(labelled ? Map.of(ApiGroup.HOST_LABEL, ENV.host()) : Map.of()).build());
        s.setSpec(new VirtualMachineSnapshotSpec());
        s.getSpec().vmName = "vm-1";
        return ENV.client().resource(s).create();
    }

    /** The worker handled it: it puts its finalizer on just before the libvirt call. */
    private static void awaitHandled(VirtualMachineSnapshot s) {
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            VirtualMachineSnapshot x = ENV.client().resource(s).get();
            return x.getMetadata().getFinalizers() != null && !x.getMetadata().getFinalizers().isEmpty();
        });
    }

    /** Without libvirt the agent cannot remove its finalizer: take it off by hand. */
    private static void dropFinalizer(VirtualMachineSnapshot s) {
        ENV.client().resource(ENV.client().resource(s).get()).edit(x -> {
            x.getMetadata().setFinalizers(List.of());
            return x;
        });
    }

    @Test
    void aSnapshotRequestedWhileLibvirtdIsDownWaitsForIt() throws Exception {
        VirtualMachineSnapshot s = snapshot("snap-down", true);
        awaitHandled(s);
        Thread.sleep(2000);
        // Nothing was done in libvirt, so nothing may say Failed.
        VirtualMachineSnapshot after = ENV.client().resource(s).get();
        assertThat(after.getStatus() == null ? null : after.getStatus().phase).as("status.phase")
                .isNotEqualTo(VirtualMachineSnapshotStatus.PHASE_FAILED);
        dropFinalizer(after);
        ENV.client().resource(after).delete();
    }

    @Test
    void aRestoreRequestedWhileLibvirtdIsDownWaitsForIt() throws Exception {
        snapshot("snap-ready", false);
        VirtualMachineSnapshotStatus ready = new VirtualMachineSnapshotStatus();
        ready.phase = VirtualMachineSnapshotStatus.PHASE_SUCCEEDED;
        ready.readyToUse = true;
        ready.host = ENV.host();
        ready.vmUuid = guest.uuid();
        ready.snapshotName = "snap-ready";
        ENV.client().resources(VirtualMachineSnapshot.class).inNamespace(ENV.ns()).withName("snap-ready")
                .editStatus(x -> {
                    x.setStatus(ready);
                    return x;
                });

        VirtualMachineRestore r = new VirtualMachineRestore();
        r.setMetadata(new ObjectMetaBuilder().withNamespace(ENV.ns()).withName("restore-down")
                .withLabels(Map.of(ApiGroup.HOST_LABEL, ENV.host())).build());
        r.setSpec(new VirtualMachineRestoreSpec());
        r.getSpec().vmName = "vm-1";
        r.getSpec().snapshotName = "snap-ready";
        ENV.client().resource(r).create();

        // The worker is single-threaded and handles objects in order: a snapshot created after the restore is
        // handled after it; once that one has its finalizer, the restore has been looked at.
        Thread.sleep(500);
        VirtualMachineSnapshot marker = snapshot("after-restore", true);
        awaitHandled(marker);
        VirtualMachineRestore after = ENV.client().resource(r).get();
        assertThat(after.getStatus() == null ? null : after.getStatus().phase).as("status.phase")
                .isNotEqualTo("Failed");
        dropFinalizer(marker);
    }
}
