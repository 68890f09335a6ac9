package io.virtfleet.reconcilers.validation;

import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.Quantity;
import io.virtfleet.api.v1alpha1.Hypervisor;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.api.v1alpha1.VirtualMachineSpec;
import io.virtfleet.reconcilers.testing.Vms;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static io.virtfleet.api.v1alpha1.Hypervisor.KVM;
import static io.virtfleet.api.v1alpha1.Hypervisor.OPENVZ;
import static io.virtfleet.api.v1alpha1.Hypervisor.QEMU;
import static io.virtfleet.api.v1alpha1.Hypervisor.XEN;
import static org.assertj.core.api.Assertions.assertThat;

class VirtualMachineValidatorTest {
    private static final String TOO_LONG = "a".repeat(Text.MAX_LENGTH + 1);

    /** One rule, one broken VM, and the exact error it must produce (and no other). */
    record Case(String rule, Hypervisor hypervisor, Consumer<VirtualMachine> breakIt, String expected) {
        @Override
        public String toString() {
            return rule;
        }
    }

    private static Case c(String rule, Hypervisor h, Consumer<VirtualMachine> breakIt, String expected) {
        return new Case(rule, h, breakIt, expected);
    }

    private static VirtualMachineSpec.Disk disk0(VirtualMachine vm) {
        return vm.getSpec().disks.get(0);
    }

    private static VirtualMachineSpec.NetworkInterface nic0(VirtualMachine vm) {
        return vm.getSpec().interfaces.get(0);
    }

    static Stream<Case> cases() {
        return Stream.of(
                // metadata
                c("metadata.name required", KVM, vm -> vm.getMetadata().setName(null), "metadata.name: required"),
                c("metadata.name is a DNS subdomain", KVM, vm -> vm.getMetadata().setName("Web_1"),
                        "metadata.name: \"Web_1\" is not a DNS subdomain (lower-case letters, digits, '-' and '.', "
                                + "at most 253 characters)"),
                c("metadata.namespace is a DNS label", KVM, vm -> vm.getMetadata().setNamespace("a.b"),
                        "metadata.namespace: \"a.b\" is not a DNS label (lower-case letters, digits and '-', "
                                + "starting and ending with a letter or digit, at most 63 characters)"),
                c("spec required", KVM, vm -> vm.setSpec(null), "spec: required"),
                // hypervisor, placement
                c("hypervisor required", KVM, vm -> vm.getSpec().hypervisor = null,
                        "spec.hypervisor: required (one of kvm, qemu, xen, openvz)"),
                c("nodeName and hostSelector are exclusive", KVM, vm -> {
                    vm.getSpec().nodeName = "node-a";
                    vm.getSpec().hostSelector = new LabelSelector();
                }, "spec.nodeName: set either nodeName or hostSelector, not both"),
                // firmware
                c("firmware.uuid syntax", KVM, vm -> firmware(vm).uuid = "e171ac3a-17a6-46ab-94a3",
                        "spec.firmware.uuid: \"e171ac3a-17a6-46ab-94a3\" is not a UUID (expected 8-4-4-4-12 hex "
                                + "digits)"),
                c("firmware.uuid not nil", KVM, vm -> firmware(vm).uuid = "00000000-0000-0000-0000-000000000000",
                        "spec.firmware.uuid: the nil UUID cannot identify a domain"),
                c("kernelBoot needs a kernel", KVM, vm -> firmware(vm).kernelBoot = Vms.kernelBoot(null, null, "x"),
                        "spec.firmware.kernelBoot.kernel: required when kernelBoot is set"),
                c("kernel path under an allowed root", KVM, vm -> firmware(vm).kernelBoot =
                                Vms.kernelBoot("/boot/vmlinuz", null, null),
                        "spec.firmware.kernelBoot.kernel: \"/boot/vmlinuz\" is not under an allowed disk root "
                                + "(/var/lib/virtfleet)"),
                c("initrd path normalized", KVM, vm -> firmware(vm).kernelBoot =
                                Vms.kernelBoot("/var/lib/virtfleet/k", "/var/lib/virtfleet//initrd", null),
                        "spec.firmware.kernelBoot.initrd: \"/var/lib/virtfleet//initrd\" is not normalized (no "
                                + "\".\" or \"..\" segments, no \"//\", no trailing \"/\")"),
                c("cmdline without control characters", KVM, vm -> firmware(vm).kernelBoot =
                                Vms.kernelBoot("/var/lib/virtfleet/k", null, "console=ttyS0\u0000"),
                        "spec.firmware.kernelBoot.cmdline: contains a control character at position 13"),
                // genid
                c("genid malformed", KVM, vm -> vm.getSpec().genid = "abc",
                        "spec.genid: \"abc\" is not a GUID (expected 8-4-4-4-12 hex digits, \"auto\" or \"none\")"),
                c("genid almost a GUID", KVM, vm -> vm.getSpec().genid = "43dc0cf8-809b-4adb-9bea-a9abb5f3d90",
                        "spec.genid: \"43dc0cf8-809b-4adb-9bea-a9abb5f3d90\" is not a GUID (expected 8-4-4-4-12 hex "
                                + "digits, \"auto\" or \"none\")"),
                c("genid Auto is case-sensitive", KVM, vm -> vm.getSpec().genid = "Auto",
                        "spec.genid: \"Auto\" is not a GUID (expected 8-4-4-4-12 hex digits, \"auto\" or \"none\")"),
                c("genid nil", KVM, vm -> vm.getSpec().genid = "00000000-0000-0000-0000-000000000000",
                        "spec.genid: the nil GUID is not a generation ID (use \"none\" for no genid device)"),
                c("genid explicit on Xen PV", XEN, vm -> {
                    firmware(vm).kernelBoot = Vms.kernelBoot("/var/lib/virtfleet/k", null, null);
                    vm.getSpec().genid = "43dc0cf8-809b-4adb-9bea-a9abb5f3d90e";
                }, "spec.genid: Xen guests get no generation ID device: libvirt's Xen driver (libxl) does not pass one "
                        + "to Xen (use \"auto\" or \"none\")"),
                c("genid explicit on Xen HVM", XEN, vm -> vm.getSpec().genid = "43dc0cf8-809b-4adb-9bea-a9abb5f3d90e",
                        "spec.genid: Xen guests get no generation ID device: libvirt's Xen driver (libxl) does not "
                                + "pass one to Xen (use \"auto\" or \"none\")"),
                c("genid explicit on openvz", OPENVZ, vm -> vm.getSpec().genid = "43dc0cf8-809b-4adb-9bea-a9abb5f3d90e",
                        "spec.genid: openvz containers have no generation ID device (use \"auto\" or \"none\")"),
                // cpu, memory
                c("cpu.cores at least 1", KVM, vm -> cpu(vm).cores = 0, "spec.cpu.cores: must be at least 1"),
                c("cpu.cores bounded", KVM, vm -> cpu(vm).cores = 100_000, "spec.cpu.cores: must be at most 4096"),
                c("host-passthrough needs KVM", QEMU, vm -> cpu(vm).model = "host-passthrough",
                        "spec.cpu.model: host-passthrough needs KVM; with hypervisor qemu (TCG emulation) use maximum "
                                + "or a named model such as qemu64"),
                c("cpu.model on openvz", OPENVZ, vm -> cpu(vm).model = "host-passthrough",
                        "spec.cpu.model: openvz containers run on the host CPU; cpu.model is not supported"),
                c("memory required", KVM, vm -> vm.getSpec().memory = null, "spec.memory: required (e.g. 2Gi)"),
                c("memory zero", KVM, vm -> vm.getSpec().memory = new Quantity("0"),
                        "spec.memory: must be greater than 0"),
                c("memory negative", KVM, vm -> vm.getSpec().memory = new Quantity("-1Gi"),
                        "spec.memory: must be greater than 0"),
                c("memory not a quantity", KVM, vm -> vm.getSpec().memory = new Quantity("lots"),
                        "spec.memory: \"lots\" is not a quantity (e.g. 512Mi or 2Gi)"),
                c("memory bounded", KVM, vm -> vm.getSpec().memory = new Quantity("2Ei"),
                        "spec.memory: must be at most 1Pi"),
                // machine
                c("machine for kvm", KVM, vm -> vm.getSpec().machine = "virt",
                        "spec.machine: unsupported machine \"virt\" for kvm (expected q35, pc, pc-q35-<version> or "
                                + "pc-i440fx-<version>)"),
                c("machine for xen", XEN, vm -> vm.getSpec().machine = "q35",
                        "spec.machine: unsupported machine \"q35\" for xen (expected xenfv or xenpv)"),
                c("machine for openvz", OPENVZ, vm -> vm.getSpec().machine = "q35",
                        "spec.machine: unsupported machine \"q35\" for openvz (expected none (containers have no "
                                + "machine type))"),
                // disks
                c("disk name required", KVM, vm -> disk0(vm).name = null, "spec.disks[0].name: required"),
                c("disk name is a DNS label", KVM, vm -> disk0(vm).name = "Root",
                        "spec.disks[0].name: \"Root\" is not a DNS label (lower-case letters, digits and '-', "
                                + "starting and ending with a letter or digit, at most 63 characters)"),
                c("disk name at most 63 characters", KVM, vm -> disk0(vm).name = "a".repeat(64),
                        "spec.disks[0].name: \"" + "a".repeat(64) + "\" is not a DNS label (lower-case letters, "
                                + "digits and '-', starting and ending with a letter or digit, at most 63 characters)"),
                c("hostile disk name", KVM, vm -> disk0(vm).name = "x</disk><disk type='block'>",
                        "spec.disks[0].name: \"x</disk><disk type='block'>\" is not a DNS label (lower-case letters, "
                                + "digits and '-', starting and ending with a letter or digit, at most 63 characters)"),
                c("disk names unique", KVM, vm -> vm.getSpec().disks.add(Vms.disk("root",
                                "/var/lib/virtfleet/images/other.qcow2")),
                        "spec.disks[1].name: duplicate name \"root\" (also spec.disks[0].name)"),
                c("disk needs a volume", KVM, vm -> disk0(vm).volume = null,
                        "spec.disks[0].volume.path: required (only a cdrom drive may be empty)"),
                c("disk path absolute", KVM, vm -> disk0(vm).volume.path = "images/a.qcow2",
                        "spec.disks[0].volume.path: \"images/a.qcow2\" is not an absolute path"),
                c("disk path without ..", KVM, vm -> disk0(vm).volume.path = "/var/lib/virtfleet/../../etc/shadow",
                        "spec.disks[0].volume.path: \"/var/lib/virtfleet/../../etc/shadow\" is not normalized (no "
                                + "\".\" or \"..\" segments, no \"//\", no trailing \"/\")"),
                c("disk path without trailing /", KVM, vm -> disk0(vm).volume.path = "/var/lib/virtfleet/images/",
                        "spec.disks[0].volume.path: \"/var/lib/virtfleet/images/\" is not normalized (no \".\" or "
                                + "\"..\" segments, no \"//\", no trailing \"/\")"),
                c("disk path at a segment boundary", KVM, vm -> disk0(vm).volume.path = "/var/lib/virtfleetx/a.qcow2",
                        "spec.disks[0].volume.path: \"/var/lib/virtfleetx/a.qcow2\" is not under an allowed disk "
                                + "root (/var/lib/virtfleet)"),
                c("disk path with control characters", KVM, vm -> disk0(vm).volume.path = "/var/lib/virtfleet/a\nb",
                        "spec.disks[0].volume.path: contains a control character at position 20"),
                c("disk path length capped", KVM, vm -> disk0(vm).volume.path = "/var/lib/virtfleet/" + TOO_LONG,
                        "spec.disks[0].volume.path: too long (4116 characters, at most 4096)"),
                c("writable image attached once", KVM, vm -> vm.getSpec().disks.add(Vms.disk("copy",
                                "/var/lib/virtfleet/images/vm-1.qcow2")),
                        "spec.disks[1].volume.path: same image as spec.disks[0].volume.path (a writable image must "
                                + "not be attached twice)"),
                c("disk format", KVM, vm -> format(disk0(vm), "vmdk"),
                        "spec.disks[0].volume.format: unsupported format \"vmdk\" (expected one of qcow2, raw)"),
                c("cdrom media is raw", KVM, vm -> {
                    vm.getSpec().disks.add(Vms.cdrom("iso", "/var/lib/virtfleet/iso/a.iso"));
                    format(vm.getSpec().disks.get(1), "qcow2");
                }, "spec.disks[1].volume.format: a cdrom's media is raw (an ISO image), not qcow2"),
                c("kvm disk bus", KVM, vm -> disk0(vm).bus = "xen",
                        "spec.disks[0].bus: unsupported bus \"xen\" for a disk on a q35 machine (expected one of "
                                + "virtio, sata, scsi, usb)"),
                c("no ide on q35", KVM, vm -> disk0(vm).bus = "ide",
                        "spec.disks[0].bus: unsupported bus \"ide\" for a disk on a q35 machine (q35 machines have no "
                                + "IDE controller; use sata) (expected one of virtio, sata, scsi, usb)"),
                c("ide has four units", KVM, vm -> {
                    vm.getSpec().machine = "pc";
                    vm.getSpec().disks.clear();
                    for (int i = 0; i < 5; i++) {
                        vm.getSpec().disks.add(Vms.cdrom("cd" + i, null));
                    }
                }, "spec.disks[4]: the IDE bus has room for 4 devices (hda-hdd)"),
                c("disk target fits its bus", KVM, vm -> disk0(vm).target = "sda",
                        "spec.disks[0].target: \"sda\" does not name a disk on bus virtio (expected vd followed by "
                                + "letters, e.g. vdb)"),
                c("disk targets unique", KVM, vm -> {
                    disk0(vm).target = "vdb";
                    VirtualMachineSpec.Disk d = Vms.disk("data", "/var/lib/virtfleet/images/data.qcow2");
                    d.target = "vdb";
                    vm.getSpec().disks.add(d);
                }, "spec.disks[1].target: duplicate target \"vdb\" (also spec.disks[0].target)"),
                c("xen disk bus", XEN, vm -> disk0(vm).bus = "virtio",
                        "spec.disks[0].bus: unsupported bus \"virtio\" for a disk of a Xen HVM guest (expected one of "
                                + "xen, ide, scsi)"),
                c("xen PV has no cdrom", XEN, vm -> {
                    vm.getSpec().machine = "xenpv";
                    vm.getSpec().disks.add(Vms.cdrom("iso", null));
                }, "spec.disks[1].cdrom: Xen PV guests have no cdrom drives (use machine xenfv for an HVM guest)"),
                c("openvz disk bus", OPENVZ, vm -> {
                    vm.getSpec().disks.add(Vms.disk("data", "/var/lib/virtfleet/images/data.raw"));
                    disk0(vm).bus = "virtio";
                }, "spec.disks[0].bus: openvz containers have no disk buses (the root filesystem comes from "
                        + "os.template)"),
                c("openvz cdrom", OPENVZ, vm -> vm.getSpec().disks.add(Vms.cdrom("iso", null)),
                        "spec.disks[0].cdrom: openvz containers have no cdrom drives"),
                c("openvz disk", OPENVZ, vm -> vm.getSpec().disks.add(Vms.disk("data", "/var/lib/virtfleet/d.raw")),
                        "spec.disks[0]: openvz containers have no disks (the root filesystem comes from os.template)"),
                c("at most 64 disks", KVM, vm -> {
                    vm.getSpec().disks.clear();
                    for (int i = 0; i < 65; i++) {
                        vm.getSpec().disks.add(Vms.cdrom("cd" + i, null));
                    }
                }, "spec.disks: too many disks (65, at most 64)"),
                // interfaces
                c("interface name required", KVM, vm -> nic0(vm).name = "", "spec.interfaces[0].name: required"),
                c("interface names unique", KVM, vm -> vm.getSpec().interfaces.add(Vms.bridge("lan", "br0")),
                        "spec.interfaces[1].name: duplicate name \"lan\" (also spec.interfaces[0].name)"),
                c("interface network or bridge", KVM, vm -> nic0(vm).bridge = "br0",
                        "spec.interfaces[0]: set exactly one of network or bridge"),
                c("interface needs a source", KVM, vm -> nic0(vm).network = null,
                        "spec.interfaces[0]: set exactly one of network or bridge"),
                c("bridge name", KVM, vm -> {
                    nic0(vm).network = null;
                    nic0(vm).bridge = "br0; rm -rf /";
                }, "spec.interfaces[0].bridge: \"br0; rm -rf /\" is not a bridge name (letters, digits, '_', '.', "
                        + "'-', at most 15 characters)"),
                c("MAC syntax", KVM, vm -> nic0(vm).macAddress = "52-54-00-6b-3c-58",
                        "spec.interfaces[0].macAddress: \"52-54-00-6b-3c-58\" is not a MAC address (expected six "
                                + "colon-separated pairs of hex digits, e.g. 52:54:00:6b:3c:58)"),
                c("MAC not multicast", KVM, vm -> nic0(vm).macAddress = "53:54:00:6b:3c:58",
                        "spec.interfaces[0].macAddress: \"53:54:00:6b:3c:58\" is a multicast address (the lowest bit "
                                + "of the first octet is set); a NIC needs a unicast address"),
                c("MAC not broadcast", KVM, vm -> nic0(vm).macAddress = "ff:ff:ff:ff:ff:ff",
                        "spec.interfaces[0].macAddress: \"ff:ff:ff:ff:ff:ff\" is a multicast address (the lowest bit "
                                + "of the first octet is set); a NIC needs a unicast address"),
                c("MACs unique", KVM, vm -> {
                    nic0(vm).macAddress = "52:54:00:6b:3c:58";
                    var other = Vms.bridge("wan", "br0");
                    other.macAddress = "52:54:00:6B:3C:58";
                    vm.getSpec().interfaces.add(other);
                }, "spec.interfaces[1].macAddress: duplicate MAC address \"52:54:00:6B:3C:58\" (also "
                        + "spec.interfaces[0].macAddress)"),
                c("NIC model for kvm", KVM, vm -> nic0(vm).model = "netfront",
                        "spec.interfaces[0].model: unsupported model \"netfront\" for kvm (expected one of virtio, "
                                + "e1000e, e1000, rtl8139)"),
                c("interface target syntax", KVM, vm -> nic0(vm).target = "tap-with-a-long-name",
                        "spec.interfaces[0].target: \"tap-with-a-long-name\" is not a network interface name "
                                + "(letters, digits, '_', '.', '-', at most 15 characters)"),
                c("interface target not libvirt's vnet", KVM, vm -> nic0(vm).target = "vnet3",
                        "spec.interfaces[0].target: \"vnet3\" starts with \"vnet\", which libvirt reserves for names "
                                + "it generates; leave target empty to get one, or pick another name"),
                c("xen vifname not Xen's own", XEN, vm -> nic0(vm).target = "vif5.0",
                        "spec.interfaces[0].target: \"vif5.0\" starts with \"vif\", which libvirt reserves for names "
                                + "it generates; leave target empty to get one, or pick another name"),
                c("interface targets unique", KVM, vm -> {
                    nic0(vm).target = "tap-a";
                    var other = Vms.bridge("wan", "br0");
                    other.target = "tap-a";
                    vm.getSpec().interfaces.add(other);
                }, "spec.interfaces[1].target: duplicate target \"tap-a\" (also spec.interfaces[0].target)"),
                c("openvz bridges only", OPENVZ, vm -> {
                    nic0(vm).bridge = null;
                    nic0(vm).network = "default";
                }, "spec.interfaces[0].network: openvz attaches containers to host bridges only; use bridge"),
                c("openvz NIC model", OPENVZ, vm -> nic0(vm).model = "virtio",
                        "spec.interfaces[0].model: openvz container interfaces have no NIC model"),
                c("at most 32 interfaces", KVM, vm -> {
                    for (int i = 0; i < 32; i++) {
                        vm.getSpec().interfaces.add(Vms.network("n" + i, "default"));
                    }
                }, "spec.interfaces: too many interfaces (33, at most 32)"),
                // graphics, os
                c("kvm graphics", KVM, vm -> vm.getSpec().graphics = "rdp",
                        "spec.graphics: unsupported graphics \"rdp\" for kvm (expected one of spice, vnc, none)"),
                c("xen has no spice", XEN, vm -> vm.getSpec().graphics = "spice",
                        "spec.graphics: unsupported graphics \"spice\" for xen (expected one of vnc, none)"),
                c("openvz has no graphics", OPENVZ, vm -> vm.getSpec().graphics = "vnc",
                        "spec.graphics: unsupported graphics \"vnc\" for openvz (expected one of none)"),
                c("openvz needs a template", OPENVZ, vm -> vm.getSpec().os = null,
                        "spec.os.template: required for openvz (the filesystem template the container is created "
                                + "from)"),
                c("template name", OPENVZ, vm -> vm.getSpec().os.template = "../../etc",
                        "spec.os.template: \"../../etc\" is not a template name (letters, digits, '_', '+', '-'; "
                                + "libvirt's schema allows no '.')"),
                c("template only for openvz", KVM, vm -> os(vm).template = "debian-12",
                        "spec.os.template: only openvz uses a filesystem template; for the libosinfo id use "
                                + "os.variant"),
                c("unknown os.variant", KVM, vm -> os(vm).variant = "plan9",
                        "spec.os.variant: unknown libosinfo id \"plan9\" (use a full id such as "
                                + "http://debian.org/debian/12, or a short id such as debian12)"),
                c("long strings are errors, not allocations", KVM, vm -> vm.getSpec().graphics = TOO_LONG,
                        "spec.graphics: too long (4097 characters, at most 4096)"));
    }

    private static VirtualMachineSpec.Firmware firmware(VirtualMachine vm) {
        if (vm.getSpec().firmware == null) {
            vm.getSpec().firmware = new VirtualMachineSpec.Firmware();
        }
        return vm.getSpec().firmware;
    }

    private static VirtualMachineSpec.Cpu cpu(VirtualMachine vm) {
        if (vm.getSpec().cpu == null) {
            vm.getSpec().cpu = new VirtualMachineSpec.Cpu();
        }
        return vm.getSpec().cpu;
    }

    private static VirtualMachineSpec.OperatingSystem os(VirtualMachine vm) {
        if (vm.getSpec().os == null) {
            vm.getSpec().os = new VirtualMachineSpec.OperatingSystem();
        }
        return vm.getSpec().os;
    }

    private static void format(VirtualMachineSpec.Disk d, String format) {
        d.volume.format = format;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void eachRuleReportsExactlyItsError(Case c) {
        VirtualMachine vm = Vms.of(c.hypervisor());
        assertThat(VirtualMachineValidator.validate(vm, ValidationContext.defaults())).as("baseline").isEmpty();
        c.breakIt().accept(vm);
        assertThat(VirtualMachineValidator.validate(vm, ValidationContext.defaults()))
                .extracting(FieldError::toString)
                .containsExactly(c.expected());
    }

    @ParameterizedTest
    @EnumSource(Hypervisor.class)
    void baselineOfEveryHypervisorIsValid(Hypervisor h) {
        assertThat(VirtualMachineValidator.validate(Vms.of(h), ValidationContext.defaults())).isEmpty();
    }

    @Test
    void acceptsWhatTheRulesAllow() {
        VirtualMachine vm = Vms.of(KVM);
        VirtualMachineSpec s = vm.getSpec();
        s.genid = "43DC0CF8-809B-4ADB-9BEA-A9ABB5F3D90E";
        firmware(vm).uuid = "e171ac3a-17a6-46ab-94a3-ba5ef25d4427";
        s.machine = "pc-q35-7.2";
        s.disks.add(Vms.cdrom("empty", null));
        VirtualMachineSpec.Disk shared = Vms.disk("shared", "/var/lib/virtfleet/images/vm-1.qcow2");
        shared.readOnly = true;
        s.disks.add(shared);
        nic0(vm).macAddress = "52:54:00:6B:3C:58";
        nic0(vm).target = "web1-lan";
        os(vm).variant = "http://example.org/os/1";
        assertThat(VirtualMachineValidator.validate(vm, ValidationContext.defaults())).isEmpty();
    }

    @Test
    void errorsComeInSpecOrder() {
        VirtualMachine vm = Vms.of(KVM);
        vm.getSpec().graphics = "rdp";
        vm.getSpec().genid = "abc";
        disk0(vm).name = "A";
        vm.getSpec().memory = null;
        assertThat(VirtualMachineValidator.validate(vm, ValidationContext.defaults()))
                .extracting(FieldError::field)
                .containsExactly("spec.genid", "spec.memory", "spec.disks[0].name", "spec.graphics");
    }

    @Test
    void allowedRootsComeFromTheContext() {
        VirtualMachine vm = Vms.of(KVM);
        disk0(vm).volume.path = "/srv/vm/a.qcow2";
        assertThat(VirtualMachineValidator.validate(vm, new ValidationContext(List.of("/srv/vm/")))).isEmpty();
        assertThat(VirtualMachineValidator.validate(vm, new ValidationContext(List.of())))
                .extracting(FieldError::toString)
                .containsExactly("spec.disks[0].volume.path: \"/srv/vm/a.qcow2\" cannot be used: the host allows no "
                        + "disk roots");
    }

    @Test
    void neverThrowsOnEmptyOrNullParts() {
        VirtualMachine vm = new VirtualMachine();
        vm.setSpec(new VirtualMachineSpec());
        vm.getSpec().disks = null;
        vm.getSpec().interfaces = new ArrayList<>();
        vm.getSpec().interfaces.add(null);
        vm.getSpec().cpu = new VirtualMachineSpec.Cpu();
        vm.getSpec().firmware = new VirtualMachineSpec.Firmware();
        vm.getSpec().os = new VirtualMachineSpec.OperatingSystem();
        assertThat(VirtualMachineValidator.validate(vm, null)).extracting(FieldError::toString).containsExactly(
                "metadata.name: required",
                "spec.hypervisor: required (one of kvm, qemu, xen, openvz)",
                "spec.memory: required (e.g. 2Gi)",
                "spec.interfaces[0]: must not be null");
        assertThat(VirtualMachineValidator.validate(null, null)).hasSize(1);
    }
}
