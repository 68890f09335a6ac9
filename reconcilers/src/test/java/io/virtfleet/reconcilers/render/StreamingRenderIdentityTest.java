package io.virtfleet.reconcilers.render;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.virtfleet.api.v1alpha1.Hypervisor;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.api.v1alpha1.VirtualMachineSpec;
import io.virtfleet.reconcilers.manifest.ManifestDocument;
import io.virtfleet.reconcilers.manifest.Manifests;
import io.virtfleet.reconcilers.platform.Platform;
import io.virtfleet.reconcilers.testing.LibvirtSchema;
import io.virtfleet.reconcilers.testing.Vms;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The streaming renderer writes exactly what the model-building renderer it replaced wrote ({@link TreeRenderer}):
 * on every example manifest for several hosts, and on randomly varied VMs of every hypervisor (disks, buses,
 * targets, cdroms, NICs, CPU models, machines, genids, kernel boot with markup in its command line, cloud-init,
 * graphics, host console logs and channels). A VM one refuses the other refuses with the same error. Every document
 * is also checked against libvirt's RelaxNG schema. {@code DomainRendererTest} compares every render it makes too.
 */
class StreamingRenderIdentityTest {
    static final List<HostInfo> HOSTS = List.of(
            HostInfo.defaults("node-a"),
            new HostInfo("node-b", List.of("/var/lib/virtfleet", "/srv/images"), "vf-", "/var/log/vf", null,
                    "/run/vf/channels"),
            new HostInfo("node-c", List.of("/var/lib/virtfleet/"), "bench-1-", "/", "/usr/libexec/qemu-kvm", "/"));

    @Test
    void everyExampleRendersAsTheModelRendererDid() throws Exception {
        int compared = 0;
        try (Stream<Path> files = Files.list(Path.of("../examples"))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
                for (ManifestDocument doc : Manifests.parse(Files.readString(f))) {
                    if (doc.vm() == null || !doc.errors().isEmpty()) {
                        continue;
                    }
                    for (HostInfo host : HOSTS) {
                        RenderOptions opts = new RenderOptions(Identity.uuidFor(doc.vm()), null);
                        assertSame(doc.vm(), host, opts, f + " on " + host.name());
                        compared++;
                    }
                }
            }
        }
        assertThat(compared).as("example VMs rendered").isGreaterThanOrEqualTo(27);
    }

    @Test
    void randomVmsRenderAsTheModelRendererDid() {
        Random r = new Random(20261202);
        int valid = 0;
        int refused = 0;
        for (int i = 0; i < 1500; i++) {
            VirtualMachine vm = randomVm(r);
            HostInfo host = HOSTS.get(r.nextInt(HOSTS.size()));
            String override = r.nextInt(4) == 0 ? "E9392370-2917-565E-692B-D057F46512D6" : null;
            RenderOptions opts = new RenderOptions(Identity.uuidFor(vm), override);
            if (assertSame(vm, host, opts, "random VM " + i)) {
                valid++;
            } else {
                refused++;
            }
        }
        // The variations are meant to be mostly valid, so that most cases compare documents, not errors.
        assertThat(valid).as("valid random VMs (refused: %d)", refused).isGreaterThan(600);
        assertThat(refused).as("refused random VMs").isGreaterThan(50);
    }

    /** Both renderers give the same document or the same error; returns whether it was a document. */
    static boolean assertSame(VirtualMachine vm, HostInfo host, RenderOptions opts, String what) {
        DomainXml tree;
        try {
            tree = TreeRenderer.render(vm, host, opts);
        } catch (RuntimeException e) {
            RuntimeException mine = null;
            try {
                DomainRenderer.render(vm, host, opts);
            } catch (RuntimeException x) {
                mine = x;
            }
            assertThat(mine).as(what + " is refused by both").isNotNull();
            assertThat(mine).as(what).isInstanceOf(e.getClass()).hasMessage(e.getMessage());
            if (e instanceof InvalidVirtualMachineException invalid) {
                assertThat(((InvalidVirtualMachineException) mine).errors()).as(what).isEqualTo(invalid.errors());
            }
            return false;
        }
        DomainXml streamed = DomainRenderer.render(vm, host, opts);
        assertThat(streamed.xml()).as(what).isEqualTo(tree.xml());
        assertThat(streamed).as(what).isEqualTo(tree);
        LibvirtSchema.assertValid(streamed.xml());
        return true;
    }

    // ------------------------------------------------------------------------------------------------ random VMs

    private static final String ROOT = "/var/lib/virtfleet/images/";

    /**
     * A VM of a random hypervisor. Most choices are among what its platform supports (so that most VMs are valid
     * and compare documents); one VM in five picks from everything, for the errors.
     */
    static VirtualMachine randomVm(Random r) {
        Hypervisor h = pick(r, Hypervisor.values());
        boolean wild = r.nextInt(5) == 0;
        VirtualMachine vm = Vms.of(h);
        vm.setMetadata(new ObjectMetaBuilder().withName(pick(r, "vm-1", "web", "a.b-c"))
                .withNamespace(pick(r, "default", "team-a", null))
                .withUid(r.nextBoolean() ? Vms.UID : null).build());
        VirtualMachineSpec s = vm.getSpec();
        s.memory = new Quantity(pick(r, "512Mi", "1Gi", "2G", "1536Mi", "3000000Ki", "1.5Gi", "100M"));
        boolean qemu = h == Hypervisor.KVM || h == Hypervisor.QEMU;
        s.machine = wild ? pick(r, null, "q35", "pc", "xenfv", "xenpv", "virt")
                : qemu ? pick(r, null, "q35", "pc", "pc-q35-7.2", "pc-i440fx-8.0")
                : h == Hypervisor.XEN ? pick(r, null, "xenfv", "xenpv") : null;
        if (r.nextInt(3) == 0 && h != Hypervisor.OPENVZ) {
            s.firmware = new VirtualMachineSpec.Firmware();
            if (r.nextBoolean()) {
                s.firmware.uuid = "E171AC3A-17A6-46AB-94A3-BA5EF25D4427";
            }
            if (r.nextBoolean() || h == Hypervisor.XEN && "xenpv".equals(s.machine)) {
                s.firmware.kernelBoot = Vms.kernelBoot("/var/lib/virtfleet/k/vmlinuz",
                        r.nextBoolean() ? "/var/lib/virtfleet/k/initrd" : null,
                        pick(r, null, "console=ttyS0", "a</cmdline>&\"'<x>", "root=/dev/vda\tquiet \u00e9"));
            }
        }
        Platform platform = Platform.of(s);
        if (r.nextBoolean()) {
            s.cpu = new VirtualMachineSpec.Cpu();
            s.cpu.cores = r.nextInt(3) == 0 ? null : 1 + r.nextInt(8);
            s.cpu.model = wild ? pick(r, "host-passthrough", "host-model", "qemu64", "no such/model")
                    : h == Hypervisor.KVM ? pick(r, null, "host-passthrough", "host-model", "maximum", "Skylake-Client")
                    : h == Hypervisor.QEMU ? pick(r, null, "maximum", "qemu64")
                    : platform.family() == Platform.Family.XEN_HVM ? pick(r, null, "host-passthrough") : null;
        }
        s.genid = pick(r, null, "auto", "none", wild || qemu ? "43DC0CF8-809B-4ADB-9BEA-A9ABB5F3D90E" : "auto");
        s.graphics = wild ? pick(r, "spice", "vnc", "none") : r.nextBoolean() ? null : pick(r, platform.graphics());
        if (h != Hypervisor.OPENVZ && r.nextBoolean()) {
            s.os = new VirtualMachineSpec.OperatingSystem();
            s.os.variant = pick(r, "debian12", "http://gentoo.org/gentoo/rolling", "fedora40", "win11", "rhel9.4");
        }
        if (h != Hypervisor.OPENVZ) {
            s.disks.clear();
            int disks = r.nextInt(6);
            for (int i = 0; i < disks; i++) {
                s.disks.add(randomDisk(r, i, platform, wild));
            }
        }
        s.interfaces.clear();
        int nics = r.nextInt(4);
        for (int i = 0; i < nics; i++) {
            VirtualMachineSpec.NetworkInterface n = r.nextBoolean() ? Vms.network("n" + i, pick(r, "default", "lan"))
                    : Vms.bridge("n" + i, pick(r, "br0", "xenbr0", "vmbr0"));
            List<String> models = platform.nicModels();
            n.model = wild ? pick(r, "virtio", "netfront") : r.nextBoolean() || models.isEmpty() ? null
                    : models.get(r.nextInt(models.size()));
            n.macAddress = r.nextBoolean() ? String.format("52:54:00:%02X:%02x:%02x", r.nextInt(256), i, r.nextInt(256))
                    : null;
            n.target = r.nextInt(4) == 0 ? "vf" + i + "-t" : null;
            s.interfaces.add(n);
        }
        if (r.nextInt(4) == 0 && (wild || qemu)) {
            s.cloudInit = new VirtualMachineSpec.CloudInit();
            s.cloudInit.userData = "#cloud-config\nhostname: x\n";
        }
        return vm;
    }

    private static VirtualMachineSpec.Disk randomDisk(Random r, int i, Platform platform, boolean wild) {
        boolean cdrom = platform.supportsCdrom() && r.nextInt(4) == 0;
        String path = cdrom ? pick(r, null, "/var/lib/virtfleet/iso/install-" + i + ".iso")
                : ROOT + "d" + i + pick(r, ".qcow2", ".raw", ".img");
        VirtualMachineSpec.Disk d = cdrom ? Vms.cdrom("d" + i, path) : Vms.disk("d" + i, path);
        List<String> buses = platform.diskBuses(cdrom);
        d.bus = wild ? pick(r, "virtio", "sata", "scsi", "usb", "ide", "xen")
                : r.nextBoolean() || buses.isEmpty() ? null : buses.get(r.nextInt(buses.size()));
        if (r.nextInt(5) == 0 && d.bus != null) {
            d.target = Platform.targetPrefix(d.bus) + (char) ('z' - i);
        }
        if (d.volume != null && r.nextInt(4) == 0) {
            d.volume.format = pick(r, "qcow2", "raw");
        }
        d.readOnly = r.nextInt(5) == 0 ? Boolean.TRUE : null;
        return d;
    }

    private static <T> T pick(Random r, List<T> choices) {
        return choices.get(r.nextInt(choices.size()));
    }

    @SafeVarargs
    private static <T> T pick(Random r, T... choices) {
        return choices[r.nextInt(choices.length)];
    }
}
