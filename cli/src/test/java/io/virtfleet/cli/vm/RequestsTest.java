package io.virtfleet.cli.vm;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.DomainSpec;
import io.virtfleet.api.v1alpha1.DomainStatus;
import io.virtfleet.api.v1alpha1.RunStrategy;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.api.v1alpha1.VirtualMachineSpec;
import io.virtfleet.api.v1alpha1.VirtualMachineStatus;
import io.virtfleet.reconcilers.lifecycle.UserRequest.Verb;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

class RequestsTest {
    static VirtualMachine vm(RunStrategy strategy, String printable, boolean ready, boolean paused) {
        VirtualMachine vm = new VirtualMachine();
        vm.setMetadata(new ObjectMetaBuilder().withName("web-1").withNamespace("default").withGeneration(3L).build());
        vm.setSpec(new VirtualMachineSpec());
        vm.getSpec().runStrategy = strategy;
        if (printable != null) {
            vm.setStatus(new VirtualMachineStatus());
            vm.getStatus().printableStatus = printable;
            vm.getStatus().observedGeneration = 3L;
            vm.getStatus().domainId = 7;
            List<Condition> c = new ArrayList<>();
            c.add(condition("Ready", ready));
            c.add(condition("Paused", paused));
            vm.getStatus().conditions = c;
        }
        return vm;
    }

    static Condition condition(String type, boolean value) {
        Condition c = new Condition();
        c.setType(type);
        c.setStatus(value ? "True" : "False");
        return c;
    }

    static Domain domain(String power, long gen, String state, Long observed, String handled) {
        Domain d = new Domain();
        d.setMetadata(new ObjectMetaBuilder().withName("web-1").withAnnotations(handled == null ? Map.of()
                : Map.of("virtfleet.io/last-handled-request", handled)).build());
        d.setSpec(new DomainSpec());
        d.getSpec().powerState = power;
        d.getSpec().restartGeneration = gen;
        if (state != null) {
            d.setStatus(new DomainStatus());
            d.getStatus().state = state;
            d.getStatus().observedRestartGeneration = observed;
        }
        return d;
    }

    // The tables are typed rows (verbs, run strategies and nulls checked by the compiler, not parsed from text).

    /** Refusals: the operator's words, from the Domain when readable, else from printableStatus. */
    static Stream<Arguments> refusals() {
        return Stream.of(
                arguments(Verb.START, RunStrategy.Halted, "Stopped", null,
                        "runStrategy Halted keeps the VM stopped; change spec.runStrategy to run it"),
                arguments(Verb.STOP, RunStrategy.Always, "Running", null,
                        "runStrategy Always keeps the VM running; set spec.runStrategy to Manual or Halted to stop it"),
                arguments(Verb.STOP, RunStrategy.Manual, "Running", null, null),
                arguments(Verb.PAUSE, RunStrategy.Manual, "Stopped", null,
                        "the VM is not running; only a running VM can be paused"),
                arguments(Verb.PAUSE, RunStrategy.Always, "Running", null, null),
                arguments(Verb.PAUSE, RunStrategy.Always, "Running", "Stopped",
                        "the VM is not running; only a running VM can be paused"),
                arguments(Verb.PAUSE, RunStrategy.Manual, "Stopped", "Running", null),
                arguments(Verb.UNPAUSE, RunStrategy.Manual, "Stopped", null, "the VM is not running; start it instead"),
                arguments(Verb.UNPAUSE, RunStrategy.Always, "Paused", null, null),
                arguments(Verb.RESTART, RunStrategy.Once, "Stopped", null, null));
    }

    @ParameterizedTest(name = "{0} {1} {2} domain={3}")
    @MethodSource
    void refusals(Verb verb, RunStrategy strategy, String printable, String domainPower, String want) {
        Domain d = domainPower == null ? null : domain(domainPower, 1, "Stopped".equals(domainPower) ? "Shutoff"
                : "Running", 0L, null);
        if (d != null && "Running".equals(domainPower)) {
            d.getSpec().restartGeneration = 2L; // a start is pending
            d.getStatus().state = "Shutoff";
        }
        assertThat(Requests.refusal(verb, vm(strategy, printable, false, false), d)).isEqualTo(want);
    }

    static Stream<Arguments> nothingToDo() {
        return Stream.of(
                arguments(Verb.START, "Running", false, "is already running"),
                arguments(Verb.START, "Starting", false, "is already starting"),
                arguments(Verb.START, "Stopped", false, null),
                arguments(Verb.STOP, "Stopped", false, "is already stopped"),
                arguments(Verb.STOP, "Failed", false, null),
                arguments(Verb.PAUSE, "Paused", true, "is already paused"),
                arguments(Verb.PAUSE, "Running", false, null),
                arguments(Verb.UNPAUSE, "Running", false, "is not paused (it is running)"),
                arguments(Verb.UNPAUSE, "Paused", true, null),
                arguments(Verb.RESTART, "Running", false, null));
    }

    @ParameterizedTest(name = "{0} of a {1} VM")
    @MethodSource
    void nothingToDo(Verb verb, String printable, boolean paused, String want) {
        assertThat(Requests.nothingToDo(verb, vm(RunStrategy.Manual, printable, false, paused))).isEqualTo(want);
    }

    static Stream<Arguments> done() {
        return Stream.of(
                arguments(Verb.RESTART, "Running", true, false, 1L, false),
                arguments(Verb.RESTART, "Running", true, false, 2L, true),
                arguments(Verb.RESTART, "Running", false, false, 2L, false),
                arguments(Verb.RESTART, "Starting", false, false, 2L, false),
                arguments(Verb.START, "Running", true, false, 2L, true),
                arguments(Verb.STOP, "Stopped", false, false, 2L, true),
                arguments(Verb.STOP, "Stopping", false, false, 2L, false),
                arguments(Verb.PAUSE, "Paused", false, true, 2L, true),
                arguments(Verb.PAUSE, "Paused", false, false, 2L, false),
                arguments(Verb.PAUSE, "Running", true, false, 2L, false),
                arguments(Verb.UNPAUSE, "Paused", false, true, 2L, false),
                arguments(Verb.UNPAUSE, "Running", true, false, 2L, true));
    }

    @ParameterizedTest(name = "{0}: {1} ready={2} paused={3} observed={4} -> {5}")
    @MethodSource
    void done(Verb verb, String printable, boolean ready, boolean paused, long observed, boolean want) {
        Domain d = domain("Running", 2, "Running", observed, null);
        assertThat(Requests.done(verb, vm(RunStrategy.Always, printable, ready, paused), d, 2L, 7)).isEqualTo(want);
    }

    @org.junit.jupiter.api.Test
    void restartWithoutAReadableDomainWaitsForANewLibvirtId() {
        VirtualMachine vm = vm(RunStrategy.Always, "Running", true, false);
        assertThat(Requests.done(Verb.RESTART, vm, null, null, 7)).isFalse();
        vm.getStatus().domainId = 8;
        assertThat(Requests.done(Verb.RESTART, vm, null, null, 7)).isTrue();
    }

    @org.junit.jupiter.api.Test
    void aStaleStatusIsNotAnAnswer() {
        VirtualMachine vm = vm(RunStrategy.Always, "Stopped", false, false);
        vm.getStatus().observedGeneration = 2L;
        assertThat(Requests.done(Verb.STOP, vm, null, null, null)).isFalse();
    }

    @org.junit.jupiter.api.Test
    void handledIsTheDomainsLastHandledRequest() {
        assertThat(Requests.handled(domain("Running", 1, null, null, "restart/5"), "restart/5")).isTrue();
        assertThat(Requests.handled(domain("Running", 1, null, null, "restart/4"), "restart/5")).isFalse();
        assertThat(Requests.handled(null, "restart/5")).isFalse();
    }
}
