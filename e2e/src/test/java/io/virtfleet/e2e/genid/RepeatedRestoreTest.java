package io.virtfleet.e2e.genid;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.virtfleet.api.v1alpha1.ApiGroup;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.GenidChange;
import io.virtfleet.api.v1alpha1.RunStrategy;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.api.v1alpha1.VirtualMachineRestore;
import io.virtfleet.api.v1alpha1.VirtualMachineSnapshot;
import io.virtfleet.e2e.support.Fleet;
import io.virtfleet.e2e.support.StartFleet;
import io.virtfleet.e2e.support.LibvirtGuest;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Restores in a row, of a stopped and of a running VM, each to the same snapshot: every restore gives a generation
 * ID the VM never had before, the VM's status, its Domain and libvirt agree on it, QEMU's query-vm-generation-id
 * returns it after the next start, and genidHistory lists every one in order. Then the same with the operator or the
 * agent stopped at each step of a restore. (Two restores of a stopped VM to one snapshot used to leave it on the first
 * restore's genid: the revert brought back the snapshot's definition, and a redefine from the Domain spec put the older
 * genid back.)
 */
class RepeatedRestoreTest {
    private static final Pattern GENID = Pattern.compile("<genid>([0-9a-fA-F-]{36})</genid>");
    @StartFleet
    static Fleet fleet;
    static String host;

    @BeforeAll
    static void start() {
        host = fleet.host("a");
    }

    @Test
    void threeRestoresOfAStoppedVmToOneSnapshotEachGiveANewGenid() {
        String vm = "rr-stopped";
        List<String> seen = new ArrayList<>(List.of(haltedWithGenid(vm)));
        snapshot(vm, vm + "-s1");
        restoreThreeTimes(vm, seen, g -> { });
        assertHistory(vm, seen);
        startAndAssertQemuGenid(vm, seen.get(seen.size() - 1));
        fleet.delete(vm);
        fleet.awaitDeleted(vm);
    }

    @Test
    void threeRestoresOfARunningVmToOneSnapshotEachGiveANewGenid() {
        String vm = "rr-running";
        VirtualMachine v = fleet.testGuest(vm);
        fleet.apply(v);
        v = fleet.awaitReady(vm);
        LibvirtGuest guest = fleet.guest(v);
        List<String> seen = new ArrayList<>(List.of(v.getStatus().genid));
        assertThat(guest.genidSeenByGuest()).isEqualTo(seen.get(0));
        snapshot(vm, vm + "-s1");
        restoreThreeTimes(vm, seen, g -> assertThat(guest.genidSeenByGuest()).isEqualTo(g));
        assertHistory(vm, seen);
        fleet.delete(vm);
        fleet.awaitDeleted(vm);
    }

    /**
     * Three restores of {@code vm} to its snapshot {@code <vm>-s1}: each gives a genid not in {@code seen} (then added),
     * on which the VM's status, its Domain and libvirt agree; {@code andThen} checks more of each.
     */
    private static void restoreThreeTimes(String vm, List<String> seen, java.util.function.Consumer<String> andThen) {
        for (int i = 1; i <= 3; i++) {
            String g = restore(vm, vm + "-r" + i, vm + "-s1", null);
            assertThat(seen).as("restore %d gave a genid seen before", i).doesNotContain(g);
            seen.add(g);
            awaitAgreement(vm, g);
            andThen.accept(g);
        }
    }

    /** Where a restore is interrupted: each row stops the operator or the agent at one step and starts it again. */
    enum Interruption {
        OPERATOR_DOWN_WHEN_THE_RESTORE_IS_CREATED,
        OPERATOR_RESTARTED_ONCE_THE_GENID_IS_RECORDED,
        AGENT_DOWN_WHEN_THE_RESTORE_IS_HANDED_OVER,
        OPERATOR_DOWN_WHILE_THE_AGENT_REVERTS,
        AGENT_RESTARTED_RIGHT_AFTER_THE_REVERT
    }

    @ParameterizedTest
    @EnumSource(Interruption.class)
    void theSecondRestoreOfAStoppedVmGetsANewGenidWhenInterrupted(Interruption at) {
        String vm = "rr-" + at.ordinal();
        List<String> seen = new ArrayList<>(List.of(haltedWithGenid(vm)));
        snapshot(vm, vm + "-s1");
        String g1 = restore(vm, vm + "-r1", vm + "-s1", null);
        seen.add(g1);
        awaitAgreement(vm, g1);
        String g2 = restore(vm, vm + "-r2", vm + "-s1", at);
        assertThat(seen).doesNotContain(g2);
        seen.add(g2);
        awaitAgreement(vm, g2);
        assertHistory(vm, seen);
        startAndAssertQemuGenid(vm, g2);
        fleet.delete(vm);
        fleet.awaitDeleted(vm);
    }

    // ------------------------------------------------------------------------------------------------------ steps

    /** A Halted VM of the test guest; returns the genid libvirt generated for it. */
    private static String haltedWithGenid(String name) {
        VirtualMachine v = fleet.testGuest(name);
        v.getSpec().runStrategy = RunStrategy.Halted;
        fleet.apply(v);
        v = fleet.await(name, "defined with a genid", Duration.ofSeconds(90), x -> x.getStatus() != null
                && x.getStatus().genid != null && "Stopped".equals(x.getStatus().printableStatus));
        return v.getStatus().genid;
    }

    private static void snapshot(String vm, String name) {
        VirtualMachineSnapshot snap = VirtualMachineSnapshot.of(fleet.namespace(), name, vm);
        fleet.client().resource(snap).create();
        snap = Awaitility.await().alias(name).atMost(Duration.ofSeconds(120)).until(() -> fleet.client()
                        .resources(VirtualMachineSnapshot.class).inNamespace(fleet.namespace()).withName(name).get(),
                s -> s != null && s.getStatus() != null && s.getStatus().phase != null
                        && !"Pending".equals(s.getStatus().phase));
        assertThat(snap.getStatus().error).isNull();
        assertThat(snap.getStatus().readyToUse).isTrue();
    }

    /** Creates a restore (interrupting it as {@code at} says) and returns the genid it reports once Succeeded. */
    private static String restore(String vm, String name, String snapshot, Interruption at) {
        VirtualMachineRestore r = fleet.snapshotRestore(name, vm, snapshot);
        String recorded = null;
        if (at == Interruption.OPERATOR_DOWN_WHEN_THE_RESTORE_IS_CREATED) {
            fleet.stopOperator();
            fleet.client().resource(r).create();
            sleep(Duration.ofSeconds(1));
            fleet.startOperator();
        } else if (at == Interruption.OPERATOR_RESTARTED_ONCE_THE_GENID_IS_RECORDED) {
            fleet.stopAgent(host);
            fleet.client().resource(r).create();
            recorded = awaitRestore(name, x -> x.getStatus() != null && x.getStatus().genid != null).getStatus().genid;
            fleet.stopOperator();
            fleet.startOperator();
            fleet.startAgent(host);
        } else if (at == Interruption.AGENT_DOWN_WHEN_THE_RESTORE_IS_HANDED_OVER) {
            fleet.stopAgent(host);
            fleet.client().resource(r).create();
            awaitRestore(name, x -> x.getMetadata().getLabels() != null
                    && host.equals(x.getMetadata().getLabels().get(ApiGroup.HOST_LABEL)));
            fleet.startAgent(host);
        } else if (at == Interruption.OPERATOR_DOWN_WHILE_THE_AGENT_REVERTS) {
            fleet.client().resource(r).create();
            awaitRestore(name, x -> x.getMetadata().getLabels() != null
                    && host.equals(x.getMetadata().getLabels().get(ApiGroup.HOST_LABEL)));
            fleet.stopOperator();
            awaitRestore(name, x -> x.getStatus() != null && "Succeeded".equals(x.getStatus().phase));
            fleet.startOperator();
        } else {
            fleet.client().resource(r).create();
        }
        r = awaitRestore(name, x -> x.getStatus() != null && x.getStatus().phase != null
                && !"Pending".equals(x.getStatus().phase));
        if (at == Interruption.AGENT_RESTARTED_RIGHT_AFTER_THE_REVERT) {
            fleet.stopAgent(host);
            fleet.startAgent(host);
        }
        assertThat(r.getStatus().error).isNull();
        assertThat(r.getStatus().phase).isEqualTo("Succeeded");
        String g = r.getStatus().genid;
        assertThat(g).matches("[0-9a-f-]{36}").isNotEqualTo(r.getStatus().previousGenid);
        if (recorded != null) {
            assertThat(g).as("the restarted operator reuses the recorded genid").isEqualTo(recorded);
        }
        return g;
    }

    private static VirtualMachineRestore awaitRestore(String name, Predicate<VirtualMachineRestore> p) {
        return Awaitility.await().alias(name).atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200))
                .until(() -> fleet.client().resources(VirtualMachineRestore.class).inNamespace(fleet.namespace())
                        .withName(name).get(), x -> x != null && p.test(x));
    }

    /** The VM's status, its Domain (spec and status) and libvirt's persistent definition all carry {@code genid}. */
    private static void awaitAgreement(String vm, String genid) {
        VirtualMachine v = fleet.await(vm, "status.genid " + genid, Duration.ofSeconds(60),
                x -> genid.equals(x.getStatus().genid));
        LibvirtGuest guest = fleet.guest(v);
        Awaitility.await().alias(vm + " agrees on " + genid).atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
                    Domain d = fleet.domain(vm);
                    assertThat(d.getSpec().genid).isEqualTo(genid);
                    assertThat(d.getStatus().genid).isEqualTo(genid);
                    assertThat(genidOf(guest.persistentXml())).isEqualTo(genid);
                    assertThat(fleet.get(vm).getStatus().genid).isEqualTo(genid);
                });
    }

    private static void assertHistory(String vm, List<String> genids) {
        List<GenidChange> h = fleet.get(vm).getStatus().genidHistory;
        assertThat(h).extracting(c -> c.genid).containsExactlyElementsOf(genids);
        assertThat(h.get(0).reason).isEqualTo("Created");
        assertThat(h.subList(1, h.size())).extracting(c -> c.reason).containsOnly("SnapshotRestored");
    }

    /** Starts the Halted VM (runStrategy Always) and checks the genid QEMU gives the guest. */
    private static void startAndAssertQemuGenid(String vm, String genid) {
        VirtualMachine v = fleet.get(vm);
        VirtualMachine change = new VirtualMachine();
        change.setMetadata(new ObjectMetaBuilder().withName(vm).withNamespace(fleet.namespace()).build());
        change.setSpec(v.getSpec()); // the same spec (and data disk), now to run
        change.getSpec().runStrategy = RunStrategy.Always;
        fleet.apply(change);
        v = fleet.await(vm, "Running", Duration.ofSeconds(90), x -> "Running".equals(x.getStatus().printableStatus));
        assertThat(fleet.guest(v).genidSeenByGuest()).isEqualTo(genid);
        assertThat(v.getStatus().genid).isEqualTo(genid);
    }

    private static String genidOf(String xml) {
        Matcher m = GENID.matcher(xml == null ? "" : xml);
        return m.find() ? m.group(1).toLowerCase(Locale.ROOT) : null;
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
