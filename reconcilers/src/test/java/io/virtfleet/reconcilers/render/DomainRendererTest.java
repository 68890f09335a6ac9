package io.virtfleet.reconcilers.render;

import io.virtfleet.api.v1alpha1.ApiGroup;
import io.virtfleet.api.v1alpha1.Hypervisor;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.api.v1alpha1.VirtualMachineSpec;
import io.virtfleet.reconcilers.domain.xml.DomainDef;
import io.virtfleet.reconcilers.domain.xml.DomainXmlCodec;
import io.virtfleet.reconcilers.testing.LibvirtSchema;
import io.virtfleet.reconcilers.testing.Vms;
import io.virtfleet.reconcilers.testing.Xml;
import io.virtfleet.reconcilers.validation.FieldError;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static io.virtfleet.api.v1alpha1.Hypervisor.KVM;
import static io.virtfleet.api.v1alpha1.Hypervisor.OPENVZ;
import static io.virtfleet.api.v1alpha1.Hypervisor.QEMU;
import static io.virtfleet.api.v1alpha1.Hypervisor.XEN;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DomainRendererTest {
    static final HostInfo HOST = new HostInfo("node-a", List.of("/var/lib/virtfleet"), "", null, null);
    static final String GUID = "43dc0cf8-809b-4adb-9bea-a9abb5f3d90e";
    static final String OTHER_GUID = "e9392370-2917-565e-692b-d057f46512d6";

    /**
     * Renders and checks the result against libvirt's schema: every document a test renders is schema-checked, and
     * compared with what the model-building renderer wrote ({@link TreeRenderer}), byte for byte.
     */
    static DomainXml render(VirtualMachine vm, HostInfo host, RenderOptions opts) {
        DomainXml out = DomainRenderer.render(vm, host, opts);
        LibvirtSchema.assertValid(out.xml());
        assertThat(out).as("the streaming renderer writes what the model renderer wrote")
                .isEqualTo(TreeRenderer.render(vm, host, opts));
        return out;
    }

    static DomainXml render(VirtualMachine vm) {
        return render(vm, HOST, new RenderOptions(Identity.uuidFor(vm), null));
    }

    static VirtualMachine vm(Hypervisor h, Consumer<VirtualMachineSpec> change) {
        VirtualMachine vm = Vms.of(h);
        change.accept(vm.getSpec());
        return vm;
    }

    @Nested
    class Hypervisors {
        @ParameterizedTest
        @EnumSource(Hypervisor.class)
        void everyHypervisorRendersASchemaValidDomainOfItsType(Hypervisor h) {
            DomainXml out = render(Vms.of(h));
            assertThat(Xml.values(out.xml(), "/domain/@type")).containsExactly(h.value());
            assertThat(Xml.count(out.xml(), "/domain/@id"))
                    .as("the id is a runtime value (libvirt assigns it to a running domain)").isZero();
        }

        @ParameterizedTest
        @EnumSource(value = Hypervisor.class, names = {"KVM", "QEMU"})
        void qemuDomainsHaveTheGuestAgentChannel(Hypervisor h) {
            // libvirt's qemu-guest-agent support (virDomainInterfaceAddresses with the AGENT source, guest-shutdown,
            // virDomainFSFreeze) talks to the agent on this virtio-serial port; libvirt picks the UNIX socket path.
            String xml = render(Vms.of(h)).xml();
            assertThat(Xml.values(xml, "/domain/devices/channel[target/@name='org.qemu.guest_agent.0']/@type"))
                    .containsExactly("unix");
            assertThat(Xml.values(xml, "/domain/devices/channel[target/@name='org.qemu.guest_agent.0']/target/@type"))
                    .containsExactly("virtio");
            assertThat(Xml.count(xml, "/domain/devices/channel[target/@name='org.qemu.guest_agent.0']/source"))
                    .as("no fixed socket path: libvirt names it under its own channel directory").isZero();
        }

        @Test
        void kvmUsesHostPassthroughAndQemuAFixedTcgModel() {
            assertThat(Xml.values(render(Vms.of(KVM)).xml(), "/domain/cpu/@mode")).containsExactly("host-passthrough");
            String tcg = render(Vms.of(QEMU)).xml();
            assertThat(Xml.values(tcg, "/domain/cpu/@mode")).containsExactly("custom");
            assertThat(Xml.values(tcg, "/domain/cpu/model")).containsExactly("qemu64");
            String max = render(vm(QEMU, s -> s.cpu = cpu("maximum"))).xml();
            assertThat(Xml.values(max, "/domain/cpu/@mode")).containsExactly("maximum");
        }

        @Test
        void q35HasPcieRootPortsForHotPlugAndPcHasNone() {
            String q35 = render(Vms.of(KVM)).xml();
            assertThat(Xml.count(q35, "/domain/devices/controller[@model='pcie-root-port']"))
                    .isEqualTo(QemuDomains.PCIE_ROOT_PORTS);
            assertThat(Xml.values(q35, "/domain/os/type/@machine")).containsExactly("q35");
            String pc = render(vm(KVM, s -> s.machine = "pc")).xml();
            assertThat(Xml.count(pc, "/domain/devices/controller[@type='pci']")).isZero();
            assertThat(Xml.values(pc, "/domain/os/type/@machine")).containsExactly("pc");
        }

        @Test
        void displays() {
            String vnc = render(vm(KVM, s -> s.graphics = "vnc")).xml();
            assertThat(Xml.values(vnc, "/domain/devices/graphics/@type")).containsExactly("vnc");
            // Never a TCP port for VNC: a UNIX socket libvirt names; the agent reaches it with virDomainOpenGraphicsFD.
            assertThat(Xml.values(vnc, "/domain/devices/graphics/listen/@type")).containsExactly("socket");
            assertThat(Xml.count(vnc, "/domain/devices/graphics/@autoport")).isZero();
            String spice = render(vm(KVM, s -> s.graphics = "spice")).xml();
            assertThat(Xml.values(spice, "/domain/devices/graphics/listen/@address")).containsExactly("127.0.0.1");
            String xen = render(vm(Hypervisor.XEN, s -> s.graphics = "vnc")).xml();
            assertThat(Xml.values(xen, "/domain/devices/graphics/listen/@address")).containsExactly("127.0.0.1");
            assertThat(Xml.values(vnc, "/domain/devices/channel/target/@name"))
                    .contains(HostInfo.PORT_FORWARD_CHANNEL_NAME);
            assertThat(Xml.values(vnc, "/domain/devices/video/model/@type")).containsExactly("virtio");
            assertThat(Xml.count(vnc, "/domain/devices/channel[@type='spicevmc']")).isZero();
            assertThat(Xml.count(vnc, "/domain/devices/redirdev")).isZero();
            String none = render(vm(KVM, s -> s.graphics = "none")).xml();
            assertThat(Xml.count(none, "/domain/devices/graphics")).isZero();
            assertThat(Xml.count(none, "/domain/devices/input[@type='tablet']")).isZero();
            assertThat(Xml.values(none, "/domain/devices/video/model/@type")).containsExactly("none");
            assertThat(Xml.count(none, "/domain/devices/serial")).isEqualTo(1);
        }

        @Test
        void xenPvWithAKernel() {
            String xml = render(vm(XEN, s -> {
                s.firmware = new VirtualMachineSpec.Firmware();
                s.firmware.kernelBoot = Vms.kernelBoot("/var/lib/virtfleet/k/vmlinuz", "/var/lib/virtfleet/k/initrd",
                        "root=/dev/xvda console=hvc0");
            })).xml();
            assertThat(Xml.values(xml, "/domain/os/type")).containsExactly("linux");
            assertThat(Xml.values(xml, "/domain/os/type/@machine")).containsExactly("xenpv");
            assertThat(Xml.values(xml, "/domain/os/kernel")).containsExactly("/var/lib/virtfleet/k/vmlinuz");
            assertThat(Xml.count(xml, "/domain/bootloader")).isZero();
            assertThat(Xml.count(xml, "/domain/genid")).as("PV has no genid device").isZero();
            assertThat(Xml.values(xml, "/domain/devices/console/target/@type")).containsExactly("xen");
            assertThat(Xml.values(xml, "/domain/devices/disk/target/@dev")).containsExactly("xvda");
        }

        @Test
        void xenPvWithoutAKernelUsesPygrub() {
            String xml = render(vm(XEN, s -> s.machine = "xenpv")).xml();
            assertThat(Xml.values(xml, "/domain/bootloader")).containsExactly("pygrub");
            assertThat(Xml.values(xml, "/domain/os/type")).containsExactly("linux");
        }

        @Test
        void xenHvmBootsFromDisk() {
            String xml = render(vm(XEN, s -> s.disks.add(Vms.cdrom("iso", "/var/lib/virtfleet/iso/a.iso")))).xml();
            assertThat(Xml.values(xml, "/domain/os/type")).containsExactly("hvm");
            assertThat(Xml.values(xml, "/domain/os/type/@machine")).containsExactly("xenfv");
            assertThat(Xml.values(xml, "/domain/os/boot/@dev")).containsExactly("hd", "cdrom");
            assertThat(Xml.values(xml, "/domain/devices/disk/target/@dev")).containsExactly("xvda", "hda");
            assertThat(Xml.values(xml, "/domain/devices/graphics/@type")).containsExactly("vnc");
            assertThat(Xml.count(xml, "/domain/devices/emulator")).as("libxl picks its device model").isZero();
        }

        @Test
        void xenRawDisksGoToThePhyBackendAndQcow2ToQdisk() {
            String xml = render(vm(XEN, s -> {
                s.disks.add(Vms.disk("data", "/var/lib/virtfleet/images/vm-1-data.raw"));
                s.disks.add(Vms.cdrom("iso", "/var/lib/virtfleet/iso/a.iso"));
            })).xml();
            assertThat(Xml.values(xml, "/domain/devices/disk/driver/@type")).containsExactly("qcow2", "raw", "raw");
            assertThat(Xml.values(xml, "/domain/devices/disk/driver/@name")).as("blkback on a loop device for raw "
                    + "files; qcow2 and the device model's cdrom through QEMU").containsExactly("qemu", "phy", "qemu");
        }

        @Test
        void xenInterfaceTargetIsTheVifname() {
            String xml = render(vm(XEN, s -> {
                s.interfaces.clear();
                VirtualMachineSpec.NetworkInterface n = Vms.bridge("public", "xenbr0");
                n.target = "pv1-public";
                s.interfaces.add(n);
            })).xml();
            assertThat(Xml.values(xml, "/domain/devices/interface/@type")).containsExactly("bridge");
            assertThat(Xml.values(xml, "/domain/devices/interface/target/@dev")).containsExactly("pv1-public");
            assertThat(Xml.count(xml, "/domain/devices/interface/model")).as("netfront is Xen's default").isZero();
        }

        @Test
        void openvzContainerIsNamedByItsCtidAndBuiltFromItsTemplate() {
            VirtualMachine vm = Vms.of(OPENVZ);
            DomainXml out = render(vm);
            int ctid = Integer.parseInt(out.name());
            assertThat(ctid).isBetween(DomainNames.OPENVZ_CTID_MIN, DomainNames.OPENVZ_CTID_MAX)
                    .isEqualTo(DomainNames.openvzCtid(Identity.uuidFor(vm)));
            String xml = out.xml();
            assertThat(Xml.values(xml, "/domain/name")).containsExactly(out.name());
            assertThat(Xml.values(xml, "/domain/os/type")).containsExactly("exe");
            assertThat(Xml.values(xml, "/domain/os/init")).containsExactly("/sbin/init");
            assertThat(Xml.values(xml, "/domain/devices/filesystem[@type='template']/source/@name"))
                    .containsExactly("debian-12-x86_64");
            assertThat(Xml.values(xml, "/domain/devices/filesystem/target/@dir")).containsExactly("/");
            assertThat(Xml.values(xml, "/domain/devices/interface/@type")).containsExactly("bridge");
            assertThat(Xml.count(xml, "/domain/genid")).isZero();
            assertThat(Xml.count(xml, "/domain/devices/emulator | /domain/devices/disk | /domain/devices/graphics"))
                    .isZero();
        }

        @Test
        void openvzCtidCanBeChosenByTheCaller() {
            VirtualMachine vm = Vms.of(OPENVZ);
            assertThat(render(vm, HOST, new RenderOptions(Identity.uuidFor(vm), null, 4242)).name()).isEqualTo("4242");
            assertThatThrownBy(() -> DomainRenderer.render(vm, HOST, new RenderOptions(Identity.uuidFor(vm), null, 7)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("openvzCtid");
        }
    }

    /** genid: auto → {@code <genid/>}, explicit → as given, none → nothing; an override replaces all but none. */
    @Nested
    class Genid {
        record Case(String name, Hypervisor h, String spec, String override, String expected) {
            @Override
            public String toString() {
                return name;
            }
        }

        static final String ABSENT = "(absent)";
        static final String GENERATED = "<genid/>";

        static Stream<Case> cases() {
            return Stream.of(
                    new Case("absent means auto", KVM, null, null, GENERATED),
                    new Case("auto lets libvirt generate", KVM, "auto", null, GENERATED),
                    new Case("explicit GUID used as given, lower-cased", KVM, GUID.toUpperCase(), null, GUID),
                    new Case("none renders nothing", KVM, "none", null, ABSENT),
                    new Case("override replaces auto", KVM, "auto", OTHER_GUID, OTHER_GUID),
                    new Case("override replaces an explicit GUID", KVM, GUID, OTHER_GUID, OTHER_GUID),
                    new Case("override does not turn none into a genid", KVM, "none", OTHER_GUID, ABSENT),
                    new Case("qemu like kvm", QEMU, "auto", null, GENERATED),
                    new Case("Xen HVM has no genid device: libxl is given none", XEN, "auto", null, ABSENT),
                    new Case("Xen HVM override renders nothing either", XEN, "auto", OTHER_GUID, ABSENT),
                    new Case("openvz has no genid device", OPENVZ, "auto", OTHER_GUID, ABSENT));
        }

        @ParameterizedTest(name = "{0}")
        @MethodSource("cases")
        void genidElement(Case c) {
            VirtualMachine vm = vm(c.h(), s -> s.genid = c.spec());
            String xml = render(vm, HOST, new RenderOptions(Identity.uuidFor(vm), c.override())).xml();
            assertThat(Xml.count(xml, "/domain/genid")).as("one genid per domain").isLessThanOrEqualTo(1);
            DomainDef parsed = DomainXmlCodec.parse(xml);
            String actual = parsed.genid == null ? ABSENT : parsed.genid.value == null ? GENERATED : parsed.genid.value;
            assertThat(actual).isEqualTo(c.expected());
        }

        @Test
        void malformedGenidIsAnErrorNotADomain() {
            VirtualMachine vm = vm(KVM, s -> s.genid = "not-a-guid");
            assertThatThrownBy(() -> DomainRenderer.render(vm, HOST, new RenderOptions(Identity.uuidFor(vm), null)))
                    .isInstanceOfSatisfying(InvalidVirtualMachineException.class, e -> assertThat(e.errors())
                            .extracting(FieldError::field).containsExactly("spec.genid"));
            VirtualMachine ok = Vms.of(KVM);
            assertThatThrownBy(() -> DomainRenderer.render(ok, HOST, new RenderOptions(Identity.uuidFor(ok), "x")))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("genid");
        }
    }

    @Nested
    class Identification {
        @Test
        void domainNameIsPrefixNamespaceUnderscoreName() {
            HostInfo prefixed = new HostInfo("node-a", List.of("/var/lib/virtfleet"), "vf-", null, null);
            VirtualMachine vm = Vms.of(KVM);
            DomainXml out = render(vm, prefixed, new RenderOptions(Identity.uuidFor(vm), null));
            assertThat(out.name()).isEqualTo("vf-default_vm-1");
            assertThat(Xml.values(out.xml(), "/domain/name")).containsExactly("vf-default_vm-1");
        }

        @Test
        void uuidIsTheOneGivenLowerCased() {
            VirtualMachine vm = Vms.of(KVM);
            DomainXml out = render(vm, HOST, new RenderOptions(GUID.toUpperCase(), null));
            assertThat(out.uuid()).isEqualTo(GUID);
            assertThat(Xml.values(out.xml(), "/domain/uuid")).containsExactly(GUID);
        }

        @Test
        void uuidMustAgreeWithFirmwareUuid() {
            VirtualMachine vm = vm(KVM, s -> {
                s.firmware = new VirtualMachineSpec.Firmware();
                s.firmware.uuid = GUID;
            });
            assertThat(render(vm).uuid()).isEqualTo(GUID);
            assertThatThrownBy(() -> DomainRenderer.render(vm, HOST, new RenderOptions(OTHER_GUID, null)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("firmware.uuid");
            assertThatThrownBy(() -> DomainRenderer.render(vm, HOST, new RenderOptions(null, null)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("uuid");
        }

        @ParameterizedTest
        @EnumSource(Hypervisor.class)
        void everyDiskAndInterfaceCarriesItsUserAlias(Hypervisor h) {
            VirtualMachine vm = vm(h, s -> {
                if (h != OPENVZ) {
                    s.disks.add(Vms.disk("data", "/var/lib/virtfleet/images/data.raw"));
                }
                s.interfaces.add(Vms.bridge("wan", "br1"));
            });
            DomainDef d = DomainXmlCodec.parse(render(vm).xml());
            assertThat(d.devices.disks).extracting(x -> x.alias.name)
                    .containsExactlyElementsOf(vm.getSpec().disks.stream().map(x -> "ua-" + x.name).toList());
            assertThat(d.devices.interfaces).extracting(x -> x.alias.name)
                    .containsExactlyElementsOf(vm.getSpec().interfaces.stream().map(x -> "ua-" + x.name).toList());
        }

        @ParameterizedTest
        @EnumSource(Hypervisor.class)
        void ownershipMarkNamesTheVmAndHost(Hypervisor h) {
            String xml = render(Vms.of(h)).xml();
            String mark = "/domain/metadata/*[local-name()='vm' and namespace-uri()='" + ApiGroup.LIBVIRT_METADATA_NS
                    + "']";
            assertThat(Xml.values(xml, mark + "/@namespace")).containsExactly("default");
            assertThat(Xml.values(xml, mark + "/@name")).containsExactly("vm-1");
            assertThat(Xml.values(xml, mark + "/@uid")).containsExactly(Vms.UID);
            assertThat(Xml.values(xml, mark + "/@host")).containsExactly("node-a");
            assertThat(xml).contains("<virtfleet:vm xmlns:virtfleet=\"" + ApiGroup.LIBVIRT_METADATA_NS + "\"");
        }

        @Test
        void libosinfoIdFromAShortVariant() {
            String xml = render(vm(KVM, s -> {
                s.os = new VirtualMachineSpec.OperatingSystem();
                s.os.variant = "debian12";
            })).xml();
            assertThat(Xml.values(xml, "/domain/metadata/*[local-name()='libosinfo']/*[local-name()='os']/@id"))
                    .containsExactly("http://debian.org/debian/12");
            assertThat(xml).contains("<libosinfo:libosinfo xmlns:libosinfo=\"http://libosinfo.org/xmlns/libvirt/domain/1.0\">");
        }
    }

    @Nested
    class Devices {
        /** The cloud-init seed is a read-only virtio disk on the host's seed path, after the spec's disks, not booted. */
        @ParameterizedTest
        @EnumSource(value = Hypervisor.class, names = {"KVM", "QEMU"})
        void cloudInitAttachesTheSeedReadOnly(Hypervisor h) {
            VirtualMachine vm = vm(h, s -> {
                s.disks.add(Vms.disk("data", "/var/lib/virtfleet/images/data.qcow2"));
                s.cloudInit = new VirtualMachineSpec.CloudInit();
                s.cloudInit.userData = "#cloud-config\nhostname: web-1\n";
            });
            String uuid = Identity.uuidFor(vm);
            String xml = render(vm).xml();
            String seed = "/domain/devices/disk[alias/@name='ua-cidata']";
            assertThat(Xml.values(xml, seed + "/@device")).containsExactly("disk");
            assertThat(Xml.values(xml, seed + "/source/@file"))
                    .containsExactly("/var/lib/virtfleet/cloud-init/" + uuid + ".iso");
            assertThat(Xml.values(xml, seed + "/driver/@type")).containsExactly("raw");
            assertThat(Xml.values(xml, seed + "/target/@bus")).containsExactly("virtio");
            assertThat(Xml.values(xml, seed + "/readonly")).hasSize(1);
            assertThat(Xml.values(xml, "/domain/devices/disk/alias/@name")).containsExactly("ua-root", "ua-data", "ua-cidata");
            assertThat(Xml.values(xml, "/domain/os/boot/@dev")).containsExactly("hd");
            assertThat(xml).as("user data stays out of the domain XML").doesNotContain("hostname: web-1");
            assertThat(CloudInitSeeds.path(List.of("/var/lib/virtfleet/"), uuid))
                    .isEqualTo("/var/lib/virtfleet/cloud-init/" + uuid + ".iso");
        }

        @Test
        void withoutCloudInitNoSeed() {
            String xml = render(vm(KVM, s -> s.disks.add(Vms.disk("data", "/var/lib/virtfleet/images/d.qcow2")))).xml();
            assertThat(Xml.values(xml, "/domain/devices/disk/alias/@name")).containsExactly("ua-root", "ua-data");
        }

        @Test
        void explicitTargetsAreReservedBeforeAllocating() {
            String xml = render(vm(KVM, s -> {
                s.disks.get(0).target = "vda";
                s.disks.add(0, Vms.disk("first", "/var/lib/virtfleet/images/first.qcow2"));
                s.disks.add(Vms.cdrom("iso", "/var/lib/virtfleet/iso/a.iso"));
                VirtualMachineSpec.Disk scsi = Vms.disk("scsi", "/var/lib/virtfleet/images/scsi.raw");
                scsi.bus = "scsi";
                s.disks.add(scsi);
            })).xml();
            assertThat(Xml.values(xml, "/domain/devices/disk/target/@dev")).containsExactly("vdb", "vda", "sda", "sdb");
            assertThat(Xml.values(xml, "/domain/devices/controller[@type='scsi']/@model")).containsExactly("virtio-scsi");
        }

        @Test
        void targetSuffixesFollowLibvirtNaming() {
            assertThat(List.of(0, 1, 25, 26, 27, 701, 702).stream().map(DiskTargets::suffix))
                    .containsExactly("a", "b", "z", "aa", "ab", "zz", "aaa");
        }

        @Test
        void diskFormatAndReadOnly() {
            String xml = render(vm(KVM, s -> {
                s.disks.add(Vms.disk("raw", "/var/lib/virtfleet/images/x.img"));
                VirtualMachineSpec.Disk ro = Vms.disk("ro", "/var/lib/virtfleet/images/y.qcow2");
                ro.readOnly = true;
                s.disks.add(ro);
                s.disks.add(Vms.cdrom("empty", null));
            })).xml();
            assertThat(Xml.values(xml, "/domain/devices/disk/driver/@type")).containsExactly("qcow2", "raw", "qcow2", "raw");
            assertThat(Xml.values(xml, "/domain/devices/disk[readonly]/alias/@name")).containsExactly("ua-ro", "ua-empty");
            assertThat(Xml.count(xml, "/domain/devices/disk[@device='cdrom']/source")).as("empty drive").isZero();
            assertThat(Xml.values(xml, "/domain/devices/disk[@device='cdrom']/driver/@discard")).isEmpty();
        }

        @Test
        void bootOrderFollowsTheDiskList() {
            String xml = render(vm(KVM, s -> s.disks.add(0, Vms.cdrom("install", "/var/lib/virtfleet/iso/a.iso"))))
                    .xml();
            assertThat(Xml.values(xml, "/domain/os/boot/@dev")).containsExactly("cdrom", "hd");
        }

        @Test
        void directKernelBootReplacesBootDevices() {
            String xml = render(vm(QEMU, s -> {
                s.firmware = new VirtualMachineSpec.Firmware();
                s.firmware.kernelBoot = Vms.kernelBoot("/var/lib/virtfleet/k/vmlinuz", "/var/lib/virtfleet/k/initrd",
                        "console=ttyS0 quiet");
            })).xml();
            assertThat(Xml.values(xml, "/domain/os/kernel")).containsExactly("/var/lib/virtfleet/k/vmlinuz");
            assertThat(Xml.values(xml, "/domain/os/initrd")).containsExactly("/var/lib/virtfleet/k/initrd");
            assertThat(Xml.values(xml, "/domain/os/cmdline")).containsExactly("console=ttyS0 quiet");
            assertThat(Xml.count(xml, "/domain/os/boot")).isZero();
        }

        @Test
        void interfaceWithMacTargetAndModel() {
            String xml = render(vm(KVM, s -> {
                VirtualMachineSpec.NetworkInterface n = s.interfaces.get(0);
                n.macAddress = "52:54:00:6B:3C:58";
                n.target = "web1-lan";
                n.model = "e1000e";
            })).xml();
            assertThat(Xml.values(xml, "/domain/devices/interface/mac/@address")).containsExactly("52:54:00:6b:3c:58");
            assertThat(Xml.values(xml, "/domain/devices/interface/source/@network")).containsExactly("default");
            assertThat(Xml.values(xml, "/domain/devices/interface/target/@dev")).containsExactly("web1-lan");
            assertThat(Xml.values(xml, "/domain/devices/interface/model/@type")).containsExactly("e1000e");
        }

        @Test
        void consoleLogOnlyWhenTheHostKeepsOne() {
            assertThat(Xml.count(render(Vms.of(KVM)).xml(), "//log")).isZero();
            HostInfo logging = new HostInfo("node-a", List.of("/var/lib/virtfleet"), "vf-", "/var/lib/virtfleet/log",
                    null);
            VirtualMachine vm = Vms.of(KVM);
            String xml = render(vm, logging, new RenderOptions(Identity.uuidFor(vm), null)).xml();
            assertThat(Xml.values(xml, "/domain/devices/serial/log/@file"))
                    .containsExactly("/var/lib/virtfleet/log/vf-default_vm-1.log");
            assertThat(Xml.values(xml, "/domain/devices/serial/log/@append")).containsExactly("off");
        }

        @Test
        void guestChannelOnlyWhenTheHostOffersOne() {
            String none = render(Vms.of(KVM)).xml();
            assertThat(Xml.values(none, "/domain/devices/channel/target/@name"))
                    .doesNotContain(HostInfo.GUEST_CHANNEL_NAME);
            HostInfo withChannel = new HostInfo("node-a", List.of("/var/lib/virtfleet"), "vf-", null, null,
                    "/var/lib/virtfleet/run");
            VirtualMachine vm = Vms.of(KVM);
            String xml = render(vm, withChannel, new RenderOptions(Identity.uuidFor(vm), null)).xml();
            String channel = "/domain/devices/channel[target/@name='" + HostInfo.GUEST_CHANNEL_NAME + "']";
            assertThat(Xml.values(xml, channel + "/@type")).containsExactly("unix");
            assertThat(Xml.values(xml, channel + "/source/@mode")).containsExactly("bind");
            assertThat(Xml.values(xml, channel + "/source/@path"))
                    .containsExactly("/var/lib/virtfleet/run/vf-default_vm-1.chan.sock");
        }

        @Test
        void hostsEmulatorIsUsed() {
            HostInfo h = new HostInfo("node-a", List.of("/var/lib/virtfleet"), "", null, "/usr/libexec/qemu-kvm");
            VirtualMachine vm = Vms.of(KVM);
            assertThat(Xml.values(render(vm, h, new RenderOptions(Identity.uuidFor(vm), null)).xml(),
                    "/domain/devices/emulator")).containsExactly("/usr/libexec/qemu-kvm");
        }
    }

    @Nested
    class Safety {
        @Test
        void invalidVmsAreRefusedWithTheValidatorsErrors() {
            VirtualMachine vm = vm(KVM, s -> s.disks.get(0).name = "</disk><disk type='block'>");
            assertThatThrownBy(() -> render(vm))
                    .isInstanceOfSatisfying(InvalidVirtualMachineException.class, e -> assertThat(e.errors())
                            .extracting(FieldError::field).containsExactly("spec.disks[0].name"));
        }

        @Test
        void diskRootsComeFromTheHost() {
            VirtualMachine vm = vm(KVM, s -> s.disks.get(0).volume.path = "/srv/vm/a.qcow2");
            assertThatThrownBy(() -> render(vm)).isInstanceOf(InvalidVirtualMachineException.class)
                    .hasMessageContaining("spec.disks[0].volume.path");
            HostInfo srv = new HostInfo("node-a", List.of("/srv/vm"), "", null, null);
            assertThat(render(vm, srv, new RenderOptions(Identity.uuidFor(vm), null)).xml())
                    .contains("/srv/vm/a.qcow2");
        }

        @Test
        void freeTextIsEscapedNotInterpreted() {
            String cmdline = "a</cmdline><kernel>/etc/shadow</kernel>&'\"";
            VirtualMachine vm = vm(KVM, s -> {
                s.firmware = new VirtualMachineSpec.Firmware();
                s.firmware.kernelBoot = Vms.kernelBoot("/var/lib/virtfleet/k/vmlinuz", null, cmdline);
            });
            String xml = render(vm).xml();
            assertThat(Xml.values(xml, "/domain/os/cmdline")).containsExactly(cmdline);
            assertThat(Xml.values(xml, "/domain/os/kernel")).containsExactly("/var/lib/virtfleet/k/vmlinuz");
        }

        @ParameterizedTest
        @EnumSource(Hypervisor.class)
        void renderingIsDeterministic(Hypervisor h) {
            DomainXml a = render(Vms.of(h));
            DomainXml b = render(Vms.of(h));
            assertThat(b).isEqualTo(a);
        }
    }

    private static VirtualMachineSpec.Cpu cpu(String model) {
        VirtualMachineSpec.Cpu c = new VirtualMachineSpec.Cpu();
        c.model = model;
        return c;
    }
}
