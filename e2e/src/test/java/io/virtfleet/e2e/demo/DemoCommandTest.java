package io.virtfleet.e2e.demo;

import io.virtfleet.controlplane.RepoRoot;
import io.virtfleet.e2e.support.XenHost;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The README's main job, run exactly as a user runs it: {@code ./virtfleet demo --once} from the checkout, with the real
 * control plane, operator, node agent, libvirtd and test guest. The install scripts already ran in scripts/test, so
 * --skip-install only saves their (cached) checks.
 */
class DemoCommandTest {
    private static final Path REPO = RepoRoot.require();

    @Test
    void demoOnceBringsTheSampleVmToRunningAndCleansUp() throws Exception {
        String output = demoOnce("virtfleet-demo", 10);
        assertThat(output).containsPattern("default\\s+demo\\s+local\\s+Running\\s+[1-9][0-9]*")
                .contains("kubeconfig: ").contains("==> done").doesNotContain("Exception");
        assertThat(virsh("domstate", "default_demo")).as("the demo's libvirt domain is undefined after --once")
                .contains("failed to get domain");
    }

    /**
     * {@code ./virtfleet demo --hypervisor xen --once}: the sample PV guest Running on the nested Xen host, then
     * deleted from dom0's libvirt. The host is booted through {@link XenHost} first, which powers it off when the JVM
     * ends; the demo finds it running (scripts/xen-host start is idempotent).
     */
    @Test
    @Tag("xen")
    void demoOnceOnXenRunsThePvGuestOnTheNestedXenHost() throws Exception {
        XenHost xen = XenHost.shared();
        String output = demoOnce("virtfleet-demo-xen", 20, "--hypervisor", "xen", "--timeout", "600");
        assertThat(output).containsPattern("default\\s+demo-xen\\s+local\\s+Running\\s+[1-9][0-9]*")
                .contains("on " + xen.uri()).contains("==> done").doesNotContain("Exception");
        assertThat(virshAt(xen.uri(), "domstate", "default_demo-xen")).as("undefined in dom0's libvirt after --once")
                .contains("failed to get domain");
    }

    /**
     * Runs {@code ./virtfleet demo --once --skip-install ARGS} in the repository, its output into a temporary file
     * whose name starts with {@code logPrefix}; asserts it ended within {@code minutes} with exit code 0 and returns its output.
     */
    private static String demoOnce(String logPrefix, long minutes, String... args) throws Exception {
        Path log = Files.createTempFile(logPrefix, ".log");
        List<String> command = new ArrayList<>(List.of(REPO.resolve("virtfleet").toString(), "demo", "--once",
                "--skip-install"));
        command.addAll(List.of(args));
        Process demo = new ProcessBuilder(command).directory(REPO.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        boolean finished = demo.waitFor(minutes, TimeUnit.MINUTES);
        String output = Files.readString(log, StandardCharsets.UTF_8);
        if (!finished) {
            demo.destroyForcibly();
        }

        assertThat(finished).as("demo finished in time:\n" + output).isTrue();
        assertThat(demo.exitValue()).as(output).isZero();
        return output;
    }

    private static String virsh(String... args) throws IOException, InterruptedException {
        return virshAt("qemu:///system", args);
    }

    private static String virshAt(String uri, String... args) throws IOException, InterruptedException {
        String[] command = new String[args.length + 3];
        command[0] = "virsh";
        command[1] = "-c";
        command[2] = uri;
        System.arraycopy(args, 0, command, 3, args.length);
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(30, TimeUnit.SECONDS);
        return out;
    }
}
