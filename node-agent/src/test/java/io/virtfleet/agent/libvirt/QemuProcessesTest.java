package io.virtfleet.agent.libvirt;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;

import static org.assertj.core.api.Assertions.assertThat;

class QemuProcessesTest {
    static final String UUID = "7d3c1f5e-3b1a-4c55-9e0e-2a8f7c9b6d41";

    @TempDir
    Path tmp;

    Path proc(long pid, String... argv) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("proc").resolve(Long.toString(pid)));
        Files.writeString(dir.resolve("cmdline"), String.join("\0", argv) + "\0");
        Files.writeString(dir.resolve("stat"), pid + " (qemu-system-x86) S 1 2 3");
        return dir;
    }

    QemuProcesses processes(Path run) {
        return new QemuProcesses(run, tmp.resolve("proc"));
    }

    @Test
    void theEmbeddedDriverKeepsItsPidFilesUnderItsRoot() {
        assertThat(QemuProcesses.embedRoot("qemu:///embed?root=/var/lib/virtfleet/embed-b"))
                .isEqualTo("/var/lib/virtfleet/embed-b");
        assertThat(QemuProcesses.embedRoot("qemu:///embed?foo=1&root=%2Ftmp%2Fx")).isEqualTo("/tmp/x");
        assertThat(QemuProcesses.embedRoot("qemu:///system")).isNull();
        assertThat(QemuProcesses.embedRoot("qemu:///embed?root=")).isNull();
        assertThat(QemuProcesses.embedRoot(null)).isNull();
    }

    @Test
    void pidFileCheckedAgainstTheCommandLine() throws Exception {
        Path run = Files.createDirectories(tmp.resolve("run/libvirt/qemu"));
        Files.writeString(run.resolve("vf-a.pid"), "4242");
        Files.writeString(run.resolve("driver.pid"), "100");
        proc(100, "/usr/sbin/libvirtd", "-d");
        proc(4242, "/usr/bin/qemu-system-x86_64", "-name", "guest=vf-a", "-uuid", UUID);
        assertThat(processes(run).seesHostProcesses()).isTrue();
        assertThat(processes(run).pid("vf-a", UUID)).hasValue(4242);
    }

    @Test
    void scanFindsTheProcessWithoutAPidFile() throws Exception {
        Path run = Files.createDirectories(tmp.resolve("run/libvirt/qemu"));
        proc(77, "/usr/bin/qemu-system-x86_64", "-uuid", UUID.toUpperCase());
        proc(78, "/usr/bin/bash", "-uuid", UUID);
        assertThat(processes(run).pid("vf-a", UUID)).hasValue(77);
    }

    @Test
    void aDeadProcessHasNoPidWhenHostProcessesAreVisible() throws Exception {
        Path run = Files.createDirectories(tmp.resolve("run/libvirt/qemu"));
        Files.writeString(run.resolve("vf-a.pid"), "4242");
        Files.writeString(run.resolve("driver.pid"), "100");
        proc(100, "/usr/sbin/libvirtd");
        assertThat(processes(run).pid("vf-a", UUID)).isEqualTo(OptionalLong.empty());
    }

    @Test
    void inAnotherPidNamespaceThePidFileIsTakenAsIs() throws Exception {
        Path run = Files.createDirectories(tmp.resolve("run/libvirt/qemu"));
        Files.writeString(run.resolve("vf-a.pid"), "4242");
        Files.writeString(run.resolve("driver.pid"), "100");
        Files.createDirectories(tmp.resolve("proc"));
        QemuProcesses p = processes(run);
        assertThat(p.seesHostProcesses()).isFalse();
        assertThat(p.pid("vf-a", UUID)).hasValue(4242);
    }

    @Test
    void watcherSeesZombiesAndMissingProcessesAsExited() throws Exception {
        Path d = proc(5, "/usr/bin/qemu-system-x86_64");
        Path procDir = tmp.resolve("proc");
        assertThat(QemuWatcher.alive(procDir, 5)).isTrue();
        Files.writeString(d.resolve("stat"), "5 (qemu (odd) name) Z 1 2 3");
        assertThat(QemuWatcher.alive(procDir, 5)).isFalse();
        assertThat(QemuWatcher.alive(procDir, 6)).isFalse();
    }
}
