package io.virtfleet.e2e.migration;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.virtfleet.api.v1alpha1.ApiGroup;
import io.virtfleet.api.v1alpha1.EvictionStrategy;
import io.virtfleet.api.v1alpha1.Host;
import io.virtfleet.api.v1alpha1.HostDrainStatus;
import io.virtfleet.api.v1alpha1.RunStrategy;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.api.v1alpha1.VirtualMachineMigration;
import io.virtfleet.cli.Virtfleet;
import io.virtfleet.e2e.support.Fleet;
import io.virtfleet.e2e.support.LibvirtGuest;
import io.virtfleet.e2e.support.StartFleet;
import io.virtfleet.e2e.support.TokenKubeconfig;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Host maintenance end to end, on two libvirtds of their own: three running test guests on host a, one with
 * {@code evictionStrategy: None}; {@code virtfleet host drain a --wait} (which only sets {@code Host.spec.drain}, the
 * field a GitOps repository would carry) makes the operator live-migrate the other two to b — same QEMU boot, no
 * restart — and report the third, still running on a with the same QEMU process, in {@code Host.status.drain}.
 * While draining, a VM pinned to a is not placed there; the undrain makes a schedulable again and it is.
 */
class DrainTest {
    private static final Logger LOG = LoggerFactory.getLogger(DrainTest.class);
    @StartFleet(hosts = {"a", "b"}, ownLibvirtd = true)
    static Fleet fleet;
    static String a;
    static String b;
    static Path kubeconfig;

    @BeforeAll
    static void start() throws Exception {
        a = fleet.host("a");
        b = fleet.host("b");
        kubeconfig = TokenKubeconfig.write(Files.createTempFile("drain-e2e-", ".kubeconfig"), fleet.controlPlane(),
                "admin", fleet.controlPlane().config().getOauthToken(), fleet.namespace());
    }

    @AfterAll
    static void stop() throws Exception {
        if (kubeconfig != null) {
            Files.deleteIfExists(kubeconfig);
        }
    }

    @Test
    void drainMovesTheMovableVmsReportsTheOtherAndUndrainMakesTheHostSchedulableAgain() throws Exception {
        Map<String, EvictionStrategy> strategies = new HashMap<>();
        strategies.put("dr-1", null); // the default: LiveMigrate
        strategies.put("dr-2", EvictionStrategy.LiveMigrate);
        strategies.put("dr-3", EvictionStrategy.None);
        for (Map.Entry<String, EvictionStrategy> e : strategies.entrySet()) {
            VirtualMachine vm = fleet.testGuest(e.getKey());
            vm.getSpec().nodeName = a;
            vm.getSpec().evictionStrategy = e.getValue();
            fleet.apply(vm);
        }
        Map<String, String> boot = new HashMap<>();
        Map<String, String> uuid = new HashMap<>();
        for (String name : strategies.keySet()) {
            VirtualMachine vm = fleet.awaitReady(name);
            assertThat(vm.getStatus().host).isEqualTo(a);
            LibvirtGuest g = fleet.guestOn(a, fleet.domainName(a, name));
            g.awaitConsole("VIRTFLEET-GUEST-READY", Duration.ofSeconds(180));
            boot.put(name, g.exec("cat /proc/sys/kernel/random/boot_id").output().trim());
            uuid.put(name, vm.getStatus().uuid);
        }
        long staysPid = fleet.guestOn(a, fleet.domainName(a, "dr-3")).qemuPid();

        Cli drain = cli("host", "drain", a, "--wait", "--timeout", "10m");
        LOG.info("virtfleet host drain: exit {}\n{}{}", drain.exit(), drain.out(), drain.err());
        // Incomplete is an error for --wait: dr-3 is still on the host, and the message says why.
        assertThat(drain.exit()).as(drain.out() + drain.err()).isEqualTo(1);
        assertThat(drain.out()).contains("Host " + a + " draining (spec.drain: true)");
        assertThat(drain.err()).contains("drain of Host " + a + " incomplete (3 VMs: 2 migrated, 1 not moved)")
                .contains("VirtualMachine " + fleet.namespace() + "/dr-3: evictionStrategy None: left running on "
                        + "the host");

        Host host = fleet.client().resources(Host.class).withName(a).get();
        assertThat(host.getSpec().drain).isTrue();
        HostDrainStatus st = host.getStatus().drain;
        assertThat(st.phase).isEqualTo(HostDrainStatus.INCOMPLETE);
        assertThat(st.message).isEqualTo("3 VMs: 2 migrated, 1 not moved");
        assertThat(st.vms).extracting(v -> v.name + " " + v.state + " " + v.targetHost).containsExactly(
                "dr-1 Migrated " + b, "dr-2 Migrated " + b, "dr-3 NotMoved null");

        // The two moved live: same boot, QEMU on b only; the third runs on a with the very same QEMU process.
        for (String name : List.of("dr-1", "dr-2")) {
            VirtualMachine vm = fleet.await(name, "Running on " + b, Duration.ofSeconds(60),
                    v -> b.equals(v.getStatus().host) && "Running".equals(v.getStatus().printableStatus));
            assertThat(vm.getStatus().uuid).isEqualTo(uuid.get(name));
            LibvirtGuest there = fleet.guestOn(b, fleet.domainName(b, name));
            assertThat(there.state()).isEqualTo("running");
            assertThat(there.exec("cat /proc/sys/kernel/random/boot_id").output().trim()).isEqualTo(boot.get(name));
            assertThat(io.virtfleet.e2e.support.QemuProcesses.pidsOf(uuid.get(name))).containsExactly(there.qemuPid());
            VirtualMachineMigration m = fleet.client().resources(VirtualMachineMigration.class)
                    .inNamespace(fleet.namespace()).withName(st.vms.stream().filter(v -> v.name.equals(name))
                            .findFirst().orElseThrow().migration).get();
            assertThat(m.getMetadata().getLabels()).containsEntry(ApiGroup.DRAIN_HOST_LABEL, a)
                    .containsEntry(ApiGroup.DRAIN_ID_LABEL, st.id);
            assertThat(m.getStatus().phase).isEqualTo("Succeeded");
        }
        LibvirtGuest stays = fleet.guestOn(a, fleet.domainName(a, "dr-3"));
        assertThat(stays.qemuPid()).isEqualTo(staysPid);
        assertThat(fleet.get("dr-3").getStatus().host).isEqualTo(a);
        assertThat(hostEvents(a)).contains("Draining", "DrainIncomplete");

        // While a drains, nothing new is placed there, not even a VM pinned to it.
        VirtualMachine pinned = fleet.testGuest("dr-new");
        pinned.getSpec().nodeName = a;
        pinned.getSpec().runStrategy = RunStrategy.Halted;
        fleet.apply(pinned);
        VirtualMachine waiting = fleet.await("dr-new", "Pending", Duration.ofSeconds(30),
                v -> v.getStatus() != null && Fleet.conditionOf(v, "Scheduled") != null
                        && "False".equals(Fleet.conditionOf(v, "Scheduled").getStatus()));
        assertThat(Fleet.conditionOf(waiting, "Scheduled").getReason()).isEqualTo("NoSchedulableHost");
        assertThat(fleet.domain("dr-new")).isNull();

        // Undrain (the GitOps way this time: the field removed by a patch): the status goes, a takes VMs again.
        fleet.client().resources(Host.class).withName(a).patch(PatchContext.of(PatchType.JSON_MERGE),
                "{\"spec\":{\"drain\":null}}");
        Awaitility.await().alias("status.drain removed").atMost(Duration.ofSeconds(30))
                .until(() -> fleet.client().resources(Host.class).withName(a).get().getStatus().drain == null);
        fleet.await("dr-new", "scheduled to " + a, Duration.ofSeconds(60),
                v -> a.equals(v.getStatus().host) && Fleet.condition(v, "Scheduled"));
        assertThat(fleet.domain("dr-new").getSpec().host).isEqualTo(a);
        assertThat(hostEvents(a)).contains("Undrained");
        assertThat(stays.qemuPid()).isEqualTo(staysPid);
        Cli list = cli("host", "list");
        assertThat(list.out()).containsPattern(a + "\\s+True\\s+Yes");
    }

    record Cli(int exit, String out, String err) {
    }

    private static Cli cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        var cl = Virtfleet.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        String[] all = new String[args.length + 2];
        System.arraycopy(args, 0, all, 0, args.length);
        all[args.length] = "--kubeconfig";
        all[args.length + 1] = kubeconfig.toString();
        int exit = cl.execute(all);
        return new Cli(exit, out.toString(), err.toString());
    }

    private static List<String> hostEvents(String host) {
        return fleet.client().v1().events().inNamespace("default").list().getItems().stream()
                .filter(e -> e.getInvolvedObject() != null && "Host".equals(e.getInvolvedObject().getKind())
                        && host.equals(e.getInvolvedObject().getName()))
                .map(Event::getReason).toList();
    }
}
