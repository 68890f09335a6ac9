package io.virtfleet.bench;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * Scenario 4: what virtfleet costs on a host per running VM. The node agent runs in its own JVM (deploy/base's heap
 * setting), VMs are started one at a time through the real stack, and after each one is Ready and things settled the
 * agent's RSS and the QEMU processes' RSS are read from /proc. The agent's growth per VM (least-squares slope over
 * 0..N guests) is compared with the RSS of one QEMU process — the floor any libvirt VM costs.
 */
public final class PerVmOverhead extends BaseScenario {
    public static final int MEMORY_MIB = 128;
    /** Published KubeVirt figure: the virt-launcher pod adds at least this much per VM (see RESULTS.md). */
    public static final double KUBEVIRT_LAUNCHER_MIB = 240;

    public PerVmOverhead() {
        super("overhead");
    }

    @Override
    public Report run(BenchContext ctx) throws Exception {
        Size size = ctx.size();
        int n = size.pick(1, 3, 10);
        Duration settle = Duration.ofMillis(size.pick(500, 2000, 3000));
        Report r = report("node agent RSS per running VM (agent in its own JVM) vs QEMU's RSS, 0→" + n
                + " guests");
        r.put("n", n).put("memory_mib", MEMORY_MIB);
        if (r.skipped(RawLibvirt.unavailable())) {
            return r;
        }
        VirtfleetStack stack = VirtfleetStack.start(ctx, "overhead", true);
        ChildJvm agent = stack.agentJvm();
        List<Integer> k = new ArrayList<>();
        List<Double> rss = new ArrayList<>();
        List<Double> live = new ArrayList<>();
        List<Double> qemuTotal = new ArrayList<>();
        List<Double> qemuEach = new ArrayList<>();
        try (Timeline t = new Timeline(stack.admin, stack.namespace)) {
            for (int i = 0; i <= n; i++) {
                if (i > 0) {
                    String name = String.format("vm-%02d", i);
                    stack.apply(TestGuest.vm(stack.namespace, name, MEMORY_MIB));
                    if (t.awaitReady(i, Duration.ofSeconds(120)) < i) {
                        throw new IllegalStateException("VM " + name + " did not become Ready within 120 s");
                    }
                }
                Thread.sleep(settle.toMillis());
                double r0 = agent.rssMiB(size.pick(2, 5, 5), Duration.ofMillis(200));
                ChildJvm.Heap h = agent.heap(size != Size.TINY, true);
                double q = 0;
                for (int j = 1; j <= i; j++) {
                    String dom = TestGuest.domainName(stack.domainPrefix, stack.namespace, String.format("vm-%02d", j));
                    OptionalLong pid = Procs.qemuPid(dom);
                    if (pid.isPresent()) {
                        double m = Procs.rssKiB(pid.getAsLong()) / 1024.0;
                        q += m;
                        if (i == n) {
                            qemuEach.add(m);
                        }
                    }
                }
                k.add(i);
                rss.add(r0);
                live.add(h.usedMiB());
                qemuTotal.add(q);
                ctx.log(String.format("%d VM(s): agent RSS %.1f MiB, live heap %.1f MiB; QEMU total %.1f MiB", i, r0,
                        h.usedMiB(), q));
            }
        } finally {
            long d0 = System.nanoTime();
            boolean gone = stack.deleteAll(Duration.ofSeconds(180));
            ctx.log(String.format("deleted the VMs (%s in %.1f s)", gone ? "all gone" : "NOT all gone",
                    (System.nanoTime() - d0) / 1e9));
            ctx.closeNow(stack);
        }
        double slopeRss = Stats.slope(k, rss);
        double slopeLive = Stats.slope(k, live);
        double qemuPerVm = Stats.mean(qemuEach);
        r.header("VMs", "agent RSS MiB", "agent live heap MiB", "QEMU RSS total MiB");
        for (int i = 0; i < k.size(); i++) {
            r.row(k.get(i), rss.get(i), live.get(i), qemuTotal.get(i));
        }
        r.put("agent_rss_mib", rss.stream().map(v -> Stats.round(v, 1)).toList())
                .put("agent_live_heap_mib", live.stream().map(v -> Stats.round(v, 1)).toList())
                .put("qemu_rss_total_mib", qemuTotal.stream().map(v -> Stats.round(v, 1)).toList())
                .put("agent_rss_idle_mib", Stats.round(rss.get(0), 1))
                .put("agent_rss_per_vm_mib", Stats.round(slopeRss, 2))
                .put("agent_live_heap_per_vm_mib", Stats.round(slopeLive, 3))
                .put("qemu_rss_per_vm_mib", Stats.round(qemuPerVm, 1))
                .put("ratio_agent_per_vm_vs_qemu", Stats.round(slopeRss / qemuPerVm, 4))
                .put("kubevirt_launcher_per_vm_mib_published", KUBEVIRT_LAUNCHER_MIB)
                .put("agent_jvm_opts", ChildJvm.AGENT_JVM_OPTS);
        r.note(String.format("agent growth per running VM: RSS %+.2f MiB (%.1f%% of one QEMU's %.1f MiB), live heap "
                        + "%+.3f MiB; fixed agent cost %.0f MiB RSS per host, not per VM", slopeRss,
                100 * slopeRss / qemuPerVm, qemuPerVm, slopeLive, rss.get(0)));
        r.note(String.format("KubeVirt (published, not measured here): >= %.0f MiB per VM for the virt-launcher pod",
                KUBEVIRT_LAUNCHER_MIB));
        r.note("RSS is the median of " + size.pick(2, 5, 5) + " readings of /proc/PID/status VmRSS after the VM is Ready and " + settle.toMillis()
                + " ms of quiet; live heap = jcmd GC.heap_info after jcmd GC.run; JVM RSS moves in steps of heap "
                + "regions, so with few VMs the slope is noise-dominated");
        Path svg = ctx.out().resolve("per-vm-overhead.svg");
        List<double[]> agentPts = new ArrayList<>();
        List<double[]> qemuPts = new ArrayList<>();
        for (int i = 0; i < k.size(); i++) {
            agentPts.add(new double[] {k.get(i), rss.get(i)});
            qemuPts.add(new double[] {k.get(i), qemuTotal.get(i)});
        }
        Svg.write(svg, "RSS vs running VMs (128 MiB TCG test guests)", "running VMs", "MiB",
                List.of(new Svg.Series("node agent JVM RSS", agentPts, false, false),
                        new Svg.Series("sum of QEMU RSS", qemuPts, false, false)), null);
        r.put("svg", svg.toString());
        return r;
    }
}
