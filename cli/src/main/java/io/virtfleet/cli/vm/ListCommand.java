package io.virtfleet.cli.vm;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.cli.Table;
import io.virtfleet.cli.kube.ApiErrors;
import io.virtfleet.cli.kube.KubeOptions;
import io.virtfleet.cli.kube.Refusal;
import io.virtfleet.reconcilers.lifecycle.Conditions;
import io.virtfleet.reconcilers.lifecycle.StatusFolder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code vm list}: the VMs of a namespace (or all) with what a person checks first. */
@Command(name = "list", aliases = "ls", mixinStandardHelpOptions = true,
        description = "Lists VirtualMachines: status, Ready, host, libvirt id, runStrategy, age.",
        footerHeading = "%nExamples:%n",
        footer = {"  virtfleet vm list", "  virtfleet vm list -A", "  kubectl virtfleet vm list -n prod"})
final class ListCommand implements Callable<Integer> {
    @Mixin
    KubeOptions kube;

    @Option(names = {"-A", "--all-namespaces"}, description = "List the VMs of every namespace.")
    boolean all;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        String ns = kube.namespace();
        List<VirtualMachine> vms;
        try (KubernetesClient client = kube.client()) {
            vms = new ArrayList<>(all ? client.resources(VirtualMachine.class).inAnyNamespace().list().getItems()
                    : client.resources(VirtualMachine.class).inNamespace(ns).list().getItems());
        } catch (KubernetesClientException e) {
            throw ApiErrors.refusal("cannot list VirtualMachines" + (all ? "" : " in namespace " + ns), e);
        }
        if (vms.isEmpty()) {
            spec.commandLine().getOut().println(all ? "No VirtualMachines found."
                    : "No VirtualMachines found in namespace " + ns + ".");
            return Refusal.OK;
        }
        vms.sort(Comparator.comparing((VirtualMachine v) -> v.getMetadata().getNamespace())
                .thenComparing(v -> v.getMetadata().getName()));
        Table t = all ? new Table("NAMESPACE", "NAME", "STATUS", "READY", "HOST", "ID", "RUNSTRATEGY", "AGE")
                : new Table("NAME", "STATUS", "READY", "HOST", "ID", "RUNSTRATEGY", "AGE");
        Instant now = Instant.now();
        for (VirtualMachine v : vms) {
            var s = v.getStatus();
            var ready = s == null ? null : Conditions.find(s.conditions, StatusFolder.READY);
            List<String> row = new ArrayList<>();
            if (all) {
                row.add(v.getMetadata().getNamespace());
            }
            row.add(v.getMetadata().getName());
            row.add(Requests.printable(v));
            row.add(ready == null ? "-" : ready.getStatus());
            row.add(s == null || s.host == null ? "-" : s.host);
            row.add(s == null || s.domainId == null ? "-" : s.domainId.toString());
            row.add(v.getSpec() == null || v.getSpec().runStrategy == null ? "Always" : v.getSpec().runStrategy.name());
            row.add(Table.age(v.getMetadata().getCreationTimestamp(), now));
            t.row(row);
        }
        t.print(spec.commandLine().getOut());
        return Refusal.OK;
    }
}
