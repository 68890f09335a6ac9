package io.virtfleet.cli.vm;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.cli.kube.ApiErrors;
import io.virtfleet.cli.kube.Durations;
import io.virtfleet.cli.kube.KubeOptions;
import io.virtfleet.cli.kube.Refusal;
import io.virtfleet.reconcilers.lifecycle.LifecycleAnnotations;
import io.virtfleet.reconcilers.lifecycle.RunStrategyPolicy;
import io.virtfleet.reconcilers.lifecycle.UserRequest.Verb;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code vm start|stop|restart|pause|unpause}: writes the VM's {@link LifecycleAnnotations#REQUEST} annotation with a
 * fresh nonce (what the README's {@code kubectl annotate} does), after refusing what the operator would refuse. With
 * {@code --wait} it waits until the operator acted on that value (the Domain's last-handled-request) and the VM's
 * status shows the outcome, and reports the operator's refusal if there was one.
 */
@Command(mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n")
abstract class RequestCommand implements Callable<Integer> {
    /** The field manager of the CLI's writes (kubectl's is {@code kubectl-client-side-apply}, …). */
    static final String FIELD_MANAGER = "virtfleet-cli";

    @Mixin
    KubeOptions kube;

    @Parameters(index = "0", paramLabel = "VM", description = "Name of the VirtualMachine.")
    String name;

    @Option(names = "--wait", description = "Wait until the request is carried out (see --timeout).")
    boolean wait;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "5m", converter = Durations.Converter.class,
            description = "How long --wait waits, e.g. 90s, 5m (default: ${DEFAULT-VALUE}).")
    Duration timeout;

    @Spec
    CommandSpec spec;

    private final Verb verb;
    /** "restarted", "paused", ... */
    private final String done;
    /** What --wait waits for, e.g. "it to run again". */
    private final String awaited;

    RequestCommand(Verb verb, String done, String awaited) {
        this.verb = verb;
        this.done = done;
        this.awaited = awaited;
    }

    String word() {
        return verb.name().toLowerCase(Locale.ROOT);
    }

    @Override
    public Integer call() {
        String ns = kube.namespace();
        String who = "VirtualMachine " + ns + "/" + name;
        PrintWriter out = spec.commandLine().getOut();
        try (KubernetesClient client = kube.client()) {
            VirtualMachine vm = Vms.require(client, ns, name);
            Domain domain = Vms.domain(client, ns, name);
            boolean domainReadable = domain != null;
            String refusal = Requests.refusal(verb, vm, domain);
            if (refusal != null) {
                throw new Refusal("cannot " + word() + " " + who + ": " + refusal);
            }
            String noop = Requests.nothingToDo(verb, vm);
            if (noop != null) {
                out.println(who + " " + noop + "; nothing to do");
                return Refusal.OK;
            }
            String value = word() + "/" + System.currentTimeMillis();
            Integer idBefore = vm.getStatus() != null ? vm.getStatus().domainId : null;
            request(client, ns, value, who);
            if (!wait) {
                out.println(who + ": " + word() + " requested (" + LifecycleAnnotations.REQUEST + "=" + value
                        + "); --wait waits for " + awaited);
                return Refusal.OK;
            }
            long deadline = System.nanoTime() + timeout.toNanos();
            Long restartGeneration = null;
            if (domainReadable) {
                Domain handled = Vms.await(left(deadline), "the operator to act on " + value,
                        () -> {
                            Domain d = Vms.domain(client, ns, name);
                            return Requests.handled(d, value) ? d : null;
                        }, () -> "not acted on (is the virtfleet operator running?)");
                restartGeneration = handled.getSpec() != null ? handled.getSpec().restartGeneration : null;
            }
            String rejected = Vms.warning(client, ns, name, RunStrategyPolicy.REQUEST_REJECTED, value + " rejected");
            if (rejected != null) {
                throw new Refusal("the operator refused: " + rejected);
            }
            Long gen = restartGeneration;
            VirtualMachine[] last = {vm};
            VirtualMachine finished = Vms.await(left(deadline), who + " to be " + done, () -> {
                VirtualMachine now = Vms.require(client, ns, name);
                last[0] = now;
                Domain d = domainReadable ? Vms.domain(client, ns, name) : null;
                return Requests.done(verb, now, d, gen, idBefore) ? now : null;
            }, () -> Requests.describe(last[0]));
            out.println(who + " " + done + ": " + Requests.describe(finished));
            return Refusal.OK;
        }
    }

    private void request(KubernetesClient client, String ns, String value, String who) {
        String patch = "{\"metadata\":{\"annotations\":{\"" + LifecycleAnnotations.REQUEST + "\":\"" + value + "\"}}}";
        try {
            client.resources(VirtualMachine.class).inNamespace(ns).withName(name)
                    .patch(new PatchContext.Builder().withPatchType(PatchType.JSON_MERGE)
                            .withFieldManager(FIELD_MANAGER).build(), patch);
        } catch (KubernetesClientException e) {
            throw ApiErrors.refusal("cannot " + word() + " " + who, e);
        }
    }

    private static Duration left(long deadline) {
        return Duration.ofNanos(Math.max(0, deadline - System.nanoTime()));
    }

    @Command(name = "start",
            description = {"Starts a VirtualMachine (runStrategy Manual, RerunOnFailure or Once after it stopped; "
                    + "resumes a paused one).", "Refused for runStrategy Halted: change spec.runStrategy instead."},
            footer = {"  virtfleet vm start web-1", "  virtfleet vm start web-1 -n prod --wait --timeout 2m",
                    "  kubectl virtfleet vm start web-1 --context staging"})
    static final class Start extends RequestCommand {
        Start() {
            super(Verb.START, "running", "it to run");
        }
    }

    @Command(name = "stop",
            description = {"Stops a VirtualMachine: ACPI power button, destroyed after the shutdown timeout.",
                    "Refused for runStrategy Always (it would be restarted): set spec.runStrategy to Manual or Halted."},
            footer = {"  virtfleet vm stop web-1", "  virtfleet vm stop web-1 --wait"})
    static final class Stop extends RequestCommand {
        Stop() {
            super(Verb.STOP, "stopped", "it to stop");
        }
    }

    @Command(name = "restart",
            description = {"Restarts a VirtualMachine: the guest shuts down, a new QEMU process starts with the same "
                    + "UUID, MACs and generation ID; changes marked RestartRequired take effect."},
            footer = {"  virtfleet vm restart web-1 --wait", "  virtfleet vm restart web-1 -n prod --timeout 10m --wait"})
    static final class Restart extends RequestCommand {
        Restart() {
            super(Verb.RESTART, "restarted", "it to run again");
        }
    }

    @Command(name = "pause",
            description = {"Pauses a running VirtualMachine (libvirt suspend): the QEMU process and the guest's memory "
                    + "stay, its vCPUs stop. printableStatus Paused, condition Paused."},
            footer = {"  virtfleet vm pause web-1 --wait", "  virtfleet vm unpause web-1"})
    static final class Pause extends RequestCommand {
        Pause() {
            super(Verb.PAUSE, "paused", "it to be paused");
        }
    }

    @Command(name = "unpause",
            description = {"Resumes a paused VirtualMachine (libvirt resume): the same QEMU process runs on."},
            footer = {"  virtfleet vm unpause web-1 --wait"})
    static final class Unpause extends RequestCommand {
        Unpause() {
            super(Verb.UNPAUSE, "unpaused", "it to run");
        }
    }
}
