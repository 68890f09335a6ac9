package io.virtfleet.cli.host;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.virtfleet.api.v1alpha1.ApiGroup;
import io.virtfleet.api.v1alpha1.Host;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.cli.Table;
import io.virtfleet.cli.kube.ApiErrors;
import io.virtfleet.cli.kube.Durations;
import io.virtfleet.cli.kube.KubeOptions;
import io.virtfleet.cli.kube.Refusal;
import io.virtfleet.cli.vm.VmCommand;
import io.virtfleet.reconcilers.lifecycle.HostView;
import io.virtfleet.reconcilers.lifecycle.PrintableStatus;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code virtfleet host list|cordon|uncordon|drain}: the fleet's hosts, as {@code kubectl get nodes|cordon|drain} are
 * for nodes. Cordoning sets {@code Host.spec.unschedulable} (the scheduler skips such a host; its VMs keep running).
 */
@Command(name = "host", mixinStandardHelpOptions = true,
        description = "Lists the fleet's hosts, keeps new VMs off one (cordon) or moves its VMs away (drain).",
        subcommands = {HostCommand.ListHosts.class, HostCommand.Cordon.class, HostCommand.Uncordon.class,
                HostCommand.Drain.class},
        footerHeading = "%nExamples:%n",
        footer = {"  virtfleet host list", "  virtfleet host cordon node-a", "  virtfleet host uncordon node-a",
                "  virtfleet host drain node-a --wait"})
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
        String patch = "{\"spec\":{\"unschedulable\":" + (value ? "true" : "null") + "}}";
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
                    t.row(List.of(name, ready, v.unschedulable() ? "No (cordoned)" : "Yes",
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

    @Command(name = "cordon", mixinStandardHelpOptions = true,
            description = {"Marks a host unschedulable (Host.spec.unschedulable: true): no new VMs are placed there; "
                    + "the VMs on it keep running."},
            footerHeading = "%nExamples:%n", footer = {"  virtfleet host cordon node-a"})
    static final class Cordon implements Callable<Integer> {
        @Mixin
        KubeOptions kube;

        @Parameters(index = "0", paramLabel = "HOST", description = "Name of the Host.")
        String name;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            try (KubernetesClient client = kube.client()) {
                return cordon(client, name, true, spec.commandLine().getOut(),
                        () -> "cordoned: no new VMs are scheduled there; " + count(vmsOn(client, name)));
            }
        }
    }

    @Command(name = "uncordon", mixinStandardHelpOptions = true,
            description = "Makes a cordoned host schedulable again (removes Host.spec.unschedulable).",
            footerHeading = "%nExamples:%n", footer = {"  virtfleet host uncordon node-a"})
    static final class Uncordon implements Callable<Integer> {
        @Mixin
        KubeOptions kube;

        @Parameters(index = "0", paramLabel = "HOST", description = "Name of the Host.")
        String name;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            try (KubernetesClient client = kube.client()) {
                return cordon(client, name, false, spec.commandLine().getOut(),
                        () -> "uncordoned: new VMs may be scheduled there again");
            }
        }
    }

    @Command(name = "drain", mixinStandardHelpOptions = true,
            description = {"Cordons a host and live-migrates each of its running VMs away (one "
                    + "VirtualMachineMigration per VM). Needs the VirtualMachineMigration kind on the cluster.",
                    "Stopped VMs stay assigned to the host."},
            footerHeading = "%nExamples:%n", footer = {"  virtfleet host drain node-a --wait --timeout 30m"})
    static final class Drain implements Callable<Integer> {
        static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss");

        @Mixin
        KubeOptions kube;

        @Parameters(index = "0", paramLabel = "HOST", description = "Name of the Host.")
        String name;

        @Option(names = "--wait", description = "Wait until every migration Succeeded or Failed.")
        boolean wait;

        @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "30m",
                converter = Durations.Converter.class, description = "How long --wait waits (default: ${DEFAULT-VALUE}).")
        Duration timeout;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            try (KubernetesClient client = kube.client()) {
                require(client, name);
                if (!VmCommand.served(client, "virtualmachinemigrations")) {
                    throw new Refusal("cannot drain Host " + name + ": " + VmCommand.NOT_SUPPORTED
                            + "; `virtfleet host cordon " + name + "` keeps new VMs off it");
                }
                List<VirtualMachine> vms = vmsOn(client, name);
                if (vms == null) {
                    throw new Refusal("cannot drain Host " + name + ": forbidden to list VirtualMachines in every "
                            + "namespace, so its VMs cannot be found");
                }
                PrintWriter out = spec.commandLine().getOut();
                setUnschedulable(client, name, true, "cordon");
                out.println("Host " + name + " cordoned");
                String stamp = STAMP.format(ZonedDateTime.now(ZoneOffset.UTC));
                List<GenericKubernetesResource> created = new ArrayList<>();
                List<String> failed = new ArrayList<>();
                for (VirtualMachine vm : vms) {
                    String id = vm.getMetadata().getNamespace() + "/" + vm.getMetadata().getName();
                    String ps = vm.getStatus().printableStatus;
                    if (!PrintableStatus.RUNNING.equals(ps) && !PrintableStatus.PAUSED.equals(ps)) {
                        out.println("VirtualMachine " + id + " is " + ps + ": left on the host");
                        continue;
                    }
                    GenericKubernetesResource m = VmCommand.migration(vm.getMetadata().getNamespace(),
                            vm.getMetadata().getName() + "-drain-" + stamp, vm.getMetadata().getName(), null);
                    try {
                        created.add(client.genericKubernetesResources(ApiGroup.API_VERSION, "VirtualMachineMigration")
                                .inNamespace(vm.getMetadata().getNamespace()).resource(m).create());
                        out.println("VirtualMachine " + id + ": migration " + m.getMetadata().getName() + " created");
                    } catch (KubernetesClientException e) {
                        failed.add(ApiErrors.refusal("cannot migrate VirtualMachine " + id, e).getMessage());
                    }
                }
                if (wait) {
                    long deadline = System.nanoTime() + timeout.toNanos();
                    for (GenericKubernetesResource m : created) {
                        String ns = m.getMetadata().getNamespace();
                        String mn = m.getMetadata().getName();
                        while (true) {
                            GenericKubernetesResource now = client.genericKubernetesResources(ApiGroup.API_VERSION,
                                    "VirtualMachineMigration").inNamespace(ns).withName(mn).get();
                            String phase = now == null ? "Deleted" : VmCommand.status(now, "phase");
                            if ("Succeeded".equals(phase)) {
                                out.println("VirtualMachineMigration " + ns + "/" + mn + " succeeded");
                                break;
                            }
                            if ("Failed".equals(phase) || "Deleted".equals(phase)) {
                                failed.add("VirtualMachineMigration " + ns + "/" + mn + " " + phase.toLowerCase()
                                        + (now != null ? ": " + VmCommand.status(now, "error") : ""));
                                break;
                            }
                            if (System.nanoTime() > deadline) {
                                failed.add("timed out waiting for VirtualMachineMigration " + ns + "/" + mn
                                        + " (phase " + phase + ")");
                                break;
                            }
                            sleep();
                        }
                    }
                }
                if (!failed.isEmpty()) {
                    throw new Refusal("drain of Host " + name + " incomplete: " + String.join("; ", failed));
                }
                out.println("Host " + name + (wait ? " drained" : ": " + created.size() + " migration(s) requested"));
                return Refusal.OK;
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
}
