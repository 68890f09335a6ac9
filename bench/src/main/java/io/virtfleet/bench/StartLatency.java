package io.virtfleet.bench;

import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.reconcilers.render.HostInfo;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Scenario 1: N test-guest VMs applied 100 ms apart through the real stack, apply→Ready, against the floor: the same
 * N domains (the XML virtfleet renders) defined and started 100 ms apart directly with libvirt-java in the same run.
 *
 * <p>What is measured, exactly:
 * <ul>
 *   <li>floor, per domain: from the {@code virDomainDefineXML} call until {@code virDomainCreate} has returned and
 *       {@code virDomainGetInfo} says RUNNING (each domain on its own thread, so starts overlap as applies do);</li>
 *   <li>virtfleet, per VM: from the server-side apply of the VirtualMachine (client side, before the call) until a
 *       watching client receives the VM with condition {@code Ready=True} — which the operator sets once the agent
 *       reported the domain RUNNING in libvirt. Same readiness as the floor, plus the way back to the user.</li>
 * </ul>
 * Neither waits for the guest OS to boot (~7 s under TCG): that is the same for both and is not virtfleet's.
 */
public final class StartLatency extends BaseScenario {
    public static final int MEMORY_MIB = 128;
    public static final long INTERVAL_MS = 100;

    public StartLatency() {
        super("start");
    }

    @Override
    public Report run(BenchContext ctx) throws Exception {
        Size size = ctx.size();
        int n = size.pick(1, 5, 20);
        boolean warmup = size != Size.TINY;
        Report r = report("apply→Ready of " + n + " test-guest VMs applied " + INTERVAL_MS
                + " ms apart, vs raw libvirt-java");
        r.put("n", n).put("interval_ms", INTERVAL_MS).put("memory_mib", MEMORY_MIB);
        if (r.skipped(RawLibvirt.unavailable())) {
            return r;
        }
        VirtfleetStack stack = VirtfleetStack.start(ctx, "start", false);
        Integer reportedCpus = stack.reportedCpus();
        // The floor first, while the (idle) stack waits: its domains render exactly like the stack's.
        List<Double> floor;
        String floorPrefix = ctx.domainPrefix() + "floor-";
        try (RawLibvirt lv = RawLibvirt.open()) {
            floor = floor(lv, stack.floorHost(ctx.name("floor-host"), floorPrefix), n, warmup);
        }
        ctx.log(String.format("floor: %d domains running, P50 %.0f ms", floor.size(), Stats.percentile(floor, 50)));
        Pass main;
        try {
            main = pass(ctx, stack, n, warmup);
        } finally {
            remove(ctx, stack);
        }
        List<Double> total = main.total();
        List<Double> operator = main.operator();
        List<Double> agent = main.agent();
        List<Double> fold = main.fold();
        int readyCount = main.ready();
        // What-if (full size): the same with as many agent workers as VMs, the parallelism the floor has.
        Pass wide = null;
        int defaultWorkers = io.virtfleet.agent.AgentConfig.DEFAULT_WORKERS;
        if (size == Size.FULL && n > defaultWorkers) {
            VirtfleetStack s2 = VirtfleetStack.start(ctx, "start-w" + n, false, n);
            try {
                wide = pass(ctx, s2, n, warmup);
            } finally {
                remove(ctx, s2);
            }
        }

        double fP50 = Stats.percentile(floor, 50);
        double fP95 = Stats.percentile(floor, 95);
        double vP50 = Stats.percentile(total, 50);
        double vP95 = Stats.percentile(total, 95);
        double target = 1.2 * fP95 + 100;
        r.header("path", "n", "P50 ms", "P95 ms", "max ms");
        r.row("floor: libvirt-java define+create → RUNNING", floor.size(), fP50, fP95, Stats.max(floor));
        r.row("virtfleet: apply → VM Ready=True", total.size(), vP50, vP95, Stats.max(total));
        r.row("  operator: apply → Domain written", n, pct(operator, 50), pct(operator, 95), max(operator));
        r.row("  agent: Domain → status RUNNING", n, pct(agent, 50), pct(agent, 95), max(agent));
        r.row("  operator: RUNNING → VM Ready", n, pct(fold, 50), pct(fold, 95), max(fold));
        if (wide != null) {
            r.row("what-if: agent --workers " + n + ": apply → Ready", wide.total().size(), pct(wide.total(), 50),
                    pct(wide.total(), 95), max(wide.total()));
            r.row("  agent: Domain → status RUNNING", n, pct(wide.agent(), 50), pct(wide.agent(), 95),
                    max(wide.agent()));
            r.put("wide_workers", n).put("wide_p50_ms", Stats.round(pct(wide.total(), 50), 1))
                    .put("wide_p95_ms", Stats.round(pct(wide.total(), 95), 1))
                    .put("wide_stage_agent_p50_ms", Stats.round(pct(wide.agent(), 50), 1))
                    .put("wide_target_met", pct(wide.total(), 95) <= 1.2 * Stats.percentile(floor, 95) + 100);
        }
        r.put("ready", readyCount)
                .put("floor_p50_ms", Stats.round(fP50, 1)).put("floor_p95_ms", Stats.round(fP95, 1))
                .put("floor_max_ms", Stats.round(Stats.max(floor), 1))
                .put("p50_ms", Stats.round(vP50, 1)).put("p95_ms", Stats.round(vP95, 1))
                .put("max_ms", Stats.round(Stats.max(total), 1))
                .put("ratio_p50", Stats.round(vP50 / fP50, 3)).put("ratio_p95", Stats.round(vP95 / fP95, 3))
                .put("overhead_p50_ms", Stats.round(vP50 - fP50, 1))
                .put("overhead_p95_ms", Stats.round(vP95 - fP95, 1))
                .put("stage_operator_p50_ms", Stats.round(pct(operator, 50), 1))
                .put("stage_agent_p50_ms", Stats.round(pct(agent, 50), 1))
                .put("stage_fold_p50_ms", Stats.round(pct(fold, 50), 1))
                .put("target_p95_ms", Stats.round(target, 1))
                .put("target_met", vP95 <= target)
                .put("warmup", warmup)
                .put("simulated_host_cpus", VirtfleetStack.SIMULATED_CPUS).put("reported_host_cpus", reportedCpus);
        r.note(String.format("ratio P50 virtfleet/floor = %.2f; overhead P50 %+.0f ms, P95 %+.0f ms", vP50 / fP50,
                vP50 - fP50, vP95 - fP95));
        r.note(String.format("target P95 <= 1.2 x floor P95 + 100 ms = %.0f ms: %s (%.0f ms)", target,
                vP95 <= target ? "met" : String.format("MISSED by %.0f ms", vP95 - target), vP95));
        r.note("Ready = libvirt reports the domain running (floor: virDomainCreate returned + GetInfo RUNNING; "
                + "virtfleet: a watching client sees VM condition Ready=True, set once the agent reported RUNNING)");
        r.note("Host.status.cpus raised from the agent's " + reportedCpus + " to " + VirtfleetStack.SIMULATED_CPUS
                + " (SIMULATED capacity) so that all " + n + " VMs fit on this one host under the scheduler's CPU limit");
        if (warmup) {
            r.note("one warm-up domain was started and removed first on each path (QEMU binaries in the page cache, "
                    + "JIT of the in-process operator and agent)");
        }
        if (wide != null) {
            r.note(String.format("what-if: the agent syncs %d domains in parallel by default; with --workers %d "
                            + "(as parallel as the floor) P50 %.0f ms, P95 %.0f ms", defaultWorkers, n,
                    pct(wide.total(), 50), pct(wide.total(), 95)));
        }
        if (readyCount < n) {
            r.status(Report.FAILED).put("error", (n - readyCount) + " VMs never became Ready");
        }
        Path svg = ctx.out().resolve("start-latency-cdf.svg");
        Svg.write(svg, "Start latency CDF, " + n + " VMs applied " + INTERVAL_MS + " ms apart (TCG)",
                "milliseconds to Ready", "fraction of VMs",
                wide == null ? List.of(Svg.cdf("raw libvirt-java (floor)", floor),
                        Svg.cdf("virtfleet apply → Ready", total),
                        Svg.vline("target P95 (1.2 x floor P95 + 100 ms)", target))
                        : List.of(Svg.cdf("raw libvirt-java (floor)", floor),
                        Svg.cdf("virtfleet apply → Ready (agent default 4 workers)", total),
                        Svg.vline("target P95 (1.2 x floor P95 + 100 ms)", target),
                        Svg.cdf("what-if: agent --workers " + n, wide.total())), 1.0);
        r.put("svg", svg.toString());
        return r;
    }

    /** The VMs of one apply→Ready pass, per VM (ms): total and its three stages. */
    private record Pass(List<Double> total, List<Double> operator, List<Double> agent, List<Double> fold, int ready) {
    }

    /** Applies N VMs 100 ms apart to the stack and times them to Ready (after one warm-up VM, if asked). */
    private static Pass pass(BenchContext ctx, VirtfleetStack stack, int n, boolean warmup) throws Exception {
        List<Double> total = new ArrayList<>();
        List<Double> operator = new ArrayList<>();
        List<Double> agent = new ArrayList<>();
        List<Double> fold = new ArrayList<>();
        int readyCount;
        try (Timeline t = new Timeline(stack.admin, stack.namespace)) {
            if (warmup) {
                stack.apply(TestGuest.vm(stack.namespace, "warmup", MEMORY_MIB));
                if (t.awaitReady(1, Duration.ofSeconds(120)) < 1) {
                    throw new IllegalStateException("the warm-up VM did not become Ready within 120 s");
                }
                stack.deleteAll(Duration.ofSeconds(120));
                t.ready.clear();
                t.domainSeen.clear();
                t.domainRunning.clear();
            }
            List<VirtualMachine> vms = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                vms.add(TestGuest.vm(stack.namespace, vmName(i), MEMORY_MIB));
            }
            Parallel.paced(vms, Math.min(n, 8), INTERVAL_MS, Duration.ofSeconds(60), vm -> {
                t.applied.put(vm.getMetadata().getName(), System.nanoTime());
                stack.apply(vm);
                return null;
            });
            readyCount = t.awaitReady(n, Duration.ofSeconds(60 + 15L * n));
            for (int i = 0; i < n; i++) {
                String vm = vmName(i);
                total.add(Timeline.ms(t.applied, t.ready, vm));
                operator.add(Timeline.ms(t.applied, t.domainSeen, vm));
                agent.add(Timeline.ms(t.domainSeen, t.domainRunning, vm));
                fold.add(Timeline.ms(t.domainRunning, t.ready, vm));
            }
        }
        total.removeIf(d -> d.isNaN());
        return new Pass(total, operator, agent, fold, readyCount);
    }

    private static void remove(BenchContext ctx, VirtfleetStack stack) throws InterruptedException {
        long d0 = System.nanoTime();
        boolean gone = stack.deleteAll(Duration.ofSeconds(180));
        ctx.log(String.format("deleted the VMs (%s in %.1f s)", gone ? "all gone" : "NOT all gone",
                (System.nanoTime() - d0) / 1e9));
        ctx.closeNow(stack);
    }

    static String vmName(int i) {
        return String.format("vm-%02d", i);
    }

    private static double pct(List<Double> v, double p) {
        List<Double> c = new ArrayList<>(v);
        c.removeIf(d -> d.isNaN());
        return Stats.percentile(c, p);
    }

    private static double max(List<Double> v) {
        List<Double> c = new ArrayList<>(v);
        c.removeIf(d -> d.isNaN());
        return Stats.max(c);
    }

    /** The floor: the same domains, defined and started 100 ms apart by libvirt-java alone. */
    private static List<Double> floor(RawLibvirt lv, HostInfo host, int n, boolean warmup) throws Exception {
        // The host is one no agent serves: no agent ever touches these domains.
        String prefix = host.domainPrefix();
        try {
            if (warmup) {
                lv.defineAndStart(TestGuest.renderedXml("floor", "warmup", MEMORY_MIB, host));
                lv.purge(prefix);
            }
            List<String> xmls = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                xmls.add(TestGuest.renderedXml("floor", vmName(i), MEMORY_MIB, host));
            }
            return Parallel.paced(xmls, n, INTERVAL_MS, Duration.ofSeconds(120), xml -> {
                long s = System.nanoTime();
                lv.defineAndStart(xml);
                return (System.nanoTime() - s) / 1e6;
            });
        } finally {
            lv.purge(prefix);
        }
    }
}
