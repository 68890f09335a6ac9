package io.virtfleet.e2e.xen;

import io.virtfleet.api.v1alpha1.DeviceStatus;
import io.virtfleet.api.v1alpha1.Host;
import io.virtfleet.api.v1alpha1.HostStatus;
import io.virtfleet.api.v1alpha1.Hypervisor;
import io.virtfleet.api.v1alpha1.RunStrategy;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.api.v1alpha1.VirtualMachineSpec;
import io.virtfleet.e2e.support.Fleet;
import io.virtfleet.e2e.support.LibvirtGuest;
import io.virtfleet.e2e.support.XenHost;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.time.Duration;
import java.util.HashMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * virtfleet on a real Xen host: Xen 4.17 with a Debian dom0 under QEMU/TCG
 * ({@link XenHost}, scripts/xen-host), the node agent on this machine driving dom0's libvirt (libxl driver) over
 * the loopback port forward, the test guest booted as a PV guest (its cloud kernel has CONFIG_XEN_PV and the Xen
 * block and net front ends). What is asserted is what libxl and the guest show: ids from Xen, the PV console, the
 * guest's own view of its disks and NICs (VF-BLOCK / VF-NET lines), and Domain-0 untouched.
 *
 * <p>One VM ({@code pv-1}) goes through the whole class, in order: creating a Xen domain takes minutes under nested
 * software emulation (libxl builds it in a dom0 that is itself emulated), so the hot-plug and genid checks reuse the
 * running domain the lifecycle test leaves behind instead of starting their own.
 */
@Tag("xen")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class XenPvGuestTest {
    /**
     * One step of a domain's life on the nested host: libxl building the domain in the emulated dom0, then the guest's
     * boot. Measured on the shared 2-core machine at load 35-65: 4 min from start to the domain running, READY at
     * guest uptime 280 s; at load ~20 about 3 min and 50 s.
     */
    private static final Duration BOOT = Duration.ofMinutes(12);
    static XenHost xen;
    static Fleet fleet;
    static String host;
    /** pv-1 as this class applies it (server-side apply of the whole intent, as a GitOps tool would). */
    static VirtualMachine pv1;

    @BeforeAll
    static void start() {
        xen = XenHost.shared();
        fleet = Fleet.startWithXenHost(xen, "x");
        host = fleet.host("x");
    }

    @AfterAll
    static void stop() {
        if (fleet != null) {
            fleet.close();
        }
    }

    /** The test guest as a Xen PV guest: kernel and initramfs from the share, its data disk a copy in the share. */
    static VirtualMachine pvGuest(String name) {
        VirtualMachine vm = fleet.testGuest(name);
        VirtualMachineSpec spec = vm.getSpec();
        spec.hypervisor = Hypervisor.XEN;
        spec.machine = null; // kernelBoot makes it PV (xenpv)
        spec.nodeName = host;
        spec.firmware.kernelBoot.kernel = xen.testGuest().resolve("vmlinuz").toString();
        spec.firmware.kernelBoot.initrd = xen.testGuest().resolve("initrd.img").toString();
        spec.firmware.kernelBoot.cmdline = "console=hvc0";
        spec.disks.clear();
        spec.disks.add(disk("data", fleet.copyOfDataDiskOn(xen, name + "-data").toString()));
        return vm;
    }

    static VirtualMachineSpec.Disk disk(String name, String path) {
        return Fleet.fileDisk(name, path, "raw", null);
    }

    static VirtualMachineSpec.NetworkInterface nic(String name, String mac, String target) {
        VirtualMachineSpec.NetworkInterface n = new VirtualMachineSpec.NetworkInterface();
        n.name = name;
        n.bridge = "xenbr0";
        n.macAddress = mac;
        n.target = target;
        return n;
    }

    static VirtualMachine awaitRunning(String name) {
        return fleet.await(name, "Ready on Xen", BOOT, v -> Fleet.condition(v, "Ready")
                && v.getStatus().domainId != null && v.getStatus().domainId > 0);
    }

    static LibvirtGuest guest(VirtualMachine vm) {
        return fleet.guest(vm);
    }

    static int libvirtId(LibvirtGuest g) {
        return Integer.parseInt(g.virsh("domid", g.name()).output().strip());
    }

    static DeviceStatus device(VirtualMachine vm, String name) {
        return vm.getStatus() == null || vm.getStatus().devices == null ? null
                : vm.getStatus().devices.stream().filter(d -> name.equals(d.name)).findFirst().orElse(null);
    }

    static void request(String name, String value) {
        fleet.client().resources(VirtualMachine.class).inNamespace(fleet.namespace()).withName(name).edit(v -> {
            if (v.getMetadata().getAnnotations() == null) {
                v.getMetadata().setAnnotations(new HashMap<>());
            }
            v.getMetadata().getAnnotations().put("virtfleet.io/request", value);
            return v;
        });
    }

    /** The control domain as libvirt lists it: "0 Domain-0 running". */
    static String domain0() {
        return LibvirtGuest.onXen(xen, "Domain-0").virsh("list", "--all").output().lines()
                .filter(l -> l.contains("Domain-0")).findFirst().orElse("").strip();
    }

    @Test
    @Order(1)
    void theHostsXenDriverIsFoundByProbingDom0sLibvirt() {
        Host h = fleet.client().resources(Host.class).withName(host).get();
        assertThat(h.getStatus()).isNotNull();
        HostStatus.HypervisorDriver xenDriver = h.getStatus().drivers.stream().filter(d -> "xen".equals(d.name))
                .findFirst().orElseThrow();
        assertThat(xenDriver.available).as(String.valueOf(xenDriver.message)).isTrue();
        assertThat(xenDriver.uri).isEqualTo(xen.uri());
        assertThat(xenDriver.version).as("Xen's version as libxl reports it").startsWith("4.17");
        assertThat(h.getStatus().availableDrivers).isEqualTo("xen");
        assertThat(h.getSpec().allowedDiskRoots).containsExactly(xen.share().toString());
        assertThat(domain0()).as("libvirt lists dom0 as id 0").matches("0\\s+Domain-0\\s+running");
    }

    @Test
    @Order(2)
    void aPvGuestRunsAndStopsStartsRestartsAndIsKilledWithXensIds() {
        pv1 = pvGuest("pv-1");
        // RerunOnFailure: started at once and stoppable on request (Always rejects a stop); Always for the kill below.
        pv1.getSpec().runStrategy = RunStrategy.RerunOnFailure;
        pv1.getSpec().interfaces.add(nic("auto", "00:16:3e:5a:00:10", null));
        fleet.apply(pv1);
        VirtualMachine running = awaitRunning("pv-1");
        LibvirtGuest g = guest(running);
        assertThat(g.persistentXml()).contains("<type arch='x86_64' machine='xenpv'>linux</type>")
                .contains("<driver name='phy' type='raw'/>");
        assertThat(libvirtId(g)).isEqualTo(running.getStatus().domainId).isPositive();
        awaitBoot(g, 1);
        assertThat(g.console()).contains("VF-DATA: mounted /dev/xvda at /data").contains("00:16:3e:5a:00:10");
        int firstId = running.getStatus().domainId;
        assertThat(fleet.await("pv-1", "libxl's name of the NIC in status.devices", BOOT,
                v -> device(v, "auto") != null && device(v, "auto").target != null))
                .satisfies(v -> assertThat(device(v, "auto").target).as("libxl's own name vif<domid>.<devid>")
                        .isEqualTo("vif" + firstId + ".0"));

        request("pv-1", "stop/1");
        VirtualMachine stopped = fleet.await("pv-1", "Stopped", BOOT,
                v -> "Stopped".equals(v.getStatus().printableStatus));
        assertThat(stopped.getStatus().domainId).isEqualTo(-1);
        assertThat(g.state()).isEqualTo("shut off");
        assertThat(g.console()).as("a clean shutdown through xenstore, seen by the guest")
                .contains("VF-POWER: power button pressed, powering off");

        request("pv-1", "start/2");
        VirtualMachine started = awaitRunning("pv-1");
        int secondId = started.getStatus().domainId;
        assertThat(secondId).as("Xen gives a new domain a new id").isNotEqualTo(firstId);
        assertThat(libvirtId(g)).isEqualTo(secondId);

        request("pv-1", "restart/3");
        VirtualMachine restarted = fleet.await("pv-1", "restarted", BOOT, v -> Fleet.condition(v, "Ready")
                && v.getStatus().domainId != null && v.getStatus().domainId > 0 && v.getStatus().domainId != secondId);
        int thirdId = restarted.getStatus().domainId;

        // Killed behind virtfleet's back (xl destroy would do the same): runStrategy Always runs it again.
        pv1.getSpec().runStrategy = RunStrategy.Always;
        fleet.apply(pv1);
        fleet.await("pv-1", "runStrategy Always seen", Duration.ofMinutes(2),
                v -> v.getStatus().observedGeneration != null
                        && v.getStatus().observedGeneration >= v.getMetadata().getGeneration());
        assertThat(g.virsh("destroy", g.name()).ok()).isTrue();
        VirtualMachine again = fleet.await("pv-1", "running again after the kill", BOOT, v -> Fleet.condition(v,
                "Ready") && v.getStatus().domainId != null && v.getStatus().domainId > 0
                && v.getStatus().domainId != thirdId);
        int lastId = again.getStatus().domainId;
        assertThat(libvirtId(g)).isEqualTo(lastId);
        assertThat(fleet.await("pv-1", "the NIC's name follows the new domain id", BOOT,
                v -> ("vif" + lastId + ".0").equals(device(v, "auto") == null ? null : device(v, "auto").target)))
                .isNotNull();
        assertThat(domain0()).as("Domain-0 untouched").matches("0\\s+Domain-0\\s+running");
    }

    /** Hot-plug on the running pv-1: a NIC with a requested vifname, one without, then the named one unplugged. */
    @Test
    @Order(3)
    void nicsAreHotPluggedByVifnameAndUnplugged() {
        LibvirtGuest g = guest(fleet.get("pv-1"));
        int boots = awaitCurrentBoot(g);
        int id = fleet.get("pv-1").getStatus().domainId;
        VirtualMachine vm = pv1;
        vm.getSpec().interfaces.add(nic("named", "00:16:3e:5a:00:11", "vfx-named"));
        vm.getSpec().interfaces.add(nic("later", "00:16:3e:5a:00:12", null));
        fleet.apply(vm);
        VirtualMachine plugged = fleet.await("pv-1", "both NICs in status.devices", BOOT,
                v -> device(v, "named") != null && device(v, "later") != null);
        assertThat(device(plugged, "named").target).as("a requested vifname is kept").isEqualTo("vfx-named");
        // libvirt's libxl driver names unnamed NICs (vif<domid>.<devid>) only when it starts a domain; a NIC it
        // hot-plugs keeps no name in the live XML, so there is nothing to read back until the next start.
        assertThat(device(plugged, "later").target).as("libvirt reports no name for a hot-plugged unnamed NIC").isNull();
        assertThat(device(plugged, "later").mac).isEqualTo("00:16:3e:5a:00:12");
        assertThat(Fleet.condition(plugged, "RestartRequired")).isFalse();
        assertThat(g.awaitConsole("VF-NET: .*00:16:3e:5a:00:12", BOOT)).contains("00:16:3e:5a:00:11");
        assertThat(g.virsh("domiflist", g.name()).output()).contains("vfx-named").contains("vif" + id + ".0");

        vm.getSpec().interfaces.removeIf(n -> n.name.equals("named"));
        fleet.apply(vm);
        fleet.await("pv-1", "the named NIC gone", BOOT, v -> device(v, "named") == null);
        g.awaitConsole("VF-NET: (?!.*00:16:3e:5a:00:11).*00:16:3e:5a:00:12", BOOT);
        assertThat(g.virsh("domiflist", g.name()).output()).doesNotContain("vfx-named");
        assertThat(fleet.get("pv-1").getStatus().domainId).as("the same domain throughout").isEqualTo(id);
        assertThat(bootCount(g)).as("no reboot").isEqualTo(boots);
    }

    @Test
    @Order(4)
    void aDiskIsHotPluggedAsXvdbAndUnplugged() {
        LibvirtGuest g = guest(fleet.get("pv-1"));
        int id = fleet.get("pv-1").getStatus().domainId;
        VirtualMachine vm = pv1;
        vm.getSpec().disks.add(disk("extra", fleet.copyOfDataDiskOn(xen, "pv-1-extra").toString()));
        fleet.apply(vm);
        VirtualMachine plugged = fleet.await("pv-1", "xvdb in status.devices", BOOT,
                v -> device(v, "extra") != null && "xvdb".equals(device(v, "extra").target));
        assertThat(g.awaitConsole("VF-BLOCK: .*xvdb", BOOT)).contains("xvda");
        assertThat(g.liveXml()).contains("<target dev='xvdb' bus='xen'/>");
        assertThat(plugged.getStatus().domainId).isEqualTo(id);

        vm.getSpec().disks.removeIf(d -> d.name.equals("extra"));
        fleet.apply(vm);
        fleet.await("pv-1", "xvdb gone", BOOT, v -> device(v, "extra") == null);
        g.awaitConsole("VF-BLOCK: xvda *$", BOOT);
        assertThat(g.liveXml()).doesNotContain("xvdb");
        assertThat(fleet.get("pv-1").getStatus().domainId).as("the same domain throughout").isEqualTo(id);
    }

    /**
     * libvirt's libxl driver keeps a {@code <genid>} in the XML of a PV (or HVM) domain but never gives it to Xen,
     * so the guest has nothing to read: virtfleet renders none for Xen, shows none in the status, and refuses an
     * explicit GUID with a field error instead of pretending.
     */
    @Test
    @Order(5)
    void genidOnXen() {
        VirtualMachine running = fleet.get("pv-1");
        LibvirtGuest g = guest(running);
        assertThat(g.persistentXml()).doesNotContain("<genid");
        assertThat(running.getStatus().genid).isNull();
        assertThat(g.awaitConsole("VF-GENID: ", BOOT)).isEqualTo("VF-GENID: none");

        VirtualMachine explicit = pvGuest("pv-genid-explicit");
        explicit.getSpec().genid = "43dc0cf8-809b-4adb-9bea-a9abb5f3d90e";
        fleet.apply(explicit);
        VirtualMachine refused = fleet.await("pv-genid-explicit", "Failure", Duration.ofSeconds(60),
                v -> Fleet.condition(v, "Failure"));
        assertThat(Fleet.conditionOf(refused, "Failure").getMessage()).contains("spec.genid: Xen guests get no "
                + "generation ID device: libvirt's Xen driver (libxl) does not pass one to Xen");
        assertThat(fleet.domain("pv-genid-explicit")).isNull();
        fleet.delete("pv-genid-explicit");
    }

    @Test
    @Order(6)
    void deletedFromDom0sLibvirtAndDomain0Untouched() {
        LibvirtGuest g = guest(fleet.get("pv-1"));
        fleet.delete("pv-1");
        fleet.awaitDeleted("pv-1");
        assertThat(g.isDefined()).as("deleted from libvirt").isFalse();
        assertThat(domain0()).as("Domain-0 untouched").matches("0\\s+Domain-0\\s+running");
    }

    /** xenconsoled appends every boot of a domain name to one log: boots are counted by their READY lines. */
    static int bootCount(LibvirtGuest g) {
        return (int) g.console().lines().filter(l -> l.contains("VIRTFLEET-GUEST-READY")).count();
    }

    /**
     * Waits until the domain's latest boot (its kernel's first line, the last in the log) has reached READY; returns
     * the count. Ready on Xen means the domain runs, not that the guest has booted, and a boot the test cut short
     * (restart, kill) never printed READY: counting alone would take an earlier boot's READY for this one's.
     */
    static int awaitCurrentBoot(LibvirtGuest g) {
        org.awaitility.Awaitility.await().alias(g.name() + "'s latest boot READY").atMost(BOOT)
                .pollInterval(Duration.ofSeconds(1)).until(() -> {
                    String c = g.console();
                    int kernel = c.lastIndexOf("Linux version");
                    return kernel >= 0 && c.indexOf("VIRTFLEET-GUEST-READY", kernel) > kernel;
                });
        return bootCount(g);
    }

    /** Waits for at least {@code atLeast} boots to have reached READY; returns the count. */
    static int awaitBoot(LibvirtGuest g, int atLeast) {
        org.awaitility.Awaitility.await().alias(g.name() + " booted").atMost(BOOT)
                .pollInterval(Duration.ofSeconds(1)).until(() -> bootCount(g) >= atLeast);
        return bootCount(g);
    }
}
