package io.virtfleet.cli.vm;

import io.fabric8.kubernetes.api.model.Condition;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.DomainSpec;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.api.v1alpha1.VirtualMachineStatus;
import io.virtfleet.reconcilers.lifecycle.Conditions;
import io.virtfleet.reconcilers.lifecycle.DomainStates;
import io.virtfleet.reconcilers.lifecycle.LifecycleAnnotations;
import io.virtfleet.reconcilers.lifecycle.PrintableStatus;
import io.virtfleet.reconcilers.lifecycle.RunStrategyPolicy;
import io.virtfleet.reconcilers.lifecycle.StatusFolder;
import io.virtfleet.reconcilers.lifecycle.UserRequest.Verb;

import java.util.Set;

/**
 * The CLI's reading of a lifecycle request, pure: whether to refuse it before writing anything (with the operator's
 * own words, {@link RunStrategyPolicy#rejection}), whether there is nothing to do, and when a waited-for request is
 * done. What it reads is what a person sees: the VM's status, and the Domain (readable by anyone who may view VMs)
 * for whether the operator has acted on the request.
 */
final class Requests {
    /** printableStatus values that mean "a QEMU process runs or is about to" (the policy's "running"). */
    private static final Set<String> RUNNING_LIKE = Set.of(PrintableStatus.RUNNING, PrintableStatus.PAUSED,
            PrintableStatus.STARTING, PrintableStatus.MIGRATING, PrintableStatus.UNKNOWN);

    private Requests() {
    }

    static String printable(VirtualMachine vm) {
        VirtualMachineStatus s = vm.getStatus();
        return s == null || s.printableStatus == null ? PrintableStatus.PENDING : s.printableStatus;
    }

    /**
     * Whether the policy would see the VM as running: from the Domain when it can be read (exactly the operator's
     * test), else from printableStatus.
     */
    static boolean running(VirtualMachine vm, Domain domain) {
        if (domain != null && domain.getSpec() != null) {
            String power = DomainStates.powerState(domain.getSpec());
            String state = domain.getStatus() != null ? domain.getStatus().state : null;
            return !DomainSpec.POWER_STOPPED.equals(power)
                    && (DomainStates.isActive(state) || DomainStates.startPending(domain.getSpec(), domain.getStatus()));
        }
        return RUNNING_LIKE.contains(printable(vm));
    }

    /** Why the request is refused before anything is written; null to go ahead. */
    static String refusal(Verb verb, VirtualMachine vm, Domain domain) {
        if (vm.getMetadata().getDeletionTimestamp() != null) {
            return "the VirtualMachine is being deleted";
        }
        return RunStrategyPolicy.rejection(vm.getSpec() != null ? vm.getSpec().runStrategy : null, verb,
                running(vm, domain));
    }

    /** A sentence when the VM already is what the request asks for (nothing is written); else null. */
    static String nothingToDo(Verb verb, VirtualMachine vm) {
        String ps = printable(vm);
        return switch (verb) {
            case START -> PrintableStatus.RUNNING.equals(ps) || PrintableStatus.MIGRATING.equals(ps)
                    ? "is already running" : PrintableStatus.STARTING.equals(ps) ? "is already starting" : null;
            case STOP -> PrintableStatus.STOPPED.equals(ps) ? "is already stopped" : null;
            case PAUSE -> PrintableStatus.PAUSED.equals(ps) && Conditions.isTrue(conditions(vm), StatusFolder.PAUSED)
                    ? "is already paused" : null;
            case UNPAUSE -> PrintableStatus.RUNNING.equals(ps) ? "is not paused (it is running)" : null;
            default -> null;
        };
    }

    /** The Domain annotation the operator writes once it acted on (or rejected) a request value. */
    static boolean handled(Domain domain, String value) {
        return domain != null && domain.getMetadata().getAnnotations() != null
                && value.equals(domain.getMetadata().getAnnotations().get(LifecycleAnnotations.LAST_HANDLED_REQUEST));
    }

    /**
     * Whether a handled request is carried out, as the VM's status shows it.
     *
     * @param domain           the Domain now (null when it cannot be read)
     * @param restartGeneration for restart/start: the Domain's spec.restartGeneration right after the request was
     *                          handled (the agent must have observed at least that); null when unknown
     * @param domainIdBefore   for restart without a readable Domain: the libvirt id before the request
     */
    static boolean done(Verb verb, VirtualMachine vm, Domain domain, Long restartGeneration, Integer domainIdBefore) {
        String ps = printable(vm);
        boolean ready = Conditions.isTrue(conditions(vm), StatusFolder.READY);
        boolean current = vm.getStatus() != null && vm.getMetadata().getGeneration() != null
                && vm.getMetadata().getGeneration().equals(vm.getStatus().observedGeneration);
        return current && switch (verb) {
            case START, UNPAUSE -> PrintableStatus.RUNNING.equals(ps) && ready && observed(domain, restartGeneration);
            case RESTART -> PrintableStatus.RUNNING.equals(ps) && ready && (domain != null
                    ? observed(domain, restartGeneration)
                    : domainIdBefore == null || !domainIdBefore.equals(vm.getStatus().domainId));
            case STOP -> PrintableStatus.STOPPED.equals(ps) || PrintableStatus.FAILED.equals(ps);
            case PAUSE -> PrintableStatus.PAUSED.equals(ps) && Conditions.isTrue(conditions(vm), StatusFolder.PAUSED);
            default -> false;
        };
    }

    private static boolean observed(Domain domain, Long restartGeneration) {
        if (domain == null || restartGeneration == null) {
            return true;
        }
        Long seen = domain.getStatus() != null ? domain.getStatus().observedRestartGeneration : null;
        return seen != null && seen >= restartGeneration;
    }

    /**
     * {@code Running on host a (domain 7)}: the state in a few words; for an in-between or failed state with the
     * Ready condition's message, which says what is awaited or went wrong.
     */
    static String describe(VirtualMachine vm) {
        VirtualMachineStatus s = vm.getStatus();
        String ps = printable(vm);
        StringBuilder b = new StringBuilder(ps);
        if (s != null && s.host != null) {
            b.append(" on host ").append(s.host);
        }
        if (s != null && s.domainId != null && s.domainId > 0) {
            b.append(" (domain ").append(s.domainId).append(')');
        }
        Condition ready = Conditions.find(conditions(vm), StatusFolder.READY);
        boolean plain = Set.of(PrintableStatus.RUNNING, PrintableStatus.PAUSED, PrintableStatus.STOPPED).contains(ps);
        if (!plain && ready != null && !Conditions.TRUE.equals(ready.getStatus()) && ready.getMessage() != null
                && !ready.getMessage().isBlank()) {
            b.append(": ").append(ready.getMessage());
        }
        return b.toString();
    }

    private static java.util.List<Condition> conditions(VirtualMachine vm) {
        return vm.getStatus() == null ? java.util.List.of() : vm.getStatus().conditions;
    }
}
