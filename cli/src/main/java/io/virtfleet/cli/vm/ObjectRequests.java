package io.virtfleet.cli.vm;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.client.dsl.NonNamespaceOperation;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.virtfleet.api.v1alpha1.ApiGroup;
import io.virtfleet.api.v1alpha1.VirtualMachineBackup;
import io.virtfleet.api.v1alpha1.VirtualMachineBackupSpec;
import io.virtfleet.api.v1alpha1.VirtualMachineClone;
import io.virtfleet.api.v1alpha1.VirtualMachineRestore;
import io.virtfleet.api.v1alpha1.VirtualMachineRestoreSpec;
import io.virtfleet.api.v1alpha1.VirtualMachineSnapshot;
import io.virtfleet.cli.kube.ApiErrors;
import io.virtfleet.cli.kube.Durations;
import io.virtfleet.cli.kube.KubeOptions;
import io.virtfleet.cli.kube.Refusal;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Function;

/**
 * {@code vm snapshot|restore|clone|backup|migrate}: each creates the request object the operator acts on (README,
 * "Snapshots, restores, clones, backups") and, with {@code --wait}, follows its {@code status.phase} to Succeeded or
 * Failed (then its {@code status.error} is the one-line reason).
 */
final class ObjectRequests {
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss");

    private ObjectRequests() {
    }

    /**
     * Options every request object command has, and what it does: read what the request refers to, create the
     * request object, with --wait follow its phase.
     */
    @Command(mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n")
    abstract static class Base implements Callable<Integer> {
        @Mixin
        KubeOptions kube;

        @Option(names = "--name", paramLabel = "NAME", description = "Name of the request object (default: "
                + "<vm>-<UTC timestamp>).")
        String objectName;

        @Option(names = "--wait", description = "Wait until it Succeeded or Failed (see --timeout).")
        boolean wait;

        @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "10m",
                converter = Durations.Converter.class, description = "How long --wait waits (default: ${DEFAULT-VALUE}).")
        Duration timeout;

        @Spec
        CommandSpec spec;

        @Override
        public final Integer call() {
            String ns = kube.namespace();
            try (KubernetesClient client = kube.client()) {
                return request(client, ns);
            }
        }

        /** Checks what the request refers to, then creates it in {@code ns} through {@link #submit}. */
        abstract int request(KubernetesClient client, String ns);

        String defaultName(String vm) {
            return objectName != null ? objectName
                    : vm + "-" + STAMP.format(ZonedDateTime.now(ZoneOffset.UTC));
        }

        /** {@link #submit} for a typed request whose status (once it has one) holds the phase and error. */
        <S, T extends CustomResource<?, S>> int submitTyped(KubernetesClient client, T o, Function<S, String> phase,
                                                       Function<S, String> error, Function<S, String> detail) {
            return submit(client, o, t -> t.getStatus() == null ? null : phase.apply(t.getStatus()),
                    t -> error.apply(t.getStatus()), t -> detail.apply(t.getStatus()));
        }

        /** Creates {@code o}; with --wait follows its phase. {@code detail} describes a Succeeded object. */
        <T extends HasMetadata> int submit(KubernetesClient client, T o, Function<T, String> phase,
                                           Function<T, String> error, Function<T, String> detail) {
            PrintWriter out = spec.commandLine().getOut();
            String kind = o.getKind();
            String who = kind + " " + o.getMetadata().getNamespace() + "/" + o.getMetadata().getName();
            try {
                resources(client, o).resource(o).create();
            } catch (KubernetesClientException e) {
                throw ApiErrors.refusal("cannot create " + who, e);
            }
            if (!wait) {
                out.println(who + " created; follow it with: kubectl get " + plural(kind) + " -n "
                        + o.getMetadata().getNamespace() + " " + o.getMetadata().getName() + " (or use --wait)");
                return Refusal.OK;
            }
            String[] last = {"no phase yet"};
            T finished = Vms.await(timeout, who + " to finish", () -> {
                T now;
                try {
                    now = resources(client, o).withName(o.getMetadata().getName()).get();
                } catch (KubernetesClientException e) {
                    throw ApiErrors.refusal("cannot read " + who, e);
                }
                if (now == null) {
                    throw new Refusal(who + " was deleted while waiting for it");
                }
                String p = phase.apply(now);
                last[0] = p == null ? "no phase yet" : "phase " + p;
                return "Succeeded".equals(p) || "Failed".equals(p) ? now : null;
            }, () -> last[0]);
            if ("Failed".equals(phase.apply(finished))) {
                String why = error.apply(finished);
                throw new Refusal(who + " failed: " + (why == null || why.isBlank() ? "(no error given)" : why));
            }
            String d = detail.apply(finished);
            out.println(who + " succeeded" + (d == null || d.isBlank() ? "" : ": " + d));
            return Refusal.OK;
        }

        /**
         * The objects of {@code o}'s kind in its namespace: typed, or generic (by apiVersion and kind) for a kind
         * this client has no class for.
         */
        @SuppressWarnings("unchecked")
        static <T extends HasMetadata> NonNamespaceOperation<T, ?, Resource<T>> resources(KubernetesClient client,
                                                                                          T o) {
            String ns = o.getMetadata().getNamespace();
            if (o instanceof GenericKubernetesResource g) {
                return (NonNamespaceOperation<T, ?, Resource<T>>) (Object) client
                        .genericKubernetesResources(g.getApiVersion(), g.getKind()).inNamespace(ns);
            }
            return client.resources((Class<T>) o.getClass()).inNamespace(ns);
        }

        static String plural(String kind) {
            return kind.toLowerCase(java.util.Locale.ROOT) + "s.virtfleet.io";
        }

        static io.fabric8.kubernetes.api.model.ObjectMeta meta(String namespace, String name) {
            return new ObjectMetaBuilder().withNamespace(namespace).withName(name).build();
        }

        /** {@code o} named {@code name} in {@code namespace}, with {@code spec}. */
        static <S, T extends CustomResource<S, ?>> T object(T o, String namespace, String name, S spec) {
            o.setMetadata(meta(namespace, name));
            o.setSpec(spec);
            return o;
        }
    }

    @Command(name = "snapshot",
            description = {"Takes a libvirt snapshot of a VirtualMachine (with its memory while it runs; qcow2 disks) "
                    + "by creating a VirtualMachineSnapshot."},
            footer = {"  virtfleet vm snapshot web-1 --wait", "  virtfleet vm snapshot web-1 --name before-upgrade"})
    static final class Snapshot extends Base {
        @Parameters(index = "0", paramLabel = "VM", description = "The VirtualMachine to snapshot.")
        String vm;

        @Override
        int request(KubernetesClient client, String ns) {
            Vms.require(client, ns, vm);
            return submitTyped(client, VirtualMachineSnapshot.of(ns, defaultName(vm), vm), s -> s.phase, s -> s.error,
                    s -> "libvirt snapshot " + s.snapshotName + " of a " + s.vmState + " VM on host " + s.host);
        }
    }

    @Command(name = "restore",
            description = {"Reverts a VirtualMachine to a snapshot, or recreates a deleted one from a backup, by "
                    + "creating a VirtualMachineRestore. Either way the VM gets a new generation ID."},
            footer = {"  virtfleet vm restore web-1 --snapshot before-upgrade --wait",
                    "  virtfleet vm restore web-1 --backup web-1-nightly",
                    "  virtfleet vm restore web-1-copy --backup web-1-nightly   # under a new name"})
    static final class Restore extends Base {
        @Parameters(index = "0", paramLabel = "VM", description = "The VirtualMachine to revert (snapshot) or to "
                + "create (backup).")
        String vm;

        @ArgGroup(exclusive = true, multiplicity = "1")
        Source source;

        static final class Source {
            @Option(names = "--snapshot", paramLabel = "NAME", required = true,
                    description = "A ready VirtualMachineSnapshot of the VM.")
            String snapshot;

            @Option(names = "--backup", paramLabel = "NAME", required = true,
                    description = "A ready VirtualMachineBackup to recreate the VM from.")
            String backup;
        }

        @Override
        int request(KubernetesClient client, String ns) {
            if (source.snapshot != null) {
                Vms.require(client, ns, vm); // from a backup the VM may be gone: that is what the restore is for
            }
            VirtualMachineRestoreSpec wanted = new VirtualMachineRestoreSpec();
            wanted.vmName = vm;
            wanted.snapshotName = source.snapshot;
            wanted.backupName = source.backup;
            return submitTyped(client, object(new VirtualMachineRestore(), ns, defaultName(vm), wanted), s -> s.phase,
                    s -> s.error, s -> "new generation ID " + s.genid);
        }
    }

    @Command(name = "clone",
            description = {"Copies a VirtualMachine's writable disks and creates a new VM from them (new UUID, MACs and "
                    + "generation ID) by creating a VirtualMachineClone."},
            footer = {"  virtfleet vm clone web-1 web-2 --wait"})
    static final class Clone extends Base {
        @Parameters(index = "0", paramLabel = "SOURCE", description = "The VirtualMachine to copy.")
        String source;

        @Parameters(index = "1", paramLabel = "TARGET", description = "Name of the new VirtualMachine.")
        String target;

        @Override
        int request(KubernetesClient client, String ns) {
            Vms.require(client, ns, source);
            VirtualMachineClone c = VirtualMachineClone.of(ns,
                    objectName != null ? objectName : source + "-to-" + target, source, target);
            return submitTyped(client, c, s -> s.phase, s -> s.error,
                    s -> "VirtualMachine " + ns + "/" + target + " created (" + s.copyMethod + ")");
        }
    }

    @Command(name = "backup",
            description = {"Copies a VirtualMachine's disks, domain XML and spec to a directory on its host (under an "
                    + "allowed root) by creating a VirtualMachineBackup."},
            footer = {"  virtfleet vm backup web-1 --destination /var/lib/virtfleet/backups --wait"})
    static final class Backup extends Base {
        @Parameters(index = "0", paramLabel = "VM", description = "The VirtualMachine to back up.")
        String vm;

        @Option(names = "--destination", paramLabel = "DIR", required = true,
                description = "Absolute directory on the VM's host, under one of its allowed disk roots.")
        String destination;

        @Override
        int request(KubernetesClient client, String ns) {
            Vms.require(client, ns, vm);
            VirtualMachineBackupSpec wanted = new VirtualMachineBackupSpec();
            wanted.vmName = vm;
            wanted.destination = destination;
            return submitTyped(client, object(new VirtualMachineBackup(), ns, defaultName(vm), wanted), s -> s.phase,
                    s -> s.error, s -> "in " + s.location + " on host " + s.host);
        }
    }

    @Command(name = "migrate",
            description = {"Live-migrates a running VirtualMachine to another host by creating a "
                    + "VirtualMachineMigration (when the cluster serves that kind)."},
            footer = {"  virtfleet vm migrate web-1 --wait", "  virtfleet vm migrate web-1 --target-host node-b"})
    static final class Migrate extends Base {
        static final String PLURAL = "virtualmachinemigrations";

        @Parameters(index = "0", paramLabel = "VM", description = "The running VirtualMachine to move.")
        String vm;

        @Option(names = "--target-host", paramLabel = "HOST",
                description = "Host to move it to (default: the scheduler's choice).")
        String targetHost;

        @Override
        int request(KubernetesClient client, String ns) {
            Vms.require(client, ns, vm);
            if (!Vms.served(client, PLURAL)) {
                throw new Refusal("cannot migrate VirtualMachine " + ns + "/" + vm + ": " + NOT_SUPPORTED);
            }
            return submit(client, migration(ns, defaultName(vm), vm, targetHost), o -> str(o, "phase"),
                    o -> str(o, "error"), o -> "now on host " + str(o, "targetHost"));
        }
    }

    static final String NOT_SUPPORTED = "not supported yet: live migration lands with VirtualMachineMigration, "
            + "which this cluster does not serve";

    static GenericKubernetesResource migration(String ns, String name, String vm, String targetHost) {
        GenericKubernetesResource m = new GenericKubernetesResource();
        m.setApiVersion(ApiGroup.API_VERSION);
        m.setKind("VirtualMachineMigration");
        m.setMetadata(Base.meta(ns, name));
        Map<String, Object> spec = new java.util.LinkedHashMap<>();
        spec.put("vmName", vm);
        if (targetHost != null) {
            spec.put("targetHost", targetHost);
        }
        m.setAdditionalProperty("spec", spec);
        return m;
    }

    @SuppressWarnings("unchecked")
    static String str(GenericKubernetesResource o, String field) {
        Object status = o.getAdditionalProperties().get("status");
        if (!(status instanceof Map)) {
            return null;
        }
        Object v = ((Map<String, Object>) status).get(field);
        return v == null ? null : v.toString();
    }
}
