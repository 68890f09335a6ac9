package io.virtfleet.agent.libvirt;

import io.virtfleet.agent.AgentMetrics;
import io.virtfleet.agent.TestEnv;
import io.virtfleet.agent.host.HostFacts;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.libvirt.Connect;
import org.libvirt.Domain;
import org.libvirt.LibvirtException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/**
 * Not a test: a measurement, run only with {@code -Dleak.probe=N} (calls per operation). Every libvirt call the agent
 * makes while churning is made N times on {@code qemu:///system} against a domain of its own ({@code leakprobe-*},
 * the test guest, booted), and the growth of this process's {@code VmRSS} per call is printed. Native memory that
 * libvirt's client library or JNA mallocs and nobody frees shows as bytes per call that do not go to zero.
 */
class LibvirtCallRssProbe {
    interface Op {
        void run() throws Exception;
    }

    @Test
    void probe() throws Exception {
        int n = Integer.getInteger("leak.probe", 0);
        Assumptions.assumeTrue(n > 0, "a measurement: -Dleak.probe=N");
        String name = "leakprobe-" + ProcessHandle.current().pid();
        String uuid = UUID.randomUUID().toString();
        TestEnv.Guest g = TestEnv.guest("leakprobe-host", "leakprobe", name, uuid);
        ScheduledExecutorService s = Executors.newSingleThreadScheduledExecutor();
        LibvirtConnection lc = new LibvirtConnection(TestEnv.URI, TestEnv.NO_EVENTS, s, new AgentMetrics());
        lc.start();
        try {
            lc.define(g.xml());
            lc.start(uuid, false);
            Thread.sleep(3000);
            String only = System.getProperty("leak.only", "");
            int m = Integer.getInteger("leak.lifecycle", 0);
            if (m > 0) {
                lifecycle(lc, m, only);
                return;
            }
            Map<String, Op> ops = new LinkedHashMap<>();
            String missing = UUID.randomUUID().toString();
            ops.put("noop (baseline)", () -> { });
            ops.put("lookupByUUID", () -> lc.call(c -> c.domainLookupByUUIDString(uuid)));
            ops.put("lookupByUUID+free", () -> lc.call(c -> c.domainLookupByUUIDString(uuid).free()));
            ops.put("LibvirtNative.state", () -> lc.call(c -> LibvirtNative.state(
                    ((LibvirtConnection.AgentConnect) c).pointer(), uuid)));
            ops.put("getXMLDesc(0)", () -> lc.call(c -> {
                Domain d = c.domainLookupByUUIDString(uuid);
                String x = d.getXMLDesc(0);
                d.free();
                return x;
            }));
            ops.put("getName/getID/isActive/isPersistent", () -> lc.call(c -> {
                Domain d = c.domainLookupByUUIDString(uuid);
                d.getName();
                d.getID();
                d.isActive();
                d.isPersistent();
                d.free();
                return null;
            }));
            ops.put("getUUIDString", () -> lc.call(c -> {
                Domain d = c.domainLookupByUUIDString(uuid);
                d.getUUIDString();
                d.free();
                return null;
            }));
            ops.put("inspect", () -> lc.inspect(uuid));
            ops.put("listAll", lc::listAll);
            ops.put("listAllDomains+free", () -> lc.call(c -> {
                for (Domain d : c.listAllDomains(0)) {
                    d.free();
                }
                return null;
            }));
            ops.put("capabilities", lc::capabilities);
            ops.put("nodeInfo", lc::nodeInfo);
            ops.put("versions", () -> {
                lc.libVersion();
                lc.hypervisorVersion();
            });
            ops.put("HostFacts.networking", () -> lc.call(c -> HostFacts.networking(c, Path.of("/sys/class/net"))));
            ops.put("snapshotListNames", () -> lc.call(c -> {
                Domain d = c.domainLookupByUUIDString(uuid);
                d.snapshotListNames();
                d.free();
                return null;
            }));
            ops.put("interfaceAddresses(agent) error", () -> lc.call(c -> {
                Domain d = c.domainLookupByUUIDString(uuid);
                try {
                    d.interfaceAddresses(Domain.InterfaceAddressesSource.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_AGENT, 0);
                } catch (LibvirtException e) {
                    // no agent in the probe guest
                }
                d.free();
                return null;
            }));
            ops.put("interfaceAddresses(lease)", () -> lc.call(c -> {
                Domain d = c.domainLookupByUUIDString(uuid);
                try {
                    d.interfaceAddresses(Domain.InterfaceAddressesSource.VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE, 0);
                } catch (LibvirtException e) {
                    // none
                }
                d.free();
                return null;
            }));
            ops.put("lookup missing (error)", () -> {
                try {
                    lc.inspect(missing);
                } catch (LibvirtCallException e) {
                    // expected empty
                }
            });
            ops.put("LibvirtNative.state missing (error)", () -> {
                try {
                    lc.call(c -> LibvirtNative.state(((LibvirtConnection.AgentConnect) c).pointer(), missing));
                } catch (LibvirtCallException e) {
                    // expected
                }
            });
            ops.put("getJobInfo", () -> lc.call(c -> {
                Domain d = c.domainLookupByUUIDString(uuid);
                d.getJobInfo();
                d.free();
                return null;
            }));
            ops.put("getJobStats", () -> lc.call(c -> {
                Domain d = c.domainLookupByUUIDString(uuid);
                d.getJobStats(0);
                d.free();
                return null;
            }));
            int rounds = Integer.getInteger("leak.rounds", 3);
            System.out.printf("%-40s %8s  B/call per round (RSS growth over n calls, after GC)%n", "operation",
                    "calls");
            for (Map.Entry<String, Op> e : ops.entrySet()) {
                if (!only.isEmpty() && !e.getKey().matches(only)) {
                    continue;
                }
                for (int i = 0; i < Math.min(n / 10, 500); i++) {
                    e.getValue().run();
                }
                StringBuilder line = new StringBuilder(String.format("%-40s %8d ", e.getKey(), n));
                for (int r = 0; r < rounds; r++) {
                    long before = settledRss();
                    for (int i = 0; i < n; i++) {
                        e.getValue().run();
                    }
                    long after = settledRss();
                    line.append(String.format(" %+8.1f", (after - before) * 1024.0 / n));
                }
                System.out.println(line);
            }
        } finally {
            try {
                lc.destroy(uuid);
            } catch (Exception e) {
                // not running
            }
            lc.undefine(uuid, Domain.UndefineFlags.MANAGED_SAVE | Domain.UndefineFlags.SNAPSHOTS_METADATA);
            lc.close();
            s.shutdownNow();
            Files.deleteIfExists(g.disk());
        }
    }

    /** The slow calls (each a round trip that changes a domain, with its lifecycle events), m per round. */
    private void lifecycle(LibvirtConnection lc, int m, String only) throws Exception {
        String name2 = "leakprobe-" + ProcessHandle.current().pid() + "-b";
        String uuid2 = UUID.randomUUID().toString();
        TestEnv.Guest g2 = TestEnv.guest("leakprobe-host", "leakprobe", name2, uuid2);
        io.virtfleet.agent.snapshot.SnapshotOps snaps = new io.virtfleet.agent.snapshot.SnapshotOps(lc);
        String uuid = lc.listAll().stream().filter(d -> d.name().startsWith("leakprobe-" + ProcessHandle.current()
                .pid())).findFirst().orElseThrow().uuid();
        lc.define(g2.xml());
        try {
            Map<String, Op> ops = new LinkedHashMap<>();
            ops.put("redefine", () -> lc.define(g2.xml()));
            ops.put("start+destroy", () -> {
                lc.start(uuid2, false);
                lc.destroy(uuid2);
            });
            ops.put("suspend+resume", () -> {
                lc.suspend(uuid);
                lc.resume(uuid);
            });
            ops.put("snapshot create+delete (inactive)", () -> {
                snaps.create(uuid2, "p");
                snaps.delete(uuid2, "p");
            });
            for (Map.Entry<String, Op> e : ops.entrySet()) {
                if (!only.isEmpty() && !e.getKey().matches(only)) {
                    continue;
                }
                for (int i = 0; i < Math.max(m / 10, 3); i++) {
                    e.getValue().run();
                }
                StringBuilder line = new StringBuilder(String.format("%-40s %8d ", e.getKey(), m));
                for (int r = 0; r < 3; r++) {
                    long t0 = System.nanoTime();
                    long before = settledRss();
                    for (int i = 0; i < m; i++) {
                        e.getValue().run();
                    }
                    long after = settledRss();
                    line.append(String.format(" %+8.1f", (after - before) * 1024.0 / m));
                    line.append(String.format(" (%d ms/op)", (System.nanoTime() - t0) / 1_000_000 / m));
                }
                System.out.println(line);
            }
        } finally {
            lc.undefine(uuid2, Domain.UndefineFlags.MANAGED_SAVE | Domain.UndefineFlags.SNAPSHOTS_METADATA);
            Files.deleteIfExists(g2.disk());
        }
    }

    static long settledRss() throws Exception {
        for (int i = 0; i < 3; i++) {
            System.gc();
            System.runFinalization();
            Thread.sleep(100);
        }
        return rssKib();
    }

    static long rssKib() throws Exception {
        for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (l.startsWith("VmRSS:")) {
                return Long.parseLong(l.replaceAll("[^0-9]", ""));
            }
        }
        throw new IllegalStateException("no VmRSS");
    }
}
