package io.virtfleet.operator;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.virtfleet.agent.AgentConfig;
import io.virtfleet.agent.NodeAgent;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.reconcilers.lifecycle.LifecycleAnnotations;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The operator with the REAL node agent ({@link NodeAgent}) on the REAL libvirtd (qemu:///system, QEMU TCG) and the
 * project's test guest: the contract between the Domain the operator writes and what the agent does with it.
 * Needs {@code scripts/install-libvirt} and {@code scripts/build-test-guest} (as the agent's own tests do; missing
 * pieces fail with the script to run).
 */
class RealAgentEndToEndTest extends OperatorTestSupport {
    static final Path GUEST = Path.of("/var/lib/virtfleet/images/test-guest");
    /** Domain names start with this plus the JVM's pid, so leftovers of a dead run can be told apart. */
    static final String PREFIX_BASE = "vfop";
    static final String PREFIX = PREFIX_BASE + ProcessHandle.current().pid() + "-";
    static String ns;
    static String host;
    static KubernetesClient agentClient;
    static NodeAgent agent;
    static VirtfleetOperator operator;

    @BeforeAll
    static void start() {
        requireLibvirtAndGuest();
        removeLeftovers();
        ns = newNamespace("e2e");
        host = uniqueName("op-e2e");
        agentClient = new KubernetesClientBuilder().withConfig(cp.config()).build();
        agent = new NodeAgent(AgentConfig.forHost(host).withDomainPrefix(PREFIX)
                .withResync(Duration.ofSeconds(10)), agentClient);
        agent.start();
        operator = startOperator(testConfig().shutdownTimeoutSeconds(20), ns);
    }

    @AfterAll
    static void stop() {
        stopOperator(operator);
        if (agent != null) {
            agent.close();
        }
        if (agentClient != null) {
            agentClient.close();
        }
        for (String name : virsh("list", "--all", "--name").split("\\R")) {
            if (name.strip().startsWith(PREFIX)) {
                virsh("destroy", name.strip());
                virsh("undefine", "--nvram", name.strip());
            }
        }
    }

    /** The test guest (kernel boot, no disks or NICs) as VM {@code ns/name} pinned to {@code host}. */
    static String guestYaml(String ns, String host, String name, String memory, String strategy) {
        return """
                apiVersion: virtfleet.io/v1alpha1
                kind: VirtualMachine
                metadata:
                  name: %s
                  namespace: %s
                spec:
                  runStrategy: %s
                  hypervisor: qemu
                  nodeName: %s
                  genid: auto
                  cpu: {cores: 1}
                  memory: %s
                  machine: q35
                  graphics: none
                  firmware:
                    kernelBoot:
                      kernel: /var/lib/virtfleet/images/test-guest/vmlinuz
                      initrd: /var/lib/virtfleet/images/test-guest/initrd.img
                      cmdline: console=ttyS0 quiet
                """.formatted(name, ns, strategy, host, memory);
    }

    @Test
    void aRealDomainRunsRestartsAfterGuestPowerOffAndCrashKeepsItsGenidAndIsUndefinedOnDelete() {
        TestVm t = new YamlVm(ns, "guest", () -> guestYaml(ns, host, "guest", current[0], "Always"));
        current[0] = "256Mi";
        apply(t);

        eventually().atMost(Duration.ofSeconds(90)).untilAsserted(() -> {
            VirtualMachine v = vm(ns, "guest");
            assertThat(v.getStatus().printableStatus).isEqualTo("Running");
            assertThat(v.getStatus().domainId).isPositive();
        });
        VirtualMachine v = vm(ns, "guest");
        String uuid = v.getStatus().uuid;
        String genid = v.getStatus().genid;
        assertThat(genid).as("genid the operator chose with the Domain's first apply").isNotNull();
        assertThat(virsh("domstate", uuid).strip()).isEqualTo("running");
        assertThat(virsh("domname", uuid).strip()).isEqualTo(PREFIX + ns + "_guest");
        // pinned from the first apply on, so a redefinition cannot change it
        eventually().untilAsserted(() -> assertThat(domain(ns, "guest").getSpec().genid).isEqualTo(genid));

        // the guest powers itself off (ACPI power button; pressed again until the booting guest listens)
        long gen = restartGeneration(ns, "guest");
        eventually().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofSeconds(2)).until(() -> {
            if (restartGeneration(ns, "guest") > gen) {
                return true;
            }
            if ("running".equals(virsh("domstate", uuid).strip())) {
                virsh("shutdown", uuid);
            }
            return false;
        });
        eventually().atMost(Duration.ofSeconds(90)).untilAsserted(() -> {
            Domain d = domain(ns, "guest");
            assertThat(d.getStatus().observedRestartGeneration).isEqualTo(gen + 1);
            assertThat(d.getStatus().state).isEqualTo("Running");
            assertThat(printable(ns, "guest")).isEqualTo("Running");
        });
        assertThat(eventReasons(ns, "guest")).contains("Restarting");
        assertThat(vm(ns, "guest").getStatus().genid)
                .as("plain restart keeps the genid (libvirt generates one only for <genid/>)").isEqualTo(genid);

        // QEMU is killed: runStrategy Always restarts it too
        long gen2 = restartGeneration(ns, "guest");
        Long pid = domain(ns, "guest").getStatus().pid;
        assertThat(pid).isNotNull();
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        eventually().atMost(Duration.ofSeconds(90)).untilAsserted(() -> {
            Domain d = domain(ns, "guest");
            assertThat(d.getSpec().restartGeneration).isEqualTo(gen2 + 1);
            assertThat(d.getStatus().observedRestartGeneration).isEqualTo(gen2 + 1);
            assertThat(d.getStatus().state).isEqualTo("Running");
            assertThat(printable(ns, "guest")).isEqualTo("Running");
        });
        assertThat(vm(ns, "guest").getStatus().genid).isEqualTo(genid);

        // more memory: applied to the persistent config, RestartRequired until a restart request
        current[0] = "384Mi";
        apply(t);
        eventually().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            assertThat(conditionStatus(ns, "guest", "RestartRequired")).isEqualTo("True/PendingChanges");
            assertThat(virsh("dumpxml", "--inactive", uuid)).contains("<memory unit='KiB'>393216</memory>");
        });
        assertThat(virsh("dominfo", uuid)).containsPattern("Max memory:\\s+262144 KiB");
        annotate(t, LifecycleAnnotations.REQUEST, "restart/1");
        eventually().atMost(Duration.ofSeconds(120)).untilAsserted(() -> {
            assertThat(conditionStatus(ns, "guest", "RestartRequired")).isEqualTo("False/NoPendingChanges");
            assertThat(printable(ns, "guest")).isEqualTo("Running");
            assertThat(virsh("dominfo", uuid)).containsPattern("Max memory:\\s+393216 KiB");
        });
        assertThat(vm(ns, "guest").getStatus().genid).isEqualTo(genid);
        assertNoDrift(ns, "guest");

        client.resources(VirtualMachine.class).inNamespace(ns).withName("guest").delete();
        // The VM goes at once (no VM finalizer); its Domain stays until the agent has shut the guest down and
        // undefined it (the agent's finalizer).
        eventually().atMost(Duration.ofSeconds(30)).until(() -> vm(ns, "guest") == null);
        eventually().atMost(Duration.ofSeconds(120)).until(() -> domain(ns, "guest") == null);
        assertThat(virshRc("domname", uuid)).as("libvirt domain undefined").isNotZero();
    }

    private final String[] current = new String[1];

    /** A TestVm whose YAML comes from a template (kernel boot, no disks or NICs). */
    static final class YamlVm extends TestVm {
        private final java.util.function.Supplier<String> yaml;

        YamlVm(String ns, String name, java.util.function.Supplier<String> yaml) {
            super(ns, name);
            this.yaml = yaml;
        }

        @Override
        String yaml() {
            String y = yaml.get();
            return annotations.isEmpty() ? y : y.replace("spec:\n", annotationsYaml() + "spec:\n");
        }
    }

    // ---------------------------------------------------------------------------------------------------- libvirt

    static void requireLibvirtAndGuest() {
        if (!Files.exists(Path.of("/run/libvirt/libvirt-sock")) || virshRc("version") != 0) {
            throw new AssertionError("libvirtd does not answer on qemu:///system: run scripts/install-libvirt as root");
        }
        for (String f : new String[] {"vmlinuz", "initrd.img"}) {
            if (!Files.isRegularFile(GUEST.resolve(f))) {
                throw new AssertionError("test guest file " + GUEST.resolve(f) + " missing: run scripts/build-test-guest");
            }
        }
    }

    /** Domains of operator e2e runs whose JVM is gone. */
    static void removeLeftovers() {
        Pattern p = Pattern.compile("^" + PREFIX_BASE + "(\\d+)-");
        for (String name : virsh("list", "--all", "--name").split("\\R")) {
            Matcher m = p.matcher(name.strip());
            if (m.find() && ProcessHandle.of(Long.parseLong(m.group(1))).map(ProcessHandle::isAlive).orElse(false)) {
                continue;
            }
            if (m.find(0)) {
                virsh("destroy", name.strip());
                virsh("undefine", "--nvram", name.strip());
            }
        }
    }

    static String virsh(String... args) {
        return run(args).out;
    }

    static int virshRc(String... args) {
        return run(args).rc;
    }

    private record Result(int rc, String out) {
    }

    private static Result run(String... args) {
        List<String> cmd = new ArrayList<>(List.of("virsh", "-q", "-c", "qemu:///system"));
        cmd.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError(String.join(" ", cmd) + " timed out");
            }
            return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new AssertionError("cannot run virsh: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
