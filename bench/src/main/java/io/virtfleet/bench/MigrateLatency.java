package io.virtfleet.bench;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.virtfleet.agent.AgentConfig;
import io.virtfleet.agent.NodeAgent;
import io.virtfleet.agent.migration.Migrator;
import io.virtfleet.api.v1alpha1.ApiGroup;
import io.virtfleet.api.v1alpha1.Host;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.api.v1alpha1.VirtualMachineMigration;
import io.virtfleet.api.v1alpha1.VirtualMachineMigrationSpec;
import io.virtfleet.api.v1alpha1.VirtualMachineMigrationStatus;
import io.virtfleet.controlplane.EmbeddedControlPlane;
import io.virtfleet.operator.OperatorConfig;
import io.virtfleet.operator.VirtfleetOperator;
import io.virtfleet.reconcilers.render.HostInfo;
import org.libvirt.Connect;
import org.libvirt.Domain;
import org.libvirt.DomainJobStats;
import org.libvirt.LibvirtException;
import org.libvirt.TypedParameter;
import org.libvirt.TypedStringParameter;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Scenario {@code migrate}: live migration of a booted test guest between two libvirtds of their own on this machine
 * (scripts/libvirt-host: own mount namespace and host UUID, /var/lib/virtfleet shared), through virtfleet against
 * libvirt-java's own live migration of the same guest between the same two daemons, in the same run, alternating.
 *
 * <p>What is measured, exactly:
 * <ul>
 *   <li>floor, per repetition: a second booted test guest (same rendered XML, another name and UUID, marked for a host
 *       no agent serves, so neither agent touches it): {@code virDomainMigrateToURI3} with the agent's flags (live,
 *       peer-to-peer, persist on the target, undefine the source, auto-converge, shared storage), the same memory
 *       stream (tcp://127.0.0.1) and max downtime ({@link Migrator.Policy#DEFAULT}), from the call until it returns;
 *       downtime = the target's completed job statistics ({@code downtime}), as the agent reads it;</li>
 *   <li>virtfleet, per repetition: from creating the VirtualMachineMigration (client side, before the call) until a
 *       client watching it sees {@code status.phase: Succeeded} — the operator's planning and hand-over,
 *       the source agent driving the same libvirt call, the re-pointing of the Domain; downtime = its
 *       {@code status.downtimeMs}.</li>
 * </ul>
 * Each repetition moves both guests once (A→B, then B→A on the next), the floor first, then virtfleet, with the VM
 * settled on its new host (Ready, Domain synced) in between, untimed. Targets: virtfleet total P50 ≤ floor P50 +
 * 500 ms, downtime P50 ≤ 1.1 × floor's.
 */
public final class MigrateLatency extends BaseScenario {
    private static final String RUN_DIR = VirtfleetStack.RUN_DIR;
    private static final String READY_LINE = "VIRTFLEET-GUEST-READY";
    private static final int MEMORY_MIB = 256;

    public MigrateLatency() {
        super("migrate");
    }

    @Override
    public Report run(BenchContext ctx) throws Exception {
        int reps = ctx.size().pick(0, 2, 6);
        Report r = report("VirtualMachineMigration applied → Succeeded vs libvirt-java's live migration, "
                + reps + " repetitions between two libvirtds of this machine");
        r.put("reps", reps);
        String why = RawLibvirt.unavailable();
        Path script = ctx.repo().resolve("scripts/libvirt-host");
        if (r.skipped(reps == 0 ? "tiny size: nothing is migrated" : why != null ? why
                : Files.isExecutable(script) ? null : script + " missing")) {
            return r;
        }
        String tag = "vfb" + (ProcessHandle.current().pid() % 100000);
        LibvirtHosts lh = ctx.onClose(new LibvirtHosts(script, List.of(tag + "a", tag + "b")));
        String uriA = lh.uris.get(0);
        String uriB = lh.uris.get(1);
        EmbeddedControlPlane cp = ctx.controlPlane();
        KubernetesClient admin = cp.client();
        String ns = ctx.name("migrate");
        BenchContext.ensureNamespace(admin, ns);
        String hostA = ctx.name("migrate-a");
        String hostB = ctx.name("migrate-b");
        String prefix = ctx.domainPrefix();
        List<NodeAgent> agents = new ArrayList<>();
        VirtfleetOperator op = null;
        List<Double> floorMs = new ArrayList<>();
        List<Double> floorDown = new ArrayList<>();
        List<Double> vfMs = new ArrayList<>();
        List<Double> vfDown = new ArrayList<>();
        String floorName = prefix + ns + "_floor";
        java.util.Map<String, List<Double>> profile = new java.util.LinkedHashMap<>();
        try {
            for (String[] h : new String[][] {{hostA, uriA}, {hostB, uriB}}) {
                NodeAgent a = new NodeAgent(AgentConfig.forHost(h[0]).withDomainPrefix(prefix)
                        .withConsoleLogDir(RUN_DIR).withGuestChannelDir(RUN_DIR).withLibvirtUri(h[1])
                        .withMigration(h[1], List.of(TestGuest.ALLOWED_ROOT)).withProbeUris(List.of()),
                        ctx.newClient(cp));
                a.start();
                agents.add(a);
            }
            op = new VirtfleetOperator(OperatorConfig.builder().namespaces(Set.of(ns)).identity(ctx.name("operator"))
                    .exitOnLostLeadership(false).build());
            op.start(ctx.newClient(cp));
            awaitHosts(admin, List.of(hostA, hostB), Duration.ofSeconds(90));

            // The floor's guest: rendered like the VM, for a host nobody serves (its agents leave it alone).
            HostInfo floorHost = new HostInfo(ctx.name("migrate-floor"), List.of(TestGuest.ALLOWED_ROOT), prefix,
                    RUN_DIR, null, null);
            String xml = TestGuest.renderedXml(ns, "floor", MEMORY_MIB, floorHost);
            Connect c = new Connect(uriA);
            try {
                c.domainDefineXML(xml).create();
            } finally {
                c.close();
            }
            VirtualMachine vm = TestGuest.vm(ns, "guest", MEMORY_MIB);
            vm.getSpec().nodeName = hostA;
            admin.resource(vm).fieldManager(VirtfleetStack.FIELD_MANAGER).forceConflicts().serverSideApply();
            awaitConsole(Path.of(RUN_DIR, floorName + ".log"), Duration.ofSeconds(240));
            awaitConsole(Path.of(RUN_DIR, TestGuest.domainName(prefix, ns, "guest") + ".log"), Duration.ofSeconds(240));
            awaitOn(admin, ns, "guest", hostA, Duration.ofSeconds(120));

            String[] uris = {uriA, uriB};
            String[] hosts = {hostA, hostB};
            for (int i = 0; i < reps; i++) {
                int from = i % 2;
                int to = 1 - from;
                double[] f = floorMigrate(uris[from], uris[to], floorName);
                floorMs.add(f[0]);
                if (f[1] >= 0) {
                    floorDown.add(f[1]);
                }
                java.util.Map<String, Double> steps = new java.util.LinkedHashMap<>();
                double[] v = virtfleetMigrate(admin, ns, "guest", "m" + i, hosts[to], steps);
                steps.forEach((k, ms) -> profile.computeIfAbsent(k, x -> new ArrayList<>()).add(ms));
                vfMs.add(v[0]);
                if (v[1] >= 0) {
                    vfDown.add(v[1]);
                }
                awaitOn(admin, ns, "guest", hosts[to], Duration.ofSeconds(120));
                ctx.log(String.format("migrate %d %s -> %s: floor %.0f ms (downtime %.0f ms), virtfleet %.0f ms "
                        + "(downtime %.0f ms); steps first seen at %s", i, hosts[from], hosts[to], f[0], f[1], v[0],
                        v[1], steps));
            }
        } finally {
            try {
                admin.resources(VirtualMachine.class).inNamespace(ns).delete();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
                while (!admin.resources(io.virtfleet.api.v1alpha1.Domain.class).inNamespace(ns).list().getItems()
                        .isEmpty() && System.nanoTime() < deadline) {
                    Thread.sleep(250);
                }
            } catch (RuntimeException e) {
                ctx.log("migrate clean-up: " + e.getMessage());
            }
            if (op != null) {
                op.close();
            }
            for (NodeAgent a : agents) {
                a.close();
            }
            for (String h : List.of(hostA, hostB)) {
                try {
                    admin.resources(Host.class).withName(h).delete();
                    admin.leases().inNamespace(ApiGroup.SYSTEM_NAMESPACE).withName(ApiGroup.leaseName(h)).delete();
                } catch (RuntimeException e) {
                    // the control plane is going away
                }
            }
            ctx.closeNow(lh); // destroys what still runs on the two libvirtds, the floor's guest included
        }
        double fP50 = Stats.percentile(floorMs, 50);
        double vP50 = Stats.percentile(vfMs, 50);
        double fD50 = floorDown.isEmpty() ? Double.NaN : Stats.percentile(floorDown, 50);
        double vD50 = vfDown.isEmpty() ? Double.NaN : Stats.percentile(vfDown, 50);
        r.header("path", "n", "P50 ms", "max ms", "downtime P50 ms", "downtime max ms");
        r.row("floor: libvirt-java migrateToURI3 (same flags, same daemons)", floorMs.size(), fP50,
                Stats.max(floorMs), fD50, floorDown.isEmpty() ? Double.NaN : Stats.max(floorDown));
        r.row("virtfleet: VirtualMachineMigration applied → Succeeded", vfMs.size(), vP50, Stats.max(vfMs), vD50,
                vfDown.isEmpty() ? Double.NaN : Stats.max(vfDown));
        r.put("floor_p50_ms", Stats.round(fP50, 1)).put("p50_ms", Stats.round(vP50, 1))
                .put("floor_max_ms", Stats.round(Stats.max(floorMs), 1)).put("max_ms", Stats.round(Stats.max(vfMs), 1));
        if (!floorDown.isEmpty() && !vfDown.isEmpty()) {
            r.put("floor_downtime_p50_ms", Stats.round(fD50, 1)).put("downtime_p50_ms", Stats.round(vD50, 1));
        }
        r.note(String.format("target total P50 <= floor P50 + %.0f ms = %.0f ms: %s (%.0f ms)",
                Targets.MIGRATE_P50_OVERHEAD_MS, fP50 + Targets.MIGRATE_P50_OVERHEAD_MS,
                vP50 <= fP50 + Targets.MIGRATE_P50_OVERHEAD_MS ? "met" : "MISSED", vP50));
        r.note(String.format("target downtime P50 <= %.1f x floor = %.0f ms: %s (%.0f ms)",
                Targets.MIGRATE_DOWNTIME_FACTOR, Targets.MIGRATE_DOWNTIME_FACTOR * fD50,
                vD50 <= Targets.MIGRATE_DOWNTIME_FACTOR * fD50 ? "met" : "MISSED", vD50));
        StringBuilder steps = new StringBuilder();
        profile.forEach((k, ms) -> steps.append(steps.length() == 0 ? "" : ", ").append(k).append(" ")
                .append(String.format("%.0f", Stats.percentile(ms, 50))));
        r.note("profile, P50 ms after the create call when the watching client first saw each step: " + steps);
        r.note("both guests are the same booted test guest (256 MiB, TCG), migrated alternately A→B / B→A over "
                + "tcp://127.0.0.1; downtime is libvirt's own figure (the target's completed job statistics) on both "
                + "paths");
        return r;
    }

    /** The floor: one libvirt-java live migration, as the agent asks it. Returns {ms, downtime ms or -1}. */
    private static double[] floorMigrate(String fromUri, String toUri, String name) throws LibvirtException {
        Connect src = new Connect(fromUri);
        try {
            Domain d = src.domainLookupByName(name);
            d.migrateSetMaxDowntime(Migrator.Policy.DEFAULT.maxDowntime().toMillis());
            TypedParameter[] params = {
                    new TypedStringParameter(Domain.DomainMigrateParameters.VIR_MIGRATE_PARAM_URI, "tcp://127.0.0.1"),
                    new TypedStringParameter(Domain.DomainMigrateParameters.VIR_MIGRATE_PARAM_LISTEN_ADDRESS,
                            "127.0.0.1")};
            int flags = Domain.MigrateFlags.LIVE | Domain.MigrateFlags.PEER2PEER | Domain.MigrateFlags.PERSIST_DEST
                    | Domain.MigrateFlags.UNDEFINE_SOURCE | Domain.MigrateFlags.AUTO_CONVERGE
                    | Domain.MigrateFlags.UNSAFE;
            long t0 = System.nanoTime();
            d.migrateToURI(toUri, params, flags);
            double ms = (System.nanoTime() - t0) / 1e6;
            double down = -1;
            Connect dst = new Connect(toUri);
            try {
                DomainJobStats st = dst.domainLookupByName(name).getJobStats(1); // VIR_DOMAIN_JOB_STATS_COMPLETED
                for (TypedParameter p : st.stats == null ? new TypedParameter[0] : st.stats) {
                    if ("downtime".equals(p.field)) {
                        down = Double.parseDouble(p.getValueAsString());
                    }
                }
            } finally {
                dst.close();
            }
            return new double[] {ms, down};
        } finally {
            src.close();
        }
    }

    /**
     * One VirtualMachineMigration, applied → Succeeded, seen through a watch (a polling client would add its own load
     * to the apiserver the migration's steps go through). Returns {ms, downtime ms or -1}; {@code milestones} gets
     * when each phase and transfer state was first seen.
     */
    private static double[] virtfleetMigrate(KubernetesClient admin, String ns, String vm, String name, String to,
                                             java.util.Map<String, Double> milestones) throws InterruptedException {
        VirtualMachineMigration m = new VirtualMachineMigration();
        m.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(ns).build());
        m.setSpec(new VirtualMachineMigrationSpec());
        m.getSpec().vmName = vm;
        m.getSpec().targetHost = to;
        java.util.concurrent.CompletableFuture<double[]> outcome = new java.util.concurrent.CompletableFuture<>();
        long[] t0 = {Long.MAX_VALUE};
        java.util.Map<String, Double> seen = new java.util.concurrent.ConcurrentHashMap<>();
        io.fabric8.kubernetes.client.Watcher<VirtualMachineMigration> watcher = new io.fabric8.kubernetes.client
                .Watcher<>() {
            @Override
            public void eventReceived(Action action, VirtualMachineMigration now) {
                double at = (System.nanoTime() - t0[0]) / 1e6;
                VirtualMachineMigrationStatus st = now != null ? now.getStatus() : null;
                if (st == null) {
                    return;
                }
                seen.putIfAbsent("phase " + st.phase, at);
                if (st.transfer != null && st.transfer.state != null) {
                    seen.putIfAbsent("transfer " + st.transfer.state, at);
                }
                if (VirtualMachineMigrationStatus.SUCCEEDED.equals(st.phase)) {
                    outcome.complete(new double[] {at, st.downtimeMs != null ? st.downtimeMs : -1});
                } else if (VirtualMachineMigrationStatus.FAILED.equals(st.phase)) {
                    outcome.completeExceptionally(new IllegalStateException("VirtualMachineMigration " + name
                            + " failed: " + st.error));
                }
            }

            @Override
            public void onClose(io.fabric8.kubernetes.client.WatcherException cause) {
                outcome.completeExceptionally(new IllegalStateException("the watch of " + name + " closed", cause));
            }
        };
        try (io.fabric8.kubernetes.client.Watch w = admin.resources(VirtualMachineMigration.class).inNamespace(ns)
                .withName(name).watch(watcher)) {
            t0[0] = System.nanoTime();
            admin.resource(m).create();
            double[] r = outcome.get(300, TimeUnit.SECONDS);
            seen.entrySet().stream().sorted(java.util.Map.Entry.comparingByValue())
                    .forEach(e -> milestones.put(e.getKey(), e.getValue()));
            return r;
        } catch (java.util.concurrent.ExecutionException e) {
            throw (RuntimeException) e.getCause();
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("VirtualMachineMigration " + name + " did not finish within 300 s");
        }
    }

    /** The VM runs on {@code host}, Ready, and its Domain is synced there (untimed between repetitions). */
    private static void awaitOn(KubernetesClient admin, String ns, String vm, String host, Duration timeout)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            VirtualMachine v = admin.resources(VirtualMachine.class).inNamespace(ns).withName(vm).get();
            io.virtfleet.api.v1alpha1.Domain d = admin.resources(io.virtfleet.api.v1alpha1.Domain.class)
                    .inNamespace(ns).withName(vm).get();
            if (v != null && v.getStatus() != null && host.equals(v.getStatus().host)
                    && "Running".equals(v.getStatus().printableStatus) && d != null && d.getStatus() != null
                    && d.getStatus().observedGeneration != null
                    && d.getStatus().observedGeneration >= d.getMetadata().getGeneration()) {
                return;
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("VM " + ns + "/" + vm + " is not Running on " + host + " after "
                + timeout.toSeconds() + " s");
    }

    private static void awaitHosts(KubernetesClient admin, List<String> hosts, Duration timeout)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            boolean all = true;
            for (String h : hosts) {
                Host host = admin.resources(Host.class).withName(h).get();
                all &= host != null && host.getStatus() != null && host.getStatus().cpus != null
                        && host.getSpec() != null && host.getSpec().migrationUri != null;
            }
            if (all) {
                return;
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("hosts " + hosts + " not registered after " + timeout.toSeconds() + " s");
    }

    private static void awaitConsole(Path log, Duration timeout) throws InterruptedException, IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (Files.exists(log) && Files.readString(log, StandardCharsets.ISO_8859_1).contains(READY_LINE)) {
                return;
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("the test guest did not boot (no " + READY_LINE + " in " + log + ")");
    }

    /** Two libvirtds of their own (scripts/libvirt-host), stopped (and what runs there destroyed) on close. */
    static final class LibvirtHosts implements AutoCloseable {
        final Path script;
        final List<String> names;
        final List<String> uris = new ArrayList<>();

        LibvirtHosts(Path script, List<String> names) throws IOException, InterruptedException {
            this.script = script;
            this.names = names;
            for (String n : names) {
                Process p = new ProcessBuilder(script.toString(), "start", n).redirectErrorStream(true).start();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
                if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
                    close();
                    throw new IllegalStateException("scripts/libvirt-host start " + n + " failed: " + out);
                }
                String[] lines = out.split("\n");
                uris.add(lines[lines.length - 1].strip());
            }
        }

        @Override
        public void close() {
            for (String n : names) {
                try {
                    Process p = new ProcessBuilder(script.toString(), "stop", n).redirectErrorStream(true)
                            .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
                    p.waitFor(60, TimeUnit.SECONDS);
                } catch (IOException e) {
                    // nothing more to do
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }
}
