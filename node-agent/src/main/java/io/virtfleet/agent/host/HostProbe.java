package io.virtfleet.agent.host;

import io.virtfleet.agent.libvirt.LibvirtCallException;
import io.fabric8.kubernetes.api.model.Quantity;
import io.virtfleet.agent.libvirt.Capabilities;
import io.virtfleet.agent.libvirt.EventLoop;
import io.virtfleet.agent.libvirt.LibvirtConnection;
import io.virtfleet.agent.libvirt.LibvirtNative;
import io.virtfleet.api.v1alpha1.HostCpu;
import io.virtfleet.api.v1alpha1.HostNetworking;
import io.virtfleet.api.v1alpha1.HostStatus.HypervisorDriver;
import org.libvirt.Connect;
import org.libvirt.LibvirtException;
import org.libvirt.NodeInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Finds out which hypervisor drivers work on this host and what the host offers. The agent's own connection covers
 * its URI; the other well-known URIs (qemu:///system, xen:///system, openvz:///system) are opened read-only, once, with
 * a timeout. A missing driver is reported with libvirt's message, never fatal.
 */
public final class HostProbe {
    private static final Logger LOG = LoggerFactory.getLogger(HostProbe.class);
    public static final List<String> WELL_KNOWN_URIS = List.of("qemu:///system", "xen:///system",
            "openvz:///system");
    private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(10);

    private final LibvirtConnection main;
    private final List<String> uris;
    private final Path devKvm;
    private final Path cpuinfo;
    private final Path sysClassNet = Path.of("/sys/class/net");

    /** What the probe found. */
    public record Result(List<HypervisorDriver> drivers, Integer cpus, Quantity memory, String libvirtVersion,
                         String qemuVersion, Set<String> emulators, HostNetworking networking, HostCpu cpu) {
        public Result(List<HypervisorDriver> drivers, Integer cpus, Quantity memory, String libvirtVersion,
                      String qemuVersion, Set<String> emulators) {
            this(drivers, cpus, memory, libvirtVersion, qemuVersion, emulators, null, null);
        }

        public String availableDrivers() {
            return String.join(",", drivers.stream().filter(d -> Boolean.TRUE.equals(d.available))
                    .map(d -> d.name).toList());
        }
    }

    public HostProbe(LibvirtConnection main, List<String> extraUris) {
        this(main, extraUris, Path.of("/dev/kvm"), Path.of("/proc/cpuinfo"));
    }

    HostProbe(LibvirtConnection main, List<String> extraUris, Path devKvm, Path cpuinfo) {
        this.main = main;
        this.cpuinfo = cpuinfo;
        LinkedHashSet<String> all = new LinkedHashSet<>();
        all.add(main.uri());
        all.addAll(extraUris);
        this.uris = List.copyOf(all);
        this.devKvm = devKvm;
    }

    public Result probe() {
        List<HypervisorDriver> drivers = new ArrayList<>();
        Integer cpus = null;
        Quantity memory = null;
        String libvirtVersion = null;
        String qemuVersion = null;
        Set<String> emulators = Set.of();
        HostNetworking networking = null;
        HostCpu cpu = null;
        for (String uri : uris) {
            boolean isMain = uri.equals(main.uri());
            String family = family(uri);
            try {
                Probed p = isMain ? probeMain() : probeOther(uri);
                if (isMain) {
                    cpus = p.node.cpus;
                    memory = new Quantity(p.node.memory + "Ki");
                    libvirtVersion = EventLoop.versionString(p.libVersion);
                    emulators = p.caps.emulators();
                    networking = networking();
                    cpu = cpu();
                }
                if ("qemu".equals(family)) {
                    String v = EventLoop.versionString(p.hypervisorVersion);
                    qemuVersion = qemuVersion == null ? v : qemuVersion;
                    drivers.add(new HypervisorDriver("qemu", uri, p.caps.domainTypes().contains("qemu"), v,
                            p.caps.domainTypes().contains("qemu") ? null
                                    : "libvirt offers no domain type 'qemu' (capabilities: " + p.caps.domainTypes()
                                    + ")"));
                    String kvmProblem = kvmProblem(p.caps);
                    drivers.add(new HypervisorDriver("kvm", uri, kvmProblem == null, v, kvmProblem));
                } else if ("xen".equals(family)) {
                    String xenProblem = xenProblem(p.caps);
                    drivers.add(new HypervisorDriver("xen", uri, xenProblem == null,
                            EventLoop.versionString(p.hypervisorVersion), xenProblem));
                } else {
                    drivers.add(new HypervisorDriver(family, uri, true,
                            EventLoop.versionString(p.hypervisorVersion), null));
                }
            } catch (ProbeException e) {
                LOG.info("hypervisor driver {} ({}) not available: {}", family, uri, e.getMessage());
                if ("qemu".equals(family)) {
                    drivers.add(new HypervisorDriver("qemu", uri, false, null, e.getMessage()));
                    drivers.add(new HypervisorDriver("kvm", uri, false, null, e.getMessage()));
                } else {
                    drivers.add(new HypervisorDriver(family, uri, false, null, e.getMessage()));
                }
            }
        }
        return new Result(drivers, cpus, memory, libvirtVersion, qemuVersion, emulators, networking, cpu);
    }

    /** As found now, for the periodic refresh; null when libvirt cannot say. */
    public HostNetworking networkingNow() {
        return networking();
    }

    /** libvirt's networks and the host's bridges; null (not reported, so not checked) when libvirt cannot say. */
    private HostNetworking networking() {
        try {
            return main.call("networks", c -> HostFacts.networking(c, sysClassNet));
        } catch (LibvirtConnection.UnavailableException | LibvirtCallException e) {
            LOG.warn("cannot list libvirt networks: {}", e.getMessage());
        }
        return null;
    }

    private HostCpu cpu() {
        try {
            return HostFacts.cpu(main.capabilities());
        } catch (LibvirtConnection.UnavailableException | LibvirtCallException
                 | IllegalArgumentException e) {
            LOG.warn("cannot read the host CPU: {}", e.getMessage());
        }
        return null;
    }

    /** Why kvm is not usable, or null when it is. */
    String kvmProblem(Capabilities caps) {
        if (!caps.domainTypes().contains("kvm")) {
            return "libvirt offers no domain type 'kvm' (no usable /dev/kvm for QEMU); use type 'qemu' (TCG)";
        }
        if (!Files.exists(devKvm)) {
            return devKvm + " does not exist; use type 'qemu' (TCG)";
        }
        if (!Files.isReadable(devKvm) || !Files.isWritable(devKvm)) {
            return devKvm + " is not readable and writable by the agent; use type 'qemu' (TCG)";
        }
        // Some sandboxes expose a /dev/kvm that libvirt accepts but that cannot run a guest (seen here: the guest
        // never executes); a CPU without VT-x/AMD-V flags is the tell.
        if (!cpuHasVirtualizationFlags()) {
            return "the CPU offers no hardware virtualization (no vmx or svm flag in " + cpuinfo
                    + "); use type 'qemu' (TCG)";
        }
        return null;
    }

    /**
     * Why the Xen driver cannot run guests, or null when it can. libvirt's libxl driver lists a guest of os type
     * {@code xen} (paravirtualized) on every Xen host and {@code hvm} only when Xen has hardware virtualization; a
     * connection that answers but lists neither runs nothing.
     */
    static String xenProblem(Capabilities caps) {
        if (!caps.domainTypes().contains("xen")) {
            return "libvirt offers no domain type 'xen' (capabilities: " + caps.domainTypes() + ")";
        }
        if (!caps.runs("xen", "xen") && !caps.runs("xen", "hvm")) {
            return "libvirt's Xen driver lists neither PV (os type xen) nor HVM guests";
        }
        return null;
    }

    private boolean cpuHasVirtualizationFlags() {
        try (var lines = Files.lines(cpuinfo)) {
            return lines.filter(l -> l.startsWith("flags"))
                    .anyMatch(l -> l.matches(".*\\b(vmx|svm)\\b.*"));
        } catch (java.io.IOException | java.io.UncheckedIOException e) {
            // Not Linux, or /proc not mounted: trust libvirt and /dev/kvm.
            return true;
        }
    }

    static String family(String uri) {
        int colon = uri.indexOf(':');
        String scheme = colon < 0 ? uri : uri.substring(0, colon);
        int plus = scheme.indexOf('+');
        return plus < 0 ? scheme : scheme.substring(0, plus);
    }

    private record Probed(Capabilities caps, NodeInfo node, long libVersion, long hypervisorVersion) {
    }

    private static final class ProbeException extends Exception {
        ProbeException(String message) {
            super(message);
        }
    }

    private Probed probeMain() throws ProbeException {
        try {
            return new Probed(Capabilities.parse(main.capabilities()), main.nodeInfo(), main.libVersion(),
                    main.hypervisorVersion());
        } catch (LibvirtConnection.UnavailableException | LibvirtCallException e) {
            throw new ProbeException(e.getMessage());
        } catch (IllegalArgumentException e) {
            throw new ProbeException(e.getMessage());
        }
    }

    private Probed probeOther(String uri) throws ProbeException {
        ExecutorService ex = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "probe-" + uri);
            t.setDaemon(true);
            return t;
        });
        try {
            Future<Probed> f = ex.submit(() -> {
                EventLoop.ensureRunning();
                Connect c = new Connect(uri, true);
                try {
                    return new Probed(Capabilities.parse(c.getCapabilities()), c.nodeInfo(), c.getLibVersion(),
                            c.getVersion());
                } finally {
                    c.close();
                }
            });
            return f.get(PROBE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            String msg = c instanceof LibvirtException le ? LibvirtConnection.describe(le) : String.valueOf(c);
            throw new ProbeException(msg);
        } catch (TimeoutException e) {
            throw new ProbeException("no answer from " + uri + " within " + PROBE_TIMEOUT.toSeconds() + " s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ProbeException("interrupted");
        } finally {
            ex.shutdownNow();
        }
    }
}
