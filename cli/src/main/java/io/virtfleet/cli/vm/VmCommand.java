package io.virtfleet.cli.vm;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code virtfleet vm ...} (also {@code kubectl virtfleet vm ...}): what a person does with their VMs. */
@Command(name = "vm", mixinStandardHelpOptions = true,
        description = {"Start, stop, restart, pause, snapshot, ... VirtualMachines, with your kubeconfig's "
                + "credentials (kubectl's --kubeconfig, --context, -n).",
                "Each request is refused with a one-line reason (exit 1) when it cannot be carried out."},
        subcommands = {ListCommand.class, RequestCommand.Start.class, RequestCommand.Stop.class,
                RequestCommand.Restart.class, RequestCommand.Pause.class, RequestCommand.Unpause.class,
                ObjectRequests.Snapshot.class, ObjectRequests.Restore.class, ObjectRequests.Clone.class,
                ObjectRequests.Backup.class, ObjectRequests.Migrate.class, ConsoleCommand.class, VncCommand.class,
                PortForwardCommand.class},
        footerHeading = "%nExamples:%n",
        footer = {"  virtfleet vm list", "  virtfleet vm restart web-1 --wait", "  virtfleet vm pause web-1 -n prod",
                "  virtfleet vm console web-1", "  virtfleet vm vnc web-1", "  virtfleet vm port-forward web-1 2222:22",
                "  kubectl virtfleet vm start web-1 --context staging"})
public final class VmCommand implements Runnable {
    /** What migrate and host drain say while the cluster does not serve VirtualMachineMigration. */
    public static final String NOT_SUPPORTED = ObjectRequests.NOT_SUPPORTED;

    @Spec
    CommandSpec spec;

    /** Whether the cluster serves {@code plural} in virtfleet.io/v1alpha1 (API discovery). */
    public static boolean served(io.fabric8.kubernetes.client.KubernetesClient client, String plural) {
        return Vms.served(client, plural);
    }

    /** A VirtualMachineMigration request for {@code vm} (targetHost null: the scheduler's choice). */
    public static io.fabric8.kubernetes.api.model.GenericKubernetesResource migration(String namespace, String name,
                                                                                      String vm, String targetHost) {
        return ObjectRequests.migration(namespace, name, vm, targetHost);
    }

    /** A top-level field of a generic object's status, as text; null when absent. */
    public static String status(io.fabric8.kubernetes.api.model.GenericKubernetesResource o, String field) {
        return ObjectRequests.str(o, field);
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
