package io.virtfleet.cli.host;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.virtfleet.api.v1alpha1.ApiGroup;
import io.virtfleet.api.v1alpha1.Host;
import io.virtfleet.api.v1alpha1.HostDrainStatus;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.cli.Table;
import io.virtfleet.cli.kube.ApiErrors;
import io.virtfleet.cli.kube.Durations;
import io.virtfleet.cli.kube.KubeOptions;
import io.virtfleet.cli.kube.Refusal;
import io.virtfleet.cli.vm.VmCommand;
import io.virtfleet.reconcilers.lifecycle.HostView;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code virtfleet host list|cordon|uncordon|drain|undrain}: the fleet's hosts, as {@code kubectl get nodes|cordon|drain}
 * are for nodes. Cordoning sets {@code Host.spec.unschedulable} (the scheduler skips such a host; its VMs keep
 * running); draining sets {@code Host.spec.drain}, the declarative drain the operator carries out.
 */
@Command(name = "host", mixinStandardHelpOptions = true,
        description = "Lists the fleet's hosts, keeps new VMs off one (cordon) or moves its VMs away (drain).",
        subcommands = {HostCommand.ListHosts.class, HostCommand.Cordon.class, HostCommand.Uncordon.class,
                HostCommand.Drain.class, HostCommand.Undrain.class},
        footerHeading = "%nExamples:%n",
        footer = {"  virtfleet host list", "  virtfleet host cordon node-a", "  virtfleet host uncordon node-a",
                "  virtfleet host drain node-a --wait", "  virtfleet host undrain node-a"})
public final class HostCommand implements Runnable {
    static final String FIELD_MANAGER = "virtfleet-cli";

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    static Host require(KubernetesClient client, String name) {
        Host host;
        try {
            host = client.resources(Host.class).withName(name).get();
        } catch (KubernetesClientException e) {
            throw ApiErrors.refusal("cannot read Host " + name, e);
        }
        if (host == null) {
            throw new Refusal("Host " + name + " not found (virtfleet host list shows the hosts)");
        }
        return host;
    }

    /** The VMs assigned to {@code host} in every namespace, or null when the user may not list them all. */
    static List<VirtualMachine> vmsOn(KubernetesClient client, String host) {
        try {
            return client.resources(VirtualMachine.class).inAnyNamespace().list().getItems().stream()
                    .filter(v -> v.getStatus() != null && host.equals(v.getStatus().host))
                    .sorted(Comparator.comparing((VirtualMachine v) -> v.getMetadata().getNamespace())
                            .thenComparing(v -> v.getMetadata().getName()))
                    .toList();
        } catch (KubernetesClientException e) {
            if (e.getCode() == 403) {
                return null;
            }
            throw ApiErrors.refusal("cannot list VirtualMachines", e);
        }
    }

    static void setUnschedulable(KubernetesClient client, String name, boolean value, String doing) {
        setSpecFlag(client, name, "unschedulable", value, doing);
    }

    /** A JSON merge patch of one boolean of Host.spec (false removes it), as the CLI's field manager. */
    static void setSpecFlag(KubernetesClient client, String name, String field, boolean value, String doing) {
        String patch = "{\"spec\":{\"" + field + "\":" + (value ? "true" : "null") + "}}";
        try {
            client.resources(Host.class).withName(name).patch(new PatchContext.Builder()
                    .withPatchType(PatchType.JSON_MERGE).withFieldManager(FIELD_MANAGER).build(), patch);
        } catch (KubernetesClientException e) {
            throw ApiErrors.refusal("cannot " + doing + " Host " + name, e);
        }
    }

    /**
     * Sets {@code Host.spec.unschedulable} to {@code cordoned} unless it already is (then says so: asking for what is
     * already true succeeds); {@code done} says what changed, after the change.
     */
    static int cordon(KubernetesClient client, String name, boolean cordoned, PrintWriter out,
                      java.util.function.Supplier<String> done) {
        Host h = require(client, name);
        if (HostView.of(h, null).unschedulable() == cordoned) {
            out.println("Host " + name + (cordoned ? " is already cordoned" : " is not cordoned") + "; nothing to do");
            return Refusal.OK;
        }
        setUnschedulable(client, name, cordoned, cordoned ? "cordon" : "uncordon");
        out.println("Host " + name + " " + done.get());
        return Refusal.OK;
    }

    static String count(List<VirtualMachine> vms) {
        return vms == null ? "its VMs keep running" : vms.isEmpty() ? "no VMs run there"
                : vms.size() == 1 ? "its 1 VM keeps running" : "its " + vms.size() + " VMs keep running";
    }

    @Command(name = "list", aliases = "ls", mixinStandardHelpOptions = true,
            description = "Lists the hosts: heartbeat, schedulable, drivers, CPUs, memory, VMs.",
            footerHeading = "%nExamples:%n", footer = {"  virtfleet host list", "  kubectl virtfleet host list"})
    static final class ListHosts implements Callable<Integer> {
        @Mixin
        KubeOptions kube;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            try (KubernetesClient client = kube.client()) {
                List<Host> hosts;
                try {
                    hosts = new ArrayList<>(client.resources(Host.class).list().getItems());
                } catch (KubernetesClientException e) {
                    throw ApiErrors.refusal("cannot list Hosts", e);
                }
                if (hosts.isEmpty()) {
                    spec.commandLine().getOut().println("No Hosts found (each host's virtfleet agent registers one).");
                    return Refusal.OK;
                }
                hosts.sort(Comparator.comparing(h -> h.getMetadata().getName()));
                List<VirtualMachine> all;
                try {
                    all = client.resources(VirtualMachine.class).inAnyNamespace().list().getItems();
                } catch (KubernetesClientException e) {
                    all = null;
                }
                Instant now = Instant.now();
                Table t = new Table("NAME", "READY", "SCHEDULABLE", "DRIVERS", "CPUS", "MEMORY", "VMS", "AGE");
                for (Host h : hosts) {
                    String name = h.getMetadata().getName();
                    String ready;
                    try {
                        Lease lease = client.leases().inNamespace(ApiGroup.SYSTEM_NAMESPACE)
                                .withName(ApiGroup.leaseName(name)).get();
                        ready = HostView.of(h, lease).isReady(now) ? "True" : "False";
                    } catch (KubernetesClientException e) {
                        ready = "Unknown"; // the heartbeat Lease is not readable with these credentials
                    }
                    HostView v = HostView.of(h, null);
                    long vms = all == null ? -1 : all.stream()
                            .filter(vm -> vm.getStatus() != null && name.equals(vm.getStatus().host)).count();
                    t.row(List.of(name, ready, v.draining() ? "No (draining)" : v.unschedulable() ? "No (cordoned)" : "Yes",
                            v.drivers().isEmpty() ? "-" : String.join(",", v.drivers()),
                            v.cpus() == null ? "-" : v.cpus().toString(),
                            h.getStatus() == null || h.getStatus().memory == null ? "-"
                                    : h.getStatus().memory.toString(),
                            vms < 0 ? "-" : Long.toString(vms), Table.age(h.getMetadata().getCreationTimestamp(), now)));
                }
                t.print(spec.commandLine().getOut());
                return Refusal.OK;
            }
        }
    }

    @Command(name = "cordon",
            description = {"Marks a host unschedulable (Host.spec.unschedulable: true): no new VMs are placed there; "
                    + "the VMs on it keep running."},
            footer = {"  virtfleet host cordon node-a"})
    static final class Cordon extends OnOneHost {
        @Override
        int call(KubernetesClient client, PrintWriter out) {
            return cordon(client, name, true, out,
                    () -> "cordoned: no new VMs are scheduled there; " + count(vmsOn(client, name)));
        }
    }

    @Command(name = "uncordon",
            description = "Makes a cordoned host schedulable again (removes Host.spec.unschedulable).",
            footer = {"  virtfleet host uncordon node-a"})
    static final class Uncordon extends OnOneHost {
        @Override
        int call(KubernetesClient client, PrintWriter out) {
            return cordon(client, name, false, out, () -> "uncordoned: new VMs may be scheduled there again");
        }
    }

    @Command(name = "drain",
            description = {"Drains a host for maintenance: sets Host.spec.drain (the same field a GitOps repository "
                    + "can carry). The operator then schedules nothing new there and moves each running VM away per "
                    + "its spec.evictionStrategy: LiveMigrate (default) live-migrates it, Stop stops it until the "
                    + "undrain, None leaves it running. Host.status.drain lists what it could not move, and why.",
                    "Stopped VMs stay assigned to the host. `virtfleet host undrain` reverses it."},
            footer = {"  virtfleet host drain node-a --wait --timeout 30m",
                    "  kubectl get vfhost node-a -o jsonpath='{.status.drain}'"})
    static final class Drain extends OnOneHost {
        @Option(names = "--wait", description = "Wait until the drain is Drained (exit 0), or until only VMs it "
                + "will not move are left (exit 1, listing them and why; a VM whose migration failed is retried and "
                + "waited for until --timeout).")
        boolean wait;

        @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "30m",
                converter = Durations.Converter.class, description = "How long --wait waits (default: ${DEFAULT-VALUE}).")
        Duration timeout;

        @Override
        int call(KubernetesClient client, PrintWriter out) {
            Host h = require(client, name);
            if (!VmCommand.served(client, "virtualmachinemigrations")) {
                throw new Refusal("cannot drain Host " + name + ": " + VmCommand.NOT_SUPPORTED
                        + "; `virtfleet host cordon " + name + "` keeps new VMs off it");
            }
            if (h.getSpec() != null && Boolean.TRUE.equals(h.getSpec().drain)) {
                out.println("Host " + name + " is already draining");
            } else {
                setDrain(client, name, true);
                Host now = require(client, name);
                if (now.getSpec() == null || !Boolean.TRUE.equals(now.getSpec().drain)) {
                    throw new Refusal("cannot drain Host " + name + ": the cluster's Host CRD has no spec.drain "
                            + "(the apiserver dropped the field); install this version's CRDs (deploy/base)");
                }
                out.println("Host " + name + " draining (spec.drain: true): no new VMs; its running VMs move "
                        + "away per their evictionStrategy");
            }
            if (!wait) {
                out.println("follow it with: virtfleet host drain " + name + " --wait, or kubectl get vfhost "
                        + name + " -o jsonpath='{.status.drain}'");
                return Refusal.OK;
            }
            return awaitDrain(client, out);
        }

        private Integer awaitDrain(KubernetesClient client, PrintWriter out) {
            long deadline = System.nanoTime() + timeout.toNanos();
            String lastMessage = null;
            while (true) {
                Host h = require(client, name);
                HostDrainStatus st = h.getStatus() != null ? h.getStatus().drain : null;
                if (st != null && st.message != null && !st.message.equals(lastMessage)) {
                    out.println("Host " + name + ": " + (st.phase != null ? st.phase + ": " : "") + st.message);
                    out.flush();
                    lastMessage = st.message;
                }
                if (st != null && HostDrainStatus.DRAINED.equals(st.phase)) {
                    for (HostDrainStatus.Vm v : st.vms) {
                        out.println("  " + v.namespace + "/" + v.name + ": " + v.state + (v.message != null ? " ("
                                + v.message + ")" : ""));
                    }
                    out.println("Host " + name + " drained");
                    return Refusal.OK;
                }
                // Incomplete for good: only VMs the drain will not try again (evictionStrategy None) are left. One
                // whose migration was refused or failed is retried (retryTime), which may still succeed.
                if (st != null && HostDrainStatus.INCOMPLETE.equals(st.phase)
                        && st.vms.stream().noneMatch(v -> v.retryTime != null)) {
                    List<String> left = new ArrayList<>();
                    for (HostDrainStatus.Vm v : st.vms) {
                        if (HostDrainStatus.Vm.NOT_MOVED.equals(v.state)) {
                            left.add("VirtualMachine " + v.namespace + "/" + v.name + ": " + v.message);
                        }
                    }
                    throw new Refusal("drain of Host " + name + " incomplete (" + st.message + "): "
                            + String.join("; ", left) + "; the host stays draining (undrain: virtfleet host undrain "
                            + name + ")");
                }
                if (System.nanoTime() > deadline) {
                    throw new Refusal("timed out waiting for the drain of Host " + name + " ("
                            + (st == null ? "the operator has not reported on it yet" : st.phase + ": " + st.message)
                            + "); it goes on");
                }
                sleep();
            }
        }

        private static void sleep() {
            try {
                Thread.sleep(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new Refusal("interrupted");
            }
        }
    }

    @Command(name = "undrain",
            description = {"Ends a host's drain (removes Host.spec.drain): it takes new VMs again, unfinished drain "
                    + "migrations are cancelled and VMs the drain stopped start again. VMs it moved stay where they "
                    + "are. A cordon (spec.unschedulable) is separate and stays."},
            footer = {"  virtfleet host undrain node-a"})
    static final class Undrain extends OnOneHost {
        @Override
        int call(KubernetesClient client, PrintWriter out) {
            Host h = require(client, name);
            if (h.getSpec() == null || !Boolean.TRUE.equals(h.getSpec().drain)) {
                out.println("Host " + name + " is not draining; nothing to do");
                return Refusal.OK;
            }
            setDrain(client, name, false);
            out.println("Host " + name + " undrained: new VMs may be scheduled there again"
                    + (HostView.of(h, null).unschedulable() ? " once it is uncordoned (it is also cordoned)" : ""));
            return Refusal.OK;
        }
    }

    static void setDrain(KubernetesClient client, String name, boolean value) {
        setSpecFlag(client, name, "drain", value, value ? "drain" : "undrain");
    }

    /**
     * What every subcommand acting on one named Host shares; picocli collects annotated fields from superclasses too,
     * and takes the superclass's {@code @Command} attributes a subclass does not set, so the subcommands inherit the
     * mixin, the HOST parameter, the spec injection, the help options and the examples heading.
     */
    @Command(mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n")
    abstract static class OnOneHost implements Callable<Integer> {
        @Mixin
        KubeOptions kube;

        @Parameters(index = "0", paramLabel = "HOST", description = "Name of the Host.")
        String name;

        @Spec
        CommandSpec spec;

        @Override
        public final Integer call() {
            try (KubernetesClient client = kube.client()) {
                return call(client, spec.commandLine().getOut());
            }
        }

        /** The subcommand, with a client of the user's kubeconfig (closed after it) and the output. */
        abstract int call(KubernetesClient client, PrintWriter out);
    }
}
