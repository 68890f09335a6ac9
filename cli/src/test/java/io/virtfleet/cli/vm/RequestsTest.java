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
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

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

    /** Refusals: the operator's words, from the Domain when readable, else from printableStatus. */
    @ParameterizedTest(name = "{0} {1} {2} domain={3}")
    @CsvSource(nullValues = "-", delimiter = '|', value = {
            "START   | Halted | Stopped | -       | runStrategy Halted keeps the VM stopped; change spec.runStrategy to run it",
            "STOP    | Always | Running | -       | runStrategy Always keeps the VM running; set spec.runStrategy to Manual or Halted to stop it",
            "STOP    | Manual | Running | -       | -",
            "PAUSE   | Manual | Stopped | -       | the VM is not running; only a running VM can be paused",
            "PAUSE   | Always | Running | -       | -",
            "PAUSE   | Always | Running | Stopped | the VM is not running; only a running VM can be paused",
            "PAUSE   | Manual | Stopped | Running | -",
            "UNPAUSE | Manual | Stopped | -       | the VM is not running; start it instead",
            "UNPAUSE | Always | Paused  | -       | -",
            "RESTART | Once   | Stopped | -       | -"})
    void refusals(Verb verb, RunStrategy strategy, String printable, String domainPower, String want) {
        Domain d = domainPower == null ? null : domain(domainPower, 1, "Stopped".equals(domainPower) ? "Shutoff"
                : "Running", 0L, null);
        if (d != null && "Running".equals(domainPower)) {
            d.getSpec().restartGeneration = 2L; // a start is pending
            d.getStatus().state = "Shutoff";
        }
        assertThat(Requests.refusal(verb, vm(strategy, printable, false, false), d)).isEqualTo(want);
    }

    @ParameterizedTest(name = "{0} of a {1} VM")
    @CsvSource(nullValues = "-", delimiter = '|', value = {
            "START   | Running  | false | is already running",
            "START   | Starting | false | is already starting",
            "START   | Stopped  | false | -",
            "STOP    | Stopped  | false | is already stopped",
            "STOP    | Failed   | false | -",
            "PAUSE   | Paused   | true  | is already paused",
            "PAUSE   | Running  | false | -",
            "UNPAUSE | Running  | false | is not paused (it is running)",
            "UNPAUSE | Paused   | true  | -",
            "RESTART | Running  | false | -"})
    void nothingToDo(Verb verb, String printable, boolean paused, String want) {
        assertThat(Requests.nothingToDo(verb, vm(RunStrategy.Manual, printable, false, paused))).isEqualTo(want);
    }

    @ParameterizedTest(name = "{0}: {1} ready={2} paused={3} observed={4} -> {5}")
    @CsvSource(nullValues = "-", delimiter = '|', value = {
            "RESTART | Running | true  | false | 1 | false",
            "RESTART | Running | true  | false | 2 | true",
            "RESTART | Running | false | false | 2 | false",
            "RESTART | Starting| false | false | 2 | false",
            "START   | Running | true  | false | 2 | true",
            "STOP    | Stopped | false | false | 2 | true",
            "STOP    | Stopping| false | false | 2 | false",
            "PAUSE   | Paused  | false | true  | 2 | true",
            "PAUSE   | Paused  | false | false | 2 | false",
            "PAUSE   | Running | true  | false | 2 | false",
            "UNPAUSE | Paused  | false | true  | 2 | false",
            "UNPAUSE | Running | true  | false | 2 | true"})
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
