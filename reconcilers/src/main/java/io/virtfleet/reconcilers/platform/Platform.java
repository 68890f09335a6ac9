package io.virtfleet.reconcilers.platform;

import io.virtfleet.api.v1alpha1.Hypervisor;
import io.virtfleet.api.v1alpha1.VirtualMachineSpec;

import java.util.List;
import java.util.regex.Pattern;

/**
 * What a spec means on its hypervisor: the machine family it renders to and which buses, displays and NIC models exist
 * there. Validation and rendering both ask this one place, so the validator never accepts what the renderer cannot
 * express.
 *
 * <p>Xen guests are paravirtualized (PV) when the spec boots a kernel directly or asks for machine {@code xenpv}, and
 * fully virtualized (HVM, machine {@code xenfv}) otherwise: a PV guest needs a kernel from somewhere (kernelBoot, or
 * pygrub reading the guest's own disk when machine is xenpv), while HVM boots from its disks like a kvm guest.
 */
public record Platform(Hypervisor hypervisor, Family family, String machine) {
    public enum Family { Q35, I440FX, XEN_HVM, XEN_PV, OPENVZ }

    public static final String MACHINE_Q35 = "q35";
    public static final String MACHINE_PC = "pc";
    public static final String MACHINE_XEN_PV = "xenpv";
    public static final String MACHINE_XEN_HVM = "xenfv";

    private static final Pattern VERSIONED_Q35 = Pattern.compile("pc-q35-[0-9][A-Za-z0-9._-]{0,62}");
    private static final Pattern VERSIONED_I440FX = Pattern.compile("pc-i440fx-[0-9][A-Za-z0-9._-]{0,62}");

    /** The platform of a spec, or null when the hypervisor is not set. An unknown machine falls back to the default. */
    public static Platform of(VirtualMachineSpec spec) {
        if (spec == null || spec.hypervisor == null) {
            return null;
        }
        String machine = spec.machine;
        return switch (spec.hypervisor) {
            case KVM, QEMU -> {
                if (machine == null || machine.equals(MACHINE_Q35) || !isKnownQemuMachine(machine)) {
                    yield new Platform(spec.hypervisor, Family.Q35, MACHINE_Q35);
                }
                boolean pc = machine.equals(MACHINE_PC) || isVersioned(machine, "pc-i440fx-");
                yield new Platform(spec.hypervisor, pc ? Family.I440FX : Family.Q35, machine);
            }
            case XEN -> {
                boolean kernel = spec.firmware != null && spec.firmware.kernelBoot != null;
                boolean pv = MACHINE_XEN_PV.equals(machine) || (!MACHINE_XEN_HVM.equals(machine) && kernel);
                yield pv ? new Platform(spec.hypervisor, Family.XEN_PV, MACHINE_XEN_PV)
                        : new Platform(spec.hypervisor, Family.XEN_HVM, MACHINE_XEN_HVM);
            }
            case OPENVZ -> new Platform(spec.hypervisor, Family.OPENVZ, null);
        };
    }

    public static boolean isKnownQemuMachine(String machine) {
        return machine.equals(MACHINE_Q35) || machine.equals(MACHINE_PC)
                || isVersioned(machine, "pc-q35-") || isVersioned(machine, "pc-i440fx-");
    }

    /**
     * {@code prefix} followed by a digit and up to 62 of {@code [A-Za-z0-9._-]} ({@link #VERSIONED_Q35},
     * {@link #VERSIONED_I440FX}), checked by hand: every render and every validation asks, and the regex match was a
     * tenth of a render ({@code PlatformTest} holds the two to the same answers).
     */
    static boolean isVersioned(String machine, String prefix) {
        int n = machine.length();
        int p = prefix.length();
        if (n <= p || n > p + 63 || !machine.startsWith(prefix)) {
            return false;
        }
        char first = machine.charAt(p);
        if (first < '0' || first > '9') {
            return false;
        }
        for (int i = p + 1; i < n; i++) {
            char c = machine.charAt(i);
            if (!(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c == '.' || c == '_'
                    || c == '-')) {
                return false;
            }
        }
        return true;
    }

    /** The patterns isVersioned implements (for tests). */
    static boolean matchesVersionedPattern(String machine) {
        return VERSIONED_Q35.matcher(machine).matches() || VERSIONED_I440FX.matcher(machine).matches();
    }

    public boolean isQemu() {
        return family == Family.Q35 || family == Family.I440FX;
    }

    public boolean isXen() {
        return family == Family.XEN_HVM || family == Family.XEN_PV;
    }

    /** Machine values the spec may name on this hypervisor, for error messages. */
    public String machineChoices() {
        return switch (family) {
            case Q35, I440FX -> "q35, pc, pc-q35-<version> or pc-i440fx-<version>";
            case XEN_HVM, XEN_PV -> "xenfv or xenpv";
            case OPENVZ -> "none (containers have no machine type)";
        };
    }

    /**
     * Buses a disk may use. q35 has no IDE controller at all, so ide is refused there rather than failing at start;
     * Xen PV guests only have the PV block frontend.
     */
    public List<String> diskBuses(boolean cdrom) {
        return switch (family) {
            case Q35 -> List.of("virtio", "sata", "scsi", "usb");
            case I440FX -> List.of("virtio", "sata", "scsi", "usb", "ide");
            // libxl emulates HVM cdroms on IDE only.
            case XEN_HVM -> cdrom ? List.of("ide") : List.of("xen", "ide", "scsi");
            case XEN_PV -> List.of("xen");
            case OPENVZ -> List.of();
        };
    }

    public String defaultDiskBus(boolean cdrom) {
        return switch (family) {
            case Q35 -> cdrom ? "sata" : "virtio";
            case I440FX -> cdrom ? "ide" : "virtio";
            case XEN_HVM -> cdrom ? "ide" : "xen";
            case XEN_PV -> "xen";
            case OPENVZ -> null;
        };
    }

    /** Guest device name prefix libvirt expects for a bus: vda on virtio, sda on sata/scsi/usb, hda on ide. */
    public static String targetPrefix(String bus) {
        return switch (bus) {
            case "virtio" -> "vd";
            case "sata", "scsi", "usb" -> "sd";
            case "ide" -> "hd";
            case "xen" -> "xvd";
            default -> null;
        };
    }

    public boolean supportsCdrom() {
        return family != Family.XEN_PV && family != Family.OPENVZ;
    }

    public List<String> graphics() {
        return switch (family) {
            case Q35, I440FX -> List.of("spice", "vnc", "none");
            case XEN_HVM, XEN_PV -> List.of("vnc", "none");
            case OPENVZ -> List.of("none");
        };
    }

    /** spice for kvm/qemu (the seed-004 desktop), vnc for Xen HVM, headless for Xen PV and containers. */
    public String defaultGraphics() {
        return switch (family) {
            case Q35, I440FX -> "spice";
            case XEN_HVM -> "vnc";
            case XEN_PV, OPENVZ -> "none";
        };
    }

    public List<String> nicModels() {
        return switch (family) {
            case Q35, I440FX -> List.of("virtio", "e1000e", "e1000", "rtl8139");
            case XEN_HVM -> List.of("netfront", "e1000", "rtl8139");
            case XEN_PV -> List.of("netfront");
            case OPENVZ -> List.of();
        };
    }

    /** virtio for kvm/qemu; Xen picks its own default (netfront with an emulated twin on HVM), so none is rendered. */
    public String defaultNicModel() {
        return isQemu() ? "virtio" : null;
    }

    /**
     * Prefixes of host-side interface names libvirt treats as its own: a target starting with one is discarded when
     * the domain is defined and replaced by a generated name, so the spec could never match what libvirt reports.
     */
    public List<String> reservedInterfacePrefixes() {
        return isXen() ? List.of("vif", "vnet", "macvtap", "macvlan") : List.of("vnet", "macvtap", "macvlan");
    }

    /**
     * Only QEMU guests: libvirt's Xen driver (libxl) keeps a {@code <genid>} in the domain XML but never hands it to
     * Xen (libxl's own HVM-only {@code ms_vm_genid} is not mapped), so neither a PV nor an HVM guest would see it —
     * checked on a real Xen 4.17 host (e2e XenPvGuestTest).
     */
    public boolean supportsGenid() {
        return family == Family.Q35 || family == Family.I440FX;
    }

    public boolean supportsKernelBoot() {
        return family != Family.OPENVZ;
    }
}
