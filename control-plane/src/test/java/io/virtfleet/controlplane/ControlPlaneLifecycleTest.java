package io.virtfleet.controlplane;

import io.virtfleet.api.v1alpha1.VirtualMachine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** Starting and stopping leave nothing behind; detached control planes survive their client and stop on demand. */
class ControlPlaneLifecycleTest {

    @Test
    void closeKillsEtcdAndApiserverAndDeletesTheDataDir() {
        ProcessHandle etcd;
        ProcessHandle apiserver;
        Path dir;
        try (EmbeddedControlPlane cp = EmbeddedControlPlane.builder().withoutCrds().start()) {
            etcd = cp.etcdProcess();
            apiserver = cp.apiserverProcess();
            dir = cp.dataDir();
            assertThat(etcd.isAlive()).isTrue();
            assertThat(apiserver.isAlive()).isTrue();
            assertThat(etcd.info().command()).hasValueSatisfying(c -> assertThat(c).endsWith("/etcd"));
            assertThat(apiserver.info().command()).hasValueSatisfying(c -> assertThat(c).endsWith("/kube-apiserver"));
            assertThat(cp.kubeconfig()).exists();
            assertThat(cp.kubectl("version", "-o", "json").stdout()).contains("\"gitVersion\": \"v1.32.");
            assertThat(ProcessHandle.current().children()).contains(etcd, apiserver);
        }
        assertThat(etcd.isAlive()).isFalse();
        assertThat(apiserver.isAlive()).isFalse();
        assertThat(ProcessHandle.of(etcd.pid()).filter(ProcessHandle::isAlive)).isEmpty();
        assertThat(ProcessHandle.of(apiserver.pid()).filter(ProcessHandle::isAlive)).isEmpty();
        assertThat(controlPlaneChildren()).doesNotContain(etcd, apiserver);
        assertThat(dir).doesNotExist();
    }

    @Test
    void aFixedApiPortIsServedOrRefusedWhenTakenAndServiceAccountAdmissionCanStayOn() throws Exception {
        int port;
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1,
                java.net.InetAddress.getLoopbackAddress())) {
            port = taken.getLocalPort();
            assertThatThrownBy(() -> EmbeddedControlPlane.builder().withoutCrds().apiPort(port).start())
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("port " + port).hasMessageContaining("taken");
        }
        try (EmbeddedControlPlane cp = EmbeddedControlPlane.builder().withoutCrds().apiPort(port)
                .serviceAccountAdmission(true).start()) {
            assertThat(cp.serverUrl()).isEqualTo("https://127.0.0.1:" + port);
            // With the plugin on, a pod needs its ServiceAccount (which only a controller-manager creates).
            io.fabric8.kubernetes.api.model.Pod pod = new io.fabric8.kubernetes.api.model.PodBuilder()
                    .withNewMetadata().withName("p").withNamespace("default").endMetadata()
                    .withNewSpec().addNewContainer().withName("c").withImage("x").endContainer().endSpec().build();
            assertThatThrownBy(() -> cp.client().resource(pod).create())
                    .hasMessageContaining("serviceaccount \"default\" not found");
        }
    }

    /** etcd and kube-apiserver processes started by this JVM (other test classes may share one, so compare sets). */
    static List<ProcessHandle> controlPlaneChildren() {
        return ProcessHandle.current().children()
                .filter(p -> p.info().command().map(c -> c.endsWith("/etcd") || c.endsWith("/kube-apiserver"))
                        .orElse(false))
                .filter(ProcessHandle::isAlive)
                .toList();
    }

    @Test
    void aFailedStartReportsTheApiserverLogAndLeavesNothingRunning() {
        List<ProcessHandle> before = controlPlaneChildren();
        assertThatThrownBy(() -> EmbeddedControlPlane.builder().withoutCrds()
                .apiserverArg("--no-such-flag-for-this-test").start())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("kube-apiserver exited")
                .hasMessageContaining("unknown flag: --no-such-flag-for-this-test");
        assertThat(controlPlaneChildren()).containsExactlyInAnyOrderElementsOf(before);
    }

    @Test
    void detachedControlPlaneKeepsRunningUntilStopped(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("state");
        long etcdPid;
        long apiPid;
        try (EmbeddedControlPlane cp = EmbeddedControlPlane.start(dir)) {
            etcdPid = cp.etcdProcess().pid();
            apiPid = cp.apiserverProcess().pid();
            assertThat(cp.client().resources(VirtualMachine.class).inNamespace("default").list().getItems()).isEmpty();
            cp.client().resource(EmbeddedControlPlaneTest.vm("default", "survivor")).create();
        }
        try {
            // close() of a detached control plane leaves the processes running.
            EmbeddedControlPlane.Status st = EmbeddedControlPlane.status(dir);
            assertThat(st.running()).isTrue();
            assertThat(st.etcdPid()).isEqualTo(etcdPid);
            assertThat(st.apiserverPid()).isEqualTo(apiPid);
            assertThat(Files.readString(st.kubeconfig())).contains(st.server());

            // Starting again reconnects to the same processes.
            try (EmbeddedControlPlane again = EmbeddedControlPlane.start(dir)) {
                assertThat(again.etcdProcess().pid()).isEqualTo(etcdPid);
                assertThat(again.apiserverProcess().pid()).isEqualTo(apiPid);
                KubectlResult r = again.kubectl("get", "vfvm", "-A");
                assertThat(r.exitCode()).as(r.toString()).isZero();
            }
        } finally {
            assertThat(EmbeddedControlPlane.stop(dir)).isTrue();
        }
        await().atMost(Duration.ofSeconds(5)).until(() ->
                ProcessHandle.of(etcdPid).filter(ProcessHandle::isAlive).isEmpty()
                        && ProcessHandle.of(apiPid).filter(ProcessHandle::isAlive).isEmpty());
        assertThat(EmbeddedControlPlane.status(dir).running()).isFalse();
        assertThat(EmbeddedControlPlane.stop(dir)).isFalse();
        // Data survives a stop: the next start sees the VM created before.
        try (EmbeddedControlPlane restarted = EmbeddedControlPlane.start(dir)) {
            assertThat(restarted.etcdProcess().pid()).isNotEqualTo(etcdPid);
            assertThat(restarted.client().resources(VirtualMachine.class).inNamespace("default").withName("survivor")
                    .get()).isNotNull();
        } finally {
            assertThat(EmbeddedControlPlane.stop(dir)).isTrue();
        }
        assertThat(EmbeddedControlPlane.status(dir).running()).isFalse();
    }
}
