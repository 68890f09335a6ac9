package io.virtfleet.bench;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.virtfleet.api.v1alpha1.ApiGroup;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.DomainSpec;
import io.virtfleet.api.v1alpha1.Host;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.controlplane.EmbeddedControlPlane;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.virtfleet.bench.Targets.SCALE_RESYNC_S;
import static io.virtfleet.bench.Targets.SCALE_RSS_MIB;

/**
 * Scenario 3: the operator (in a child JVM, deploy/base's heap setting) against the real kube-apiserver with N VMs
 * over H SIMULATED hosts ({@link SimulatedFleet}: Host objects, fresh Leases, a fake agent acknowledging Domains).
 * Measures: time to schedule and render all, to all Ready; full resync after an operator restart; the operator's RSS
 * and heap at steady state; API requests per VM. Floors, same run: the same Domains written by a plain client at the
 * operator's concurrency; a LIST of everything a restarted operator must read plus a bare JVM start; the idle
 * operator's RSS.
 */
public final class ControllerScale extends BaseScenario {
    public static final int MEMORY_MIB = 128;
    /** Published: KubeVirt's virt-controller RSS, for comparison only. */
    public static final String KUBEVIRT_CONTROLLER_RSS_PUBLISHED = "64-88 MB";
    static final List<String> OPERATOR_RESOURCES = List.of("virtualmachines", "domains", "hosts", "events");
    private static final Pattern STARTED = Pattern.compile("virtfleet operator .* started");
    private static final int OPERATOR_THREADS = 4;
    private static final int APPLY_THREADS = 8;

    public ControllerScale() {
        super("scale");
    }

    @Override
    public Report run(BenchContext ctx) throws Exception {
        Size size = ctx.size();
        int n = ctx.scaleVms(size.pick(10, 500, 10_000));
        int hostCount = ctx.scaleHosts(size.pick(2, 20, 500));
        Report r = report("operator with " + n + " VMs over " + hostCount + " SIMULATED hosts, real "
                + "kube-apiserver, operator in a child JVM");
        r.put("vms", n).put("hosts", hostCount).put("simulated_hosts", true);
        // A fresh apiserver of its own for the real sizes; the smoke test shares the run's one (start-up time).
        EmbeddedControlPlane cp = size == Size.TINY ? ctx.controlPlane() : ctx.newControlPlane();
        KubernetesClient admin = cp.client();
        ApiCounter counter = new ApiCounter();
        KubernetesClient bench = ctx.newCountingClient(cp, counter);
        String ns = ctx.name("scale");
        String floorNs = ctx.name("scale-floor");
        BenchContext.ensureNamespace(admin, ns);
        BenchContext.ensureNamespace(admin, floorNs);

        long f0 = System.nanoTime();
        SimulatedFleet fleet = ctx.onClose(SimulatedFleet.start(bench, ctx.name("sim"), hostCount));
        ctx.log(String.format("%d simulated hosts registered in %.1f s", hostCount, (System.nanoTime() - f0) / 1e9));

        // Floor 1: the Domains the operator will write, written by a plain client at the operator's concurrency.
        List<Domain> floorDomains = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            floorDomains.add(floorDomain(floorNs, vmName(i), fleet.hosts().get(i % hostCount)));
        }
        double floorWriteS = timed(() -> parallel(floorDomains, OPERATOR_THREADS, d -> bench.resource(d)
                .fieldManager(ApiGroup.OPERATOR_FIELD_MANAGER).forceConflicts().serverSideApply()));
        bench.resources(Domain.class).inNamespace(floorNs).delete();
        ctx.log(String.format("floor: %d Domains written by a plain client (%d threads) in %.1f s", n,
                OPERATOR_THREADS, floorWriteS));

        int port = freePort();
        List<String> opts = new ArrayList<>(ChildJvm.OPERATOR_JVM_OPTS);
        Path jfr1 = ctx.out().resolve("operator-1.jfr");
        Path jfr2 = ctx.out().resolve("operator-2.jfr");
        List<String> args = List.of("operator", "--kubeconfig", cp.kubeconfig().toString(), "-n", ns,
                "--threads", Integer.toString(OPERATOR_THREADS), "--health-port", "-1",
                "--metrics-port", Integer.toString(port), "--plain-http", "--metrics-address", "127.0.0.1");
        List<String> opts1 = new ArrayList<>(opts);
        if (ctx.profile()) {
            opts1.addAll(Jfr.options(jfr1));
        }
        ChildJvm op = ctx.onClose(ChildJvm.start("operator", opts1, ChildJvm.OPERATOR_ENV, args, ctx.out().resolve("scale-operator-1.log")));
        op.awaitLog(STARTED, Duration.ofSeconds(120));
        awaitMetric(port, "virtfleet_operator_hosts{ready=\"true\"}", hostCount, Duration.ofSeconds(60));
        int samples = size.pick(2, 5, 5);
        Duration quiet = Duration.ofMillis(size.pick(1000, 3000, 3000));
        Thread.sleep(size.pick(300, 2000, 2000));
        double rssIdle = op.rssMiB(samples, Duration.ofMillis(200));
        boolean heaps = size != Size.TINY;
        ChildJvm.Heap heapIdle = op.heap(heaps, false);
        ctx.log(String.format("operator up (pid %d), idle RSS %.0f MiB", op.pid(), rssIdle));

        // The burst: N VMs applied as fast as 8 threads can, the simulated agent acknowledging each Domain.
        List<VirtualMachine> vms = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            vms.add(TestGuest.vm(ns, vmName(i), MEMORY_MIB));
        }
        Map<String, Long> apiBefore = ApiCounter.scrapeApiserver(admin);
        Map<String, Long> benchBefore = counter.snapshot();
        Map<String, Long> opBefore = operatorMetrics(port);
        List<double[]> curveApplied = Collections.synchronizedList(new ArrayList<>());
        List<double[]> curveRendered = Collections.synchronizedList(new ArrayList<>());
        List<double[]> curveReady = Collections.synchronizedList(new ArrayList<>());
        double applyS;
        double renderAllS;
        double readyAllS;
        int readyCount;
        try (Timeline t = new Timeline(bench, ns)) {
            t.onDomain(fleet::maybeAck);
            long t0 = System.nanoTime();
            var sampler = Executors.newSingleThreadScheduledExecutor();
            sampler.scheduleAtFixedRate(() -> {
                double s = (System.nanoTime() - t0) / 1e9;
                curveApplied.add(new double[] {s, t.applied.size()});
                curveRendered.add(new double[] {s, t.domainSeen.size()});
                curveReady.add(new double[] {s, t.ready.size()});
            }, 0, size == Size.FULL ? 500 : 100, TimeUnit.MILLISECONDS);
            try {
                applyS = timed(() -> parallel(vms, APPLY_THREADS, vm -> {
                    t.applied.put(vm.getMetadata().getName(), System.nanoTime());
                    bench.resource(vm).fieldManager(VirtfleetStack.FIELD_MANAGER).forceConflicts().serverSideApply();
                    return null;
                }));
                readyCount = t.awaitReady(n, Duration.ofSeconds(120 + n / 5));
                Thread.sleep(500);
            } finally {
                sampler.shutdownNow();
            }
            renderAllS = (Collections.max(t.domainSeen.values()) - t0) / 1e9;
            readyAllS = readyCount == n ? (Collections.max(t.ready.values()) - t0) / 1e9 : Double.NaN;
        }
        ctx.log(String.format("burst: applied in %.1f s, all rendered after %.1f s, %d/%d Ready after %.1f s", applyS,
                renderAllS, readyCount, n, readyAllS));
        awaitQuiet(port, quiet, Duration.ofSeconds(120));
        Map<String, Long> opAfter = operatorMetrics(port);
        Map<String, Long> apiDelta = ApiCounter.only(ApiCounter.delta(apiBefore, ApiCounter.scrapeApiserver(admin)),
                OPERATOR_RESOURCES);
        Map<String, Long> benchDelta = ApiCounter.only(ApiCounter.delta(benchBefore, counter.snapshot()),
                OPERATOR_RESOURCES);
        Map<String, Long> operatorReqs = ApiCounter.minus(apiDelta, benchDelta);
        long opTotal = ApiCounter.sum(operatorReqs);
        long opWrites = ApiCounter.writes(operatorReqs);

        double rssSteady = op.rssMiB(samples, Duration.ofMillis(200));
        ChildJvm.Heap heapSteady = op.heap(heaps, false);
        ChildJvm.Heap liveSteady = op.heap(heaps, true);
        ctx.log(String.format("steady: RSS %.0f MiB, heap used %.0f / committed %.0f MiB, live after GC %.0f MiB",
                rssSteady, heapSteady.usedMiB(), heapSteady.committedMiB(), liveSteady.usedMiB()));

        // Restart: a new operator process lists everything and reconciles every VM once.
        op.stop();
        ctx.closeNow(op);
        Map<String, Long> apiBefore2 = ApiCounter.scrapeApiserver(admin);
        List<String> opts2 = new ArrayList<>(opts);
        if (ctx.profile()) {
            opts2.addAll(Jfr.options(jfr2));
        }
        ChildJvm op2 = ctx.onClose(ChildJvm.start("operator", opts2, ChildJvm.OPERATOR_ENV, args, ctx.out().resolve("scale-operator-2.log")));
        long syncedAt = op2.awaitLog(STARTED, Duration.ofSeconds(180));
        long[] resync = awaitReconciled(port, n, quiet, Duration.ofSeconds(300));
        double informersS = (syncedAt - op2.startNanos()) / 1e9;
        double resyncS = (resync[1] - op2.startNanos()) / 1e9;
        Map<String, Long> resyncDelta = ApiCounter.only(ApiCounter.delta(apiBefore2,
                ApiCounter.scrapeApiserver(admin)), OPERATOR_RESOURCES);
        long resyncWrites = ApiCounter.writes(ApiCounter.only(resyncDelta, List.of("virtualmachines", "domains")));
        double rssAfterResync = op2.rssMiB(samples, Duration.ofMillis(200));
        ChildJvm.Heap heapAfterResync = op2.heap(heaps, false);
        ChildJvm.Heap liveAfterResync = op2.heap(heaps, true);
        ctx.log(String.format("restart: informers synced after %.1f s, %d reconciliations done after %.1f s; RSS %.0f "
                + "MiB", informersS, resync[0], resyncS, rssAfterResync));
        op2.stop();
        ctx.closeNow(op2);

        // Floor 2: what any restarted controller must do: start a JVM, and LIST the VMs, Domains and Hosts.
        double jvmS = jvmStart(ctx, size.pick(1, 3, 3));
        List<Double> lists = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            lists.add(timed(() -> {
                bench.resources(VirtualMachine.class).inNamespace(ns).list();
                bench.resources(Domain.class).inNamespace(ns).list();
                bench.resources(Host.class).list();
                return null;
            }));
        }
        double listS = Stats.median(lists);
        double resyncFloorS = jvmS + listS;

        Map<String, Object> profile = null;
        if (ctx.profile()) {
            profile = new LinkedHashMap<>();
            profile.put("burst", Jfr.summarize(jfr1, 15));
            profile.put("restart", Jfr.summarize(jfr2, 15));
        }

        fleet.close();
        ctx.closeNow(fleet);
        if (size != Size.TINY) {
            ctx.closeNow(cp);
        }

        // Report.
        double opReqPerVm = (double) opTotal / n;
        r.header("figure", "value", "floor", "ratio", "target");
        r.row("apply N VMs (bench client, 8 threads), s", applyS, null, null, null);
        r.row("first apply → all Domains rendered, s", renderAllS, floorWriteS, renderAllS / floorWriteS, null);
        r.row("first apply → all VMs Ready (SIMULATED agent), s", readyAllS, floorWriteS, readyAllS / floorWriteS,
                null);
        r.row("restart → informers synced, s", informersS, null, null, null);
        r.row("restart → full resync done, s", resyncS, resyncFloorS, resyncS / resyncFloorS, "< " + SCALE_RESYNC_S);
        r.row("RSS idle (hosts only), MiB", rssIdle, null, null, null);
        r.row("RSS steady after burst, MiB", rssSteady, rssIdle, rssSteady / rssIdle, "< " + SCALE_RSS_MIB);
        r.row("RSS after restart + resync, MiB", rssAfterResync, rssIdle, rssAfterResync / rssIdle,
                "< " + SCALE_RSS_MIB);
        r.row("heap used (steady), MiB", heapSteady.usedMiB(), null, null, null);
        r.row("heap live after a full GC (steady), MiB", liveSteady.usedMiB(), null, null, null);
        r.row("operator API requests per VM", opReqPerVm, null, null, null);
        r.row("  of which writes per VM", (double) opWrites / n, null, null, null);
        r.row("API writes during resync (VMs+Domains)", resyncWrites, 0, null, null);
        r.put("apply_s", Stats.round(applyS, 2))
                .put("render_all_s", Stats.round(renderAllS, 2))
                .put("ready_all_s", Stats.round(readyAllS, 2))
                .put("ready", readyCount)
                .put("floor_write_domains_s", Stats.round(floorWriteS, 2))
                .put("ratio_render_all_vs_floor", Stats.round(renderAllS / floorWriteS, 3))
                .put("ratio_ready_all_vs_floor", Stats.round(readyAllS / floorWriteS, 3))
                .put("resync_s", Stats.round(resyncS, 2))
                .put("resync_informers_synced_s", Stats.round(informersS, 2))
                .put("resync_reconciliations", resync[0])
                .put("floor_resync_s", Stats.round(resyncFloorS, 2))
                .put("floor_jvm_start_s", Stats.round(jvmS, 2))
                .put("floor_list_s", Stats.round(listS, 3))
                .put("ratio_resync_vs_floor", Stats.round(resyncS / resyncFloorS, 3))
                .put("resync_writes", resyncWrites)
                .put("rss_idle_mib", Stats.round(rssIdle, 1))
                .put("heap_committed_idle_mib", Stats.round(heapIdle.committedMiB(), 1))
                .put("heap_used_idle_mib", Stats.round(heapIdle.usedMiB(), 1))
                .put("rss_steady_mib", Stats.round(rssSteady, 1))
                .put("rss_after_resync_mib", Stats.round(rssAfterResync, 1))
                .put("ratio_rss_steady_vs_idle", Stats.round(rssSteady / rssIdle, 3))
                .put("rss_per_vm_kib", Stats.round((rssSteady - rssIdle) * 1024 / n, 1))
                .put("heap_used_steady_mib", Stats.round(heapSteady.usedMiB(), 1))
                .put("heap_committed_steady_mib", Stats.round(heapSteady.committedMiB(), 1))
                .put("heap_live_steady_mib", Stats.round(liveSteady.usedMiB(), 1))
                .put("heap_live_per_vm_kib", Stats.round(liveSteady.usedMiB() * 1024 / n, 1))
                .put("heap_used_after_resync_mib", Stats.round(heapAfterResync.usedMiB(), 1))
                .put("heap_live_after_resync_mib", Stats.round(liveAfterResync.usedMiB(), 1))
                .put("api_requests_per_vm", Stats.round(opReqPerVm, 2))
                .put("api_writes_per_vm", Stats.round((double) opWrites / n, 2))
                .put("api_requests_by_kind", operatorReqs)
                .put("bench_requests_by_kind", benchDelta)
                .put("operator_metrics", diff(opBefore, opAfter))
                .put("simulated_acks", fleet.acks.get()).put("simulated_ack_errors", fleet.ackErrors.get())
                .put("operator_jvm_opts", ChildJvm.OPERATOR_JVM_OPTS)
                .put("operator_env", ChildJvm.OPERATOR_ENV)
                .put("target_resync_s", SCALE_RESYNC_S).put("target_rss_mib", SCALE_RSS_MIB)
                .put("target_resync_met", resyncS < SCALE_RESYNC_S)
                .put("target_rss_met", Math.max(rssSteady, rssAfterResync) < SCALE_RSS_MIB)
                .put("kubevirt_controller_rss_published", KUBEVIRT_CONTROLLER_RSS_PUBLISHED);
        if (profile != null) {
            r.put("profile", profile);
        }
        r.note("SIMULATED: " + hostCount + " hosts are Host objects + Leases renewed by the bench ("
                + SimulatedFleet.LEASE_SECONDS + " s, every " + SimulatedFleet.RENEW_SECONDS + " s); a fake agent in "
                + "the bench writes Domain.status Running (no libvirt, no agent finalizer). The operator is real.");
        r.note(String.format("floor (render/ready): the same %d Domains written with server-side apply by a plain "
                + "client at %d threads = %.1f s; render-all is %.2f x that", n, OPERATOR_THREADS, floorWriteS,
                renderAllS / floorWriteS));
        r.note(String.format("resync = new operator JVM started → its reconciliation counter reached all %d VMs and "
                        + "stayed still %.0f s; floor = bare JVM start (%.2f s) + LIST of VMs, Domains, Hosts (%.2f s)", n,
                quiet.toMillis() / 1000.0, jvmS, listS));
        r.note(String.format("resync target < %.0f s: %s; RSS target < %.0f MiB: %s (max %.0f MiB)", SCALE_RESYNC_S,
                resyncS < SCALE_RESYNC_S ? "met" : String.format("MISSED by %.1f s", resyncS - SCALE_RESYNC_S),
                SCALE_RSS_MIB, Math.max(rssSteady, rssAfterResync) < SCALE_RSS_MIB ? "met"
                        : String.format("MISSED by %.0f MiB", Math.max(rssSteady, rssAfterResync) - SCALE_RSS_MIB),
                Math.max(rssSteady, rssAfterResync)));
        r.note("API requests: kube-apiserver apiserver_request_total (virtualmachines, domains, hosts, events) before/"
                + "after the burst minus the bench's own requests (counted client-side) = the operator's");
        r.note("KubeVirt virt-controller RSS (published, not measured here): " + KUBEVIRT_CONTROLLER_RSS_PUBLISHED);
        if (readyCount < n) {
            r.status(Report.FAILED).put("error", (n - readyCount) + " VMs never became Ready");
        }
        Path svg = ctx.out().resolve("scale-curve.svg");
        Svg.write(svg, n + " VMs over " + hostCount + " simulated hosts: objects over time", "seconds since first apply",
                "VMs", List.of(new Svg.Series("applied", curveApplied, false, false),
                        new Svg.Series("Domain rendered (operator)", curveRendered, false, false),
                        new Svg.Series("VM Ready (SIMULATED agent ack)", curveReady, false, false)), null);
        r.put("svg", svg.toString());
        return r;
    }

    static String vmName(int i) {
        return String.format("vm-%05d", i);
    }

    private static Domain floorDomain(String ns, String name, String host) {
        String xml = TestGuest.renderedXml(ns, name, MEMORY_MIB, host, "sim-");
        Domain d = new Domain();
        d.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(ns)
                .addToLabels(ApiGroup.HOST_LABEL, host).build());
        DomainSpec s = new DomainSpec();
        s.host = host;
        s.powerState = DomainSpec.POWER_RUNNING;
        s.uuid = java.util.UUID.randomUUID().toString();
        s.domainXml = xml;
        s.restartGeneration = 1L;
        s.shutdownTimeoutSeconds = 120;
        d.setSpec(s);
        return d;
    }

    static <T> Object parallel(List<T> items, int threads, Parallel.Call<T, ?> call) throws Exception {
        return Parallel.map(items, threads, Duration.ofMinutes(10), call);
    }

    interface Timed {
        Object run() throws Exception;
    }

    static double timed(Timed t) throws Exception {
        long t0 = System.nanoTime();
        t.run();
        return (System.nanoTime() - t0) / 1e9;
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    /** A sample line: hand-written text ({@code 12}) or Micrometer's ({@code 12.0}, labels maybe with a "," last). */
    private static final Pattern SAMPLE = Pattern.compile(
            "^((?:virtfleet_operator|operator_sdk)_[a-z_]+)(\\{[^}]*})?\\s+([-+0-9.eE]+)$", Pattern.MULTILINE);

    /** The operator's /metrics, as name{labels} → value; empty while it is not listening. */
    static Map<String, Long> operatorMetrics(int port) {
        Map<String, Long> out = new LinkedHashMap<>();
        try {
            HttpResponse<String> resp = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                    + "/metrics")).timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
            Matcher m = SAMPLE.matcher(resp.body());
            while (m.find()) {
                String labels = m.group(2) == null ? "" : m.group(2).replace(",}", "}");
                out.put(m.group(1) + labels, (long) Double.parseDouble(m.group(3)));
            }
        } catch (IOException e) {
            // not listening (yet)
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return out;
    }

    private static Map<String, Long> diff(Map<String, Long> before, Map<String, Long> after) {
        Map<String, Long> out = new LinkedHashMap<>();
        after.forEach((k, v) -> {
            if (k.endsWith("_total") || k.contains("_total{")) {
                out.put(k, v - before.getOrDefault(k, 0L));
            }
        });
        return out;
    }

    private static void awaitMetric(int port, String key, long atLeast, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (operatorMetrics(port).getOrDefault(key, -1L) < atLeast) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("operator metric " + key + " did not reach " + atLeast + " within "
                        + timeout.toSeconds() + " s (now " + operatorMetrics(port).get(key) + ")");
            }
            Thread.sleep(100);
        }
    }

    /** JOSDK's reconciliation counter: one series per controller kind and retry label. */
    private static final String RECONCILIATIONS = "operator_sdk_reconciliations_started_total";

    /** VirtualMachine reconciliations JOSDK started, summed over its series; -1 while /metrics does not answer. */
    private static long vmReconciliations(int port) {
        Map<String, Long> metrics = operatorMetrics(port);
        if (metrics.isEmpty()) {
            return -1;
        }
        return metrics.entrySet().stream().filter(e -> e.getKey().startsWith(RECONCILIATIONS + "{")
                && e.getKey().contains("kind=\"VirtualMachine\"")).mapToLong(Map.Entry::getValue).sum();
    }

    /** Waits until the reconciliation counter has not moved for {@code quiet}. */
    private static void awaitQuiet(int port, Duration quiet, Duration timeout) throws InterruptedException {
        awaitReconciled(port, 0, quiet, timeout);
    }

    /**
     * Waits until at least {@code n} reconciliations happened and the counter then stayed still for {@code quiet};
     * returns {count, System.nanoTime() of its last change}.
     */
    private static long[] awaitReconciled(int port, long n, Duration quiet, Duration timeout)
            throws InterruptedException {
        String key = "sum(" + RECONCILIATIONS + "{kind=\"VirtualMachine\"})";
        long deadline = System.nanoTime() + timeout.toNanos();
        long last = -1;
        long changedAt = System.nanoTime();
        while (System.nanoTime() < deadline) {
            long v = vmReconciliations(port);
            long now = System.nanoTime();
            if (v != last) {
                last = v;
                changedAt = now;
            } else if (v >= n && now - changedAt >= quiet.toNanos()) {
                return new long[] {v, changedAt};
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("the operator did not settle within " + timeout.toSeconds() + " s ("
                + key + " = " + last + ", expected >= " + n + ")");
    }

    /** A bare JVM start of the same jar: {@code Virtfleet --version}. */
    private static double jvmStart(BenchContext ctx, int reps) throws Exception {
        List<Double> v = new ArrayList<>();
        for (int i = 0; i < reps; i++) {
            Path log = ctx.out().resolve("jvm-start.log");
            v.add(timed(() -> {
                ChildJvm j = ChildJvm.start("version", ChildJvm.OPERATOR_JVM_OPTS, List.of("--version"), log);
                long deadline = System.nanoTime() + 60_000_000_000L;
                while (j.isAlive() && System.nanoTime() < deadline) {
                    Thread.sleep(5);
                }
                j.stop();
                return null;
            }));
        }
        return Stats.median(v);
    }
}
