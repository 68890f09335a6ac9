package io.virtfleet.reconcilers.lifecycle;

import io.fabric8.kubernetes.api.model.Condition;
import io.virtfleet.api.v1alpha1.DeviceStatus;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.DomainSpec;
import io.virtfleet.api.v1alpha1.DomainStatus;
import io.virtfleet.api.v1alpha1.GenidChange;
import io.virtfleet.api.v1alpha1.Hypervisor;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.api.v1alpha1.VirtualMachineStatus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

import static io.virtfleet.reconcilers.lifecycle.Fixtures.NOW;
import static io.virtfleet.reconcilers.lifecycle.Fixtures.domain;
import static io.virtfleet.reconcilers.lifecycle.Fixtures.spec;
import static io.virtfleet.reconcilers.lifecycle.Fixtures.status;
import static org.assertj.core.api.Assertions.assertThat;

class StatusFolderTest {
    private static final String RUN = DomainSpec.POWER_RUNNING;
    private static final String STOP = DomainSpec.POWER_STOPPED;

    record Case(String name, UnaryOperator<StatusFolder.Input> input, String printable, String ready,
                String readyReason, String scheduled, String synced, String restartRequired, String failure) {
        @Override
        public String toString() {
            return name;
        }
    }

    static VirtualMachine vm() {
        return Fixtures.vm("web-1", Hypervisor.KVM, 1, "1Gi");
    }

    static Domain running(long gen) {
        return domain(spec(RUN, gen), status(DomainStates.RUNNING, "Booted", gen), Map.of());
    }

    static Domain migrating(Domain d) {
        d.getSpec().migration = new io.virtfleet.api.v1alpha1.DomainMigration();
        d.getSpec().migration.targetHost = "node-b";
        return d;
    }

    static Stream<Case> cases() {
        Decision noXen = Decision.unschedulable("NoHostWithDriver", "xen", "NoHostWithDriver xen: 0/2 hosts fit");
        List<String> macError = List.of("spec.interfaces[0].macAddress: 01:00:5e:00:00:01 is a multicast address");
        return Stream.of(
                new Case("nothing fits", in -> in.decision(noXen), "Pending", "False", "Pending", "False/NoHostWithDriver",
                        "False", "False", "False"),
                new Case("invalid, no Domain", in -> in.validationErrors(macError), "Failed", "False", "Failed",
                        "False/ValidationFailed", "False/ValidationFailed", "False", "True/ValidationFailed"),
                new Case("invalid change, previous Domain keeps running",
                        in -> in.validationErrors(macError).host("node-a").domain(running(1)), "Running", "True",
                        "Running", "True/Scheduled", "False/ValidationFailed", "False", "True/ValidationFailed"),
                new Case("cannot render", in -> in.host("node-a").renderError("no such machine"), "Failed", "False",
                        "Failed", "True/Scheduled", "False/RenderFailed", "False", "True/RenderFailed"),
                new Case("Domain write failed", in -> in.host("node-a").applyError("forbidden"), "Scheduling",
                        "False", "Scheduling", "True/Scheduled", "False/ApplyFailed", "False", "True/ApplyFailed"),
                new Case("agent has not reported", in -> in.host("node-a").domain(domain(spec(RUN, 1), null, null)),
                        "Scheduling", "False", "Scheduling", "True/Scheduled", "True/Synced", "False", "False"),
                new Case("running", in -> in.host("node-a").domain(running(1)), "Running", "True", "Running",
                        "True/Scheduled", "True/Synced", "False/NoPendingChanges", "False/NoFailure"),
                new Case("live-migrating: still running, Ready", in -> in.host("node-a").domain(migrating(running(1))),
                        "Migrating", "True", "Running", "True/Scheduled", "True/Synced", "False/NoPendingChanges",
                        "False/NoFailure"),
                new Case("start pending", in -> in.host("node-a").domain(domain(spec(RUN, 2),
                        status(DomainStates.SHUTOFF, "Shutdown", 1L), null)), "Starting", "False", "Starting",
                        "True", "True", "False", "False"),
                new Case("restart pending while running", in -> in.host("node-a").domain(domain(spec(RUN, 2),
                        status(DomainStates.RUNNING, null, 1L), null)), "Starting", "False", "Starting", "True",
                        "True", "False", "False"),
                new Case("stop under way", in -> in.host("node-a").domain(domain(spec(STOP, 1),
                        status(DomainStates.RUNNING, null, 1L), null)), "Stopping", "False", "Stopping", "True",
                        "True", "False", "False"),
                new Case("shutting down", in -> in.host("node-a").domain(domain(spec(STOP, 1),
                        status(DomainStates.SHUTTING_DOWN, null, 1L), null)), "Stopping", "False", "Stopping", "True",
                        "True", "False", "False"),
                new Case("stopped", in -> in.host("node-a").domain(domain(spec(STOP, 1),
                        status(DomainStates.SHUTOFF, "Shutdown", 1L), Map.of(LifecycleAnnotations.STOP_REASON,
                                "Request"))), "Stopped", "False", "Stopped", "True", "True", "False", "False"),
                new Case("guest powered off, not decided yet", in -> in.host("node-a").domain(domain(spec(RUN, 1),
                        status(DomainStates.SHUTOFF, "Shutdown", 1L), null)), "Stopped", "False", "Stopped", "True",
                        "True", "False", "False"),
                new Case("crashed, waiting to restart", in -> in.host("node-a").domain(domain(spec(RUN, 1),
                        status(DomainStates.SHUTOFF, "Crashed", 1L), null)), "Failed", "False", "Failed", "True",
                        "True", "False", "False"),
                new Case("crashed and left stopped", in -> in.host("node-a").domain(domain(spec(STOP, 1),
                        status(DomainStates.SHUTOFF, "Crashed", 1L), Map.of(LifecycleAnnotations.STOP_REASON,
                                "Crashed"))), "Failed", "False", "Failed", "True", "True", "False", "False"),
                new Case("destroyed by the agent on request is just stopped", in -> in.host("node-a")
                        .domain(domain(spec(STOP, 1), status(DomainStates.SHUTOFF, "Destroyed", 1L),
                                Map.of(LifecycleAnnotations.STOP_REASON, "Request"))), "Stopped", "False", "Stopped",
                        "True", "True", "False", "False"),
                new Case("paused", in -> in.host("node-a").domain(domain(spec(RUN, 1),
                        status(DomainStates.PAUSED, "User", 1L), null)), "Paused", "False", "Paused", "True", "True",
                        "False/NoPendingChanges", "False"),
                new Case("not defined yet", in -> in.host("node-a").domain(domain(spec(RUN, 1),
                        status(DomainStates.NOT_DEFINED, null, null), null)), "Starting", "False", "Starting", "True",
                        "True", "False", "False"),
                new Case("unknown libvirt state", in -> in.host("node-a").domain(domain(spec(RUN, 1),
                        status(DomainStates.UNKNOWN, null, 1L), null)), "Unknown", "False", "Unknown", "True", "True",
                        "False", "False"),
                new Case("host lost", in -> in.host("node-a").hostLost("heartbeat Lease of host node-a expired")
                        .domain(running(1)), "Unknown", "Unknown", "HostLost", "True", "Unknown/HostLost", "False",
                        "False"),
                new Case("memory changed while running", in -> in.host("node-a").domain(running(1))
                        .restartChanges(List.of("memory", "currentMemory")), "Running", "True", "Running", "True",
                        "True", "True/PendingChanges", "False"),
                new Case("changes of a stopped domain need no restart", in -> in.host("node-a")
                        .domain(domain(spec(STOP, 1), status(DomainStates.SHUTOFF, "Shutdown", 1L), null))
                        .restartChanges(List.of("memory")), "Stopped", "False", "Stopped", "True", "True",
                        "False/NoPendingChanges", "False"));
    }

    record PauseCase(String name, Domain domain, String printable, String paused, String readyContains) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<PauseCase> pauseCases() {
        String pause = DomainSpec.POWER_PAUSED;
        return Stream.of(
                new PauseCase("paused by request", domain(spec(pause, 1), status(DomainStates.PAUSED, "User", 1L),
                        null), "Paused", "True/PausedByUser", "is paused on host node-a by request"),
                new PauseCase("pause asked, agent not there yet", domain(spec(pause, 1),
                        status(DomainStates.RUNNING, null, 1L), null), "Running", "False/NotPaused", "is running"),
                new PauseCase("unpause asked, agent not there yet", domain(spec(RUN, 1),
                        status(DomainStates.PAUSED, "User", 1L), null), "Paused", "True/User",
                        "waiting for the agent on host node-a to resume it"),
                new PauseCase("paused by libvirt on an I/O error", domain(spec(RUN, 1),
                        status(DomainStates.PAUSED, "IOError", 1L), null), "Paused", "True/IOError", "IOError"),
                new PauseCase("running", running(1), "Running", "False/NotPaused", "is running"),
                new PauseCase("stopped while paused", domain(spec(STOP, 1), status(DomainStates.PAUSED, "User", 1L),
                        null), "Stopping", "False/NotPaused", "to stop the domain"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("pauseCases")
    void pausedCondition(PauseCase c) {
        VirtualMachineStatus s = StatusFolder.fold(StatusFolder.input(vm(), NOW).host("node-a").domain(c.domain()));
        assertThat(s.printableStatus).isEqualTo(c.printable());
        expect(s, "Paused", c.paused());
        assertThat(Conditions.find(s.conditions, "Ready").getMessage()).contains(c.readyContains());
        assertThat(Conditions.find(s.conditions, "Ready").getStatus())
                .isEqualTo("Running".equals(c.printable()) ? "True" : "False");
    }

    @Test
    void unpausingSaysUnpausedNotStarted() {
        VirtualMachineStatus paused = StatusFolder.fold(StatusFolder.input(vm(), NOW).host("node-a")
                .domain(domain(spec(DomainSpec.POWER_PAUSED, 1), status(DomainStates.PAUSED, "User", 1L), null)));
        VirtualMachineStatus running = StatusFolder.fold(StatusFolder.input(vm(), NOW).host("node-a")
                .domain(running(1)));
        assertThat(StatusFolder.transitions(running, paused)).extracting(Note::reason).containsExactly("Paused");
        assertThat(StatusFolder.transitions(paused, running)).extracting(Note::reason).containsExactly("Unpaused");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void folds(Case c) {
        VirtualMachineStatus s = StatusFolder.fold(c.input().apply(StatusFolder.input(vm(), NOW).uuid("u-1")));
        assertThat(s.printableStatus).as("printableStatus").isEqualTo(c.printable());
        assertThat(s.conditions).extracting(Condition::getType)
                .containsExactly("Ready", "Scheduled", "Synced", "RestartRequired", "Failure", "Paused");
        expect(s, "Ready", c.ready() + "/" + c.readyReason());
        expect(s, "Scheduled", c.scheduled());
        expect(s, "Synced", c.synced());
        expect(s, "RestartRequired", c.restartRequired());
        expect(s, "Failure", c.failure());
        assertThat(s.uuid).isEqualTo("u-1");
        assertThat(s.observedGeneration).isEqualTo(1L);
    }

    private static void expect(VirtualMachineStatus s, String type, String want) {
        Condition c = Conditions.find(s.conditions, type);
        String[] parts = want.split("/");
        assertThat(c.getStatus()).as(type + " status (" + c.getMessage() + ")").isEqualTo(parts[0]);
        if (parts.length > 1) {
            assertThat(c.getReason()).as(type + " reason").isEqualTo(parts[1]);
        }
        assertThat(c.getLastTransitionTime()).isEqualTo("2026-01-01T12:00:00Z");
        assertThat(c.getObservedGeneration()).isEqualTo(1L);
    }

    /** The host could not make a file of the VM (a wrong image checksum): Failure with the agent's field-named error. */
    @Test
    void aProvisioningFailureOnTheHostIsTheVmsFailure() {
        Domain d = domain(spec(RUN, 1), status(DomainStates.NOT_DEFINED, null, 1L), Map.of());
        d.getStatus().lastError = "spec.disks[0].volume.image.sha256: image http://127.0.0.1/x has SHA-256 b, not a";
        d.getStatus().conditions = List.of(new io.fabric8.kubernetes.api.model.ConditionBuilder().withType("Synced")
                .withStatus("False").withReason(DomainStatus.REASON_PROVISIONING_FAILED)
                .withMessage(d.getStatus().lastError).build());
        io.virtfleet.api.v1alpha1.ImageDownload dl = new io.virtfleet.api.v1alpha1.ImageDownload();
        dl.disk = "root";
        dl.bytes = 5L;
        d.getStatus().imageDownloads = List.of(dl);
        VirtualMachineStatus s = StatusFolder.fold(StatusFolder.input(vm(), NOW).host("node-a").domain(d));
        Condition failure = Conditions.find(s.conditions, "Failure");
        assertThat(failure.getStatus()).isEqualTo("True");
        assertThat(failure.getReason()).isEqualTo("ProvisioningFailed");
        assertThat(failure.getMessage()).isEqualTo("host node-a: " + d.getStatus().lastError);
        assertThat(s.imageDownloads).containsExactly(dl);

        d.getStatus().conditions = List.of();
        assertThat(Conditions.find(StatusFolder.fold(StatusFolder.input(vm(), NOW).host("node-a").domain(d))
                .conditions, "Failure").getStatus()).isEqualTo("False");
    }

    @Test
    void failureNamesTheField() {
        VirtualMachineStatus s = StatusFolder.fold(StatusFolder.input(vm(), NOW)
                .validationErrors(List.of("spec.interfaces[0].macAddress: multicast")));
        assertThat(Conditions.find(s.conditions, "Failure").getMessage())
                .isEqualTo("spec.interfaces[0].macAddress: multicast");
    }

    @Test
    void genidHistoryRecordsCreatedThenAChangeWithTheDomainsReason() {
        Domain d = running(1);
        d.getStatus().genid = "c7a5fdbd-edaf-9455-926a-d65c16db1809";
        VirtualMachine vm = vm();
        VirtualMachineStatus s = StatusFolder.fold(StatusFolder.input(vm, NOW).host("node-a").domain(d));
        assertThat(s.genidHistory).singleElement().satisfies(c -> {
            assertThat(c.genid).isEqualTo("c7a5fdbd-edaf-9455-926a-d65c16db1809");
            assertThat(c.reason).isEqualTo("Created");
            assertThat(c.time).isEqualTo(NOW.toString());
        });
        vm.setStatus(s);
        assertThat(StatusFolder.fold(StatusFolder.input(vm, NOW).host("node-a").domain(d)).genidHistory).hasSize(1);
        d.getStatus().genid = "e9392370-2917-565e-692b-d057f46512d6";
        d.getMetadata().setAnnotations(new java.util.HashMap<>(java.util.Map.of(
                io.virtfleet.reconcilers.genid.GenidPolicy.CHANGE_REASON_ANNOTATION, "SnapshotRestored")));
        s = StatusFolder.fold(StatusFolder.input(vm, NOW.plusSeconds(1)).host("node-a").domain(d));
        assertThat(s.genidHistory).extracting(c -> c.reason).containsExactly("Created", "SnapshotRestored");
        assertThat(s.genid).isEqualTo("e9392370-2917-565e-692b-d057f46512d6");
    }

    @Test
    void aStaleDomainReportOfALowerGenidGenerationNeverBringsAnOlderGenidBack() {
        String g1 = "c7a5fdbd-edaf-9455-926a-d65c16db1809";
        String g2 = "e9392370-2917-565e-692b-d057f46512d6";
        Domain d = running(1);
        d.getStatus().genid = g2;
        d.getStatus().genidGeneration = 2L;
        VirtualMachine vm = vm();
        VirtualMachineStatus s = StatusFolder.fold(StatusFolder.input(vm, NOW).host("node-a").domain(d));
        assertThat(s.genid).isEqualTo(g2);
        assertThat(s.genidGeneration).isEqualTo(2L);
        vm.setStatus(s);
        d.getStatus().genid = g1; // e.g. the definition a revert brought back, reported before it was re-stamped
        d.getStatus().genidGeneration = 1L;
        s = StatusFolder.fold(StatusFolder.input(vm, NOW.plusSeconds(1)).host("node-a").domain(d));
        assertThat(s.genid).isEqualTo(g2);
        assertThat(s.genidGeneration).isEqualTo(2L);
        assertThat(s.genidHistory).extracting(c -> c.genid).containsExactly(g2);
    }

    @Test
    void aClonesFirstGenidIsRecordedAsCloned() {
        Domain d = running(1);
        d.getStatus().genid = "c7a5fdbd-edaf-9455-926a-d65c16db1809";
        VirtualMachine vm = vm();
        vm.getMetadata().setAnnotations(java.util.Map.of(
                io.virtfleet.reconcilers.genid.GenidPolicy.CLONED_FROM_ANNOTATION, "web"));
        VirtualMachineStatus s = StatusFolder.fold(StatusFolder.input(vm, NOW).host("node-a").domain(d));
        assertThat(s.genidHistory).extracting(c -> c.reason).containsExactly("Cloned");
    }

    @Test
    void anExplicitGenidThatChangedIsExplainedInStatus() {
        String initial = "c7a5fdbd-edaf-9455-926a-d65c16db1809";
        Domain d = running(1);
        d.getStatus().genid = initial;
        VirtualMachine vm = vm();
        vm.getSpec().genid = initial.toUpperCase();
        VirtualMachineStatus s = StatusFolder.fold(StatusFolder.input(vm, NOW).host("node-a").domain(d));
        assertThat(s.genidSource).isEqualTo("Spec");
        assertThat(s.genidMessage).isNull();
        vm.setStatus(s);
        d.getStatus().genid = "e9392370-2917-565e-692b-d057f46512d6";
        d.getMetadata().setAnnotations(new java.util.HashMap<>(java.util.Map.of(
                io.virtfleet.reconcilers.genid.GenidPolicy.CHANGE_REASON_ANNOTATION, "SnapshotRestored")));
        s = StatusFolder.fold(StatusFolder.input(vm, NOW.plusSeconds(1)).host("node-a").domain(d));
        assertThat(s.genidSource).isEqualTo("SnapshotRestored");
        assertThat(s.genidMessage).isEqualTo("spec.genid is the initial value (never rewritten); the current "
                + "generation ID changed on SnapshotRestored at " + NOW.plusSeconds(1));
        assertThat(vm.getSpec().genid).isEqualTo(initial.toUpperCase());
    }

    @Test
    void anAutoGenidHasASourceAndNoMessage() {
        Domain d = running(1);
        d.getStatus().genid = "c7a5fdbd-edaf-9455-926a-d65c16db1809";
        VirtualMachineStatus s = StatusFolder.fold(StatusFolder.input(vm(), NOW).host("node-a").domain(d));
        assertThat(s.genidSource).isEqualTo("Generated");
        assertThat(s.genidMessage).isNull();
    }

    @Test
    void foldsIdsDevicesAndGenid() {
        Domain d = running(1);
        d.getStatus().id = 7;
        d.getStatus().genid = "c7a5fdbd-edaf-9455-926a-d65c16db1809";
        d.getStatus().devices.add(new DeviceStatus("root", "disk", "vda", null, "/var/lib/x.qcow2", "Attached"));
        VirtualMachine vm = vm();
        vm.setStatus(new VirtualMachineStatus());
        vm.getStatus().genidHistory.add(new GenidChange("c7a5fdbd-edaf-9455-926a-d65c16db1809", "Created", "t"));
        vm.getStatus().uuid = "old-uuid";
        VirtualMachineStatus s = StatusFolder.fold(StatusFolder.input(vm, NOW).host("node-a").domain(d));
        assertThat(s.domainId).isEqualTo(7);
        assertThat(s.genid).isEqualTo("c7a5fdbd-edaf-9455-926a-d65c16db1809");
        assertThat(s.devices).containsExactly(new DeviceStatus("root", "disk", "vda", null, "/var/lib/x.qcow2",
                "Attached"));
        assertThat(s.genidHistory).hasSize(1);
        assertThat(s.uuid).isEqualTo("old-uuid");
        assertThat(s.host).isEqualTo("node-a");
        d.getStatus().state = DomainStates.SHUTOFF;
        d.getStatus().id = -1;
        assertThat(StatusFolder.fold(StatusFolder.input(vm, NOW).host("node-a").domain(d)).domainId).isEqualTo(-1);
    }

    @Test
    void lastTransitionTimeMovesOnlyWithTheStatus() {
        VirtualMachine vm = vm();
        vm.setStatus(StatusFolder.fold(StatusFolder.input(vm, NOW.minusSeconds(3600)).host("node-a")
                .domain(running(1))));
        // same statuses an hour later, different message: times stay
        Domain d = running(1);
        d.getStatus().id = 9;
        VirtualMachineStatus later = StatusFolder.fold(StatusFolder.input(vm, NOW).host("node-a").domain(d));
        assertThat(later.conditions).extracting(Condition::getLastTransitionTime).containsOnly("2026-01-01T11:00:00Z");
        // Ready flips: only Ready moves
        VirtualMachineStatus stopped = StatusFolder.fold(StatusFolder.input(vm, NOW).host("node-a")
                .domain(domain(spec(STOP, 1), status(DomainStates.SHUTOFF, "Shutdown", 1L), null)));
        assertThat(Conditions.find(stopped.conditions, "Ready").getLastTransitionTime()).isEqualTo("2026-01-01T12:00:00Z");
        assertThat(Conditions.find(stopped.conditions, "Scheduled").getLastTransitionTime())
                .isEqualTo("2026-01-01T11:00:00Z");
    }

    record Transition(String name, VirtualMachineStatus before, VirtualMachineStatus after, List<String> events) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Domain withAgent(Domain d, String status, String reason) {
        d.getStatus().conditions.add(new io.fabric8.kubernetes.api.model.ConditionBuilder()
                .withType("GuestAgentConnected").withStatus(status).withReason(reason).withMessage(reason).build());
        d.getStatus().interfaces = List.of(new io.virtfleet.api.v1alpha1.GuestInterface("default", "enp1s0",
                "52:54:00:00:00:01", List.of("10.0.2.15/24")));
        return d;
    }

    @Test
    void theGuestAgentsReportIsFoldedIntoTheVm() {
        VirtualMachineStatus s = st(in -> in.host("node-a").domain(withAgent(running(1), "True", "Connected")));
        expect(s, "GuestAgentConnected", "True");
        assertThat(s.interfaces).singleElement().satisfies(i -> assertThat(i.ipAddresses)
                .containsExactly("10.0.2.15/24"));
        assertThat(st(in -> in.host("node-a").domain(running(1))).conditions)
                .noneMatch(c -> c.getType().equals("GuestAgentConnected"));
    }

    static VirtualMachineStatus st(UnaryOperator<StatusFolder.Input> f) {
        return StatusFolder.fold(f.apply(StatusFolder.input(vm(), NOW)));
    }

    static Stream<Transition> transitions() {
        Decision noXen = Decision.unschedulable("NoHostWithDriver", "xen", "NoHostWithDriver xen: 0/2 hosts fit");
        VirtualMachineStatus pending = st(in -> in.decision(noXen));
        VirtualMachineStatus scheduling = st(in -> in.host("node-a").domain(domain(spec(RUN, 1), null, null)));
        VirtualMachineStatus running = st(in -> in.host("node-a").domain(running(1)));
        VirtualMachineStatus stopped = st(in -> in.host("node-a").domain(domain(spec(STOP, 1),
                status(DomainStates.SHUTOFF, "Shutdown", 1L), null)));
        VirtualMachineStatus crashed = st(in -> in.host("node-a").domain(domain(spec(RUN, 1),
                status(DomainStates.SHUTOFF, "Crashed", 1L), null)));
        VirtualMachineStatus lost = st(in -> in.host("node-a").hostLost("Lease expired").domain(running(1)));
        VirtualMachineStatus invalid = st(in -> in.validationErrors(List.of("spec.memory: too small")));
        VirtualMachineStatus invalidRunning = st(in -> in.validationErrors(List.of("spec.memory: too small"))
                .host("node-a").domain(running(1)));
        VirtualMachineStatus restartRequired = st(in -> in.host("node-a").domain(running(1))
                .restartChanges(List.of("memory")));
        VirtualMachineStatus migrating = st(in -> in.host("node-a").domain(migrating(running(1))));
        VirtualMachineStatus migrated = st(in -> in.host("node-b").domain(running(1)));
        VirtualMachineStatus agentUp = st(in -> in.host("node-a").domain(withAgent(running(1), "True", "Connected")));
        VirtualMachineStatus agentGone = st(in -> in.host("node-a")
                .domain(withAgent(running(1), "False", "ChannelDisconnected")));
        VirtualMachineStatus agentStopped = st(in -> in.host("node-a").domain(withAgent(domain(spec(STOP, 1),
                status(DomainStates.SHUTOFF, "Shutdown", 1L), null), "False", "NotRunning")));
        return Stream.of(
                new Transition("guest agent connected", running, agentUp, List.of("GuestAgentConnected")),
                new Transition("guest agent stays", agentUp, agentUp, List.of()),
                new Transition("guest agent gone while running", agentUp, agentGone,
                        List.of("GuestAgentDisconnected")),
                new Transition("stopped: the agent goes with the VM, no event of its own", agentUp, agentStopped,
                        List.of("Stopped")),
                new Transition("first look, nothing fits", null, pending, List.of("FailedScheduling")),
                new Transition("same failure again is quiet", pending, pending, List.of()),
                new Transition("scheduled", pending, scheduling, List.of("Scheduled")),
                new Transition("created and scheduled at once", null, scheduling, List.of("Scheduled")),
                new Transition("started", scheduling, running, List.of("Started")),
                new Transition("fast path: the first status already running, one Started for the whole start", null,
                        running, List.of("Started")),
                new Transition("fast path after waiting for a host: one Started", pending, running,
                        List.of("Started")),
                new Transition("slow path: scheduled first, then started (two Events)", null, scheduling,
                        List.of("Scheduled")),
                new Transition("steady", running, running, List.of()),
                new Transition("stopped", running, stopped, List.of("Stopped")),
                new Transition("crashed", running, crashed, List.of("Failed")),
                new Transition("host lost", running, lost, List.of("HostLost")),
                new Transition("host back", lost, running, List.of("HostRecovered", "Started")),
                new Transition("invalid from the start", null, invalid, List.of("ValidationFailed")),
                new Transition("invalid change", running, invalidRunning, List.of("ValidationFailed")),
                new Transition("still invalid", invalidRunning, invalidRunning, List.of()),
                new Transition("restart required", running, restartRequired, List.of("RestartRequired")),
                new Transition("restart required stays", restartRequired, restartRequired, List.of()),
                new Transition("migrating: no event of its own (the migration controller posts Migrating)", running,
                        migrating, List.of()),
                new Transition("migrated: the same QEMU runs on, nothing Started", migrating, migrated, List.of()));
    }

    @Test
    void aStartWhoseFirstStatusIsRunningIsOneEventNamingTheHost() {
        VirtualMachineStatus scheduling = st(in -> in.host("node-a").domain(domain(spec(RUN, 1), null, null)));
        VirtualMachineStatus running = st(in -> in.host("node-a").domain(running(1)));
        assertThat(StatusFolder.transitions(null, running)).singleElement().satisfies(n -> {
            assertThat(n.reason()).isEqualTo("Started");
            assertThat(n.message()).isEqualTo("scheduled to host node-a and started");
        });
        assertThat(StatusFolder.startedAtOnce(null, running)).isTrue();
        // the slow path: Scheduled was told already, Started says what runs
        assertThat(StatusFolder.startedAtOnce(scheduling, running)).isFalse();
        assertThat(StatusFolder.transitions(scheduling, running)).singleElement().satisfies(n ->
                assertThat(n.message()).startsWith("domain").contains("is running on host node-a"));
        assertThat(StatusFolder.startedAtOnce(running, running)).isFalse();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("transitions")
    void events(Transition t) {
        assertThat(StatusFolder.transitions(t.before(), t.after())).extracting(Note::reason)
                .containsExactlyElementsOf(t.events());
    }
}
