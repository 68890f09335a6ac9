package io.virtfleet.reconcilers.validation;

import io.virtfleet.api.v1alpha1.Hypervisor;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.api.v1alpha1.VirtualMachineSpec;
import io.virtfleet.reconcilers.platform.Platform;
import io.virtfleet.reconcilers.render.Guids;
import io.virtfleet.reconcilers.render.MemorySizes;
import io.virtfleet.reconcilers.render.OsVariants;

import java.math.BigInteger;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Everything about a VirtualMachine that can be decided without a cluster or a host: syntax, consistency, and what
 * its hypervisor can express. The renderer refuses any VM this rejects, so its output never depends on libvirt to
 * catch a mistake.
 */
public final class VirtualMachineValidator {
    public static final int MAX_DISKS = 64;
    public static final int MAX_INTERFACES = 32;
    /** KVM's vCPU limit on x86; also keeps the number far from any overflow. */
    public static final int MAX_CORES = 4096;

    public static final String GENID_AUTO = "auto";
    public static final String GENID_NONE = "none";

    /** libvirt's genericName: OpenVZ template names end up in this RelaxNG type. */
    private static final Pattern TEMPLATE = Pattern.compile("[a-zA-Z0-9_+-]{1,255}");
    private static final Pattern CPU_MODEL = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}");

    private VirtualMachineValidator() {
    }

    /** All errors, in spec order; empty when valid. Never throws for bad input. */
    public static List<FieldError> validate(VirtualMachine vm, ValidationContext ctx) {
        Errors errors = new Errors();
        if (vm == null) {
            errors.add("", "no VirtualMachine");
            return errors.list();
        }
        ValidationContext c = ctx == null ? ValidationContext.defaults() : ctx;
        ObjectMetaRules.check(vm.getMetadata(), errors);
        VirtualMachineSpec spec = vm.getSpec();
        if (spec == null) {
            errors.add("spec", "required");
        } else {
            spec(spec, vm.getMetadata() == null ? null : vm.getMetadata().getNamespace(), c, errors);
        }
        return errors.list();
    }

    private static void spec(VirtualMachineSpec s, String namespace, ValidationContext ctx, Errors errors) {
        Platform platform = Platform.of(s);
        if (s.hypervisor == null) {
            errors.add("spec.hypervisor", "required (one of kvm, qemu, xen, openvz)");
        }
        if (s.nodeName != null && Checks.text(errors, "spec.nodeName", s.nodeName)) {
            if (!Names.isDnsSubdomain(s.nodeName)) {
                errors.add("spec.nodeName", Text.quote(s.nodeName) + " is not a Host name (a DNS subdomain)");
            } else if (s.hostSelector != null) {
                errors.add("spec.nodeName", "set either nodeName or hostSelector, not both");
            }
        }
        firmware(s.firmware, platform, ctx, errors);
        genid(s.genid, platform, errors);
        cpu(s.cpu, platform, errors);
        memory(s, errors);
        machine(s.machine, platform, errors);
        disks(s.disks, platform, ctx, errors);
        interfaces(s.interfaces, platform, errors);
        graphics(s.graphics, platform, errors);
        os(s.os, platform, errors);
        CloudInitRules.check(s.cloudInit, namespace, platform, errors);
        if (s.cloudInit != null && s.disks != null) {
            for (int i = 0; i < s.disks.size(); i++) {
                VirtualMachineSpec.Disk d = s.disks.get(i);
                if (d != null && io.virtfleet.reconcilers.render.CloudInitSeeds.DISK_NAME.equals(d.name)) {
                    errors.add("spec.disks[" + i + "].name", "the name " + Text.quote(d.name) + " is the cloud-init "
                            + "seed's drive when spec.cloudInit is set; name the disk differently");
                }
            }
        }
    }

    private static void firmware(VirtualMachineSpec.Firmware f, Platform platform, ValidationContext ctx,
                                 Errors errors) {
        if (f == null) {
            return;
        }
        if (f.uuid != null && Checks.text(errors, "spec.firmware.uuid", f.uuid)) {
            if (!Guids.isGuid(f.uuid)) {
                errors.add("spec.firmware.uuid", Text.quote(f.uuid) + " is not a UUID (expected 8-4-4-4-12 hex digits)");
            } else if (Guids.isNil(Guids.normalize(f.uuid))) {
                errors.add("spec.firmware.uuid", "the nil UUID cannot identify a domain");
            }
        }
        VirtualMachineSpec.KernelBoot k = f.kernelBoot;
        if (k == null) {
            return;
        }
        String p = "spec.firmware.kernelBoot";
        if (platform != null && !platform.supportsKernelBoot()) {
            errors.add(p, "openvz containers start the template's init; kernelBoot is not supported");
            return;
        }
        if (k.kernel == null) {
            errors.add(p + ".kernel", "required when kernelBoot is set");
        } else {
            path(p + ".kernel", k.kernel, ctx, errors);
        }
        if (k.initrd != null) {
            path(p + ".initrd", k.initrd, ctx, errors);
        }
        if (k.cmdline != null) {
            Checks.text(errors, p + ".cmdline", k.cmdline);
        }
    }

    private static void path(String field, String path, ValidationContext ctx, Errors errors) {
        if (Checks.text(errors, field, path)) {
            String problem = DiskPaths.problem(path, ctx.allowedDiskRoots());
            if (problem != null) {
                errors.add(field, problem);
            }
        }
    }

    /** genid: auto lets libvirt generate the GUID, an explicit GUID is used as given, anything else is an error. */
    private static void genid(String genid, Platform platform, Errors errors) {
        if (genid == null || genid.equals(GENID_AUTO) || genid.equals(GENID_NONE)
                || !Checks.text(errors, "spec.genid", genid)) {
            return;
        }
        if (!Guids.isGuid(genid)) {
            errors.add("spec.genid", Text.quote(genid)
                    + " is not a GUID (expected 8-4-4-4-12 hex digits, \"auto\" or \"none\")");
        } else if (Guids.isNil(Guids.normalize(genid))) {
            errors.add("spec.genid", "the nil GUID is not a generation ID (use \"none\" for no genid device)");
        } else if (platform != null && !platform.supportsGenid()) {
            errors.add("spec.genid", platform.family() == Platform.Family.OPENVZ
                    ? "openvz containers have no generation ID device (use \"auto\" or \"none\")"
                    : "Xen guests get no generation ID device: libvirt's Xen driver (libxl) does not pass one to Xen "
                    + "(use \"auto\" or \"none\")");
        }
    }

    private static void cpu(VirtualMachineSpec.Cpu cpu, Platform platform, Errors errors) {
        if (cpu == null) {
            return;
        }
        if (cpu.cores != null && cpu.cores < 1) {
            errors.add("spec.cpu.cores", "must be at least 1");
        } else if (cpu.cores != null && cpu.cores > MAX_CORES) {
            errors.add("spec.cpu.cores", "must be at most " + MAX_CORES);
        }
        if (cpu.model == null || !Checks.text(errors, "spec.cpu.model", cpu.model)) {
            return;
        }
        if (!CPU_MODEL.matcher(cpu.model).matches()) {
            errors.add("spec.cpu.model", Text.quote(cpu.model) + " is not a CPU model name");
        } else if (platform != null) {
            String problem = cpuModelProblem(cpu.model, platform);
            if (problem != null) {
                errors.add("spec.cpu.model", problem);
            }
        }
    }

    private static String cpuModelProblem(String model, Platform platform) {
        boolean hostBased = model.equals("host-passthrough") || model.equals("host-model");
        return switch (platform.family()) {
            case Q35, I440FX -> platform.hypervisor() == Hypervisor.QEMU && hostBased
                    ? model + " needs KVM; with hypervisor qemu (TCG emulation) use maximum or a named model "
                    + "such as qemu64"
                    : null;
            case XEN_HVM -> model.equals("host-passthrough") ? null
                    : "Xen HVM guests support only host-passthrough";
            case XEN_PV -> "Xen PV guests run on the host CPU; cpu.model is not supported";
            case OPENVZ -> "openvz containers run on the host CPU; cpu.model is not supported";
        };
    }

    private static void memory(VirtualMachineSpec s, Errors errors) {
        if (s.memory == null) {
            errors.add("spec.memory", "required (e.g. 2Gi)");
            return;
        }
        String text = s.memory.toString();
        if (!Checks.text(errors, "spec.memory", text)) {
            return;
        }
        BigInteger kib;
        try {
            kib = MemorySizes.kib(s.memory);
        } catch (RuntimeException e) {
            errors.add("spec.memory", Text.quote(text) + " is not a quantity (e.g. 512Mi or 2Gi)");
            return;
        }
        if (kib.signum() <= 0) {
            errors.add("spec.memory", "must be greater than 0");
        } else if (kib.compareTo(BigInteger.valueOf(MemorySizes.MAX_KIB)) > 0) {
            errors.add("spec.memory", "must be at most 1Pi");
        }
    }

    private static void machine(String machine, Platform platform, Errors errors) {
        if (machine == null || platform == null || !Checks.text(errors, "spec.machine", machine)) {
            return;
        }
        boolean ok = switch (platform.family()) {
            case Q35, I440FX -> Platform.isKnownQemuMachine(machine);
            case XEN_HVM, XEN_PV -> machine.equals(Platform.MACHINE_XEN_HVM) || machine.equals(Platform.MACHINE_XEN_PV);
            case OPENVZ -> false;
        };
        if (!ok) {
            errors.add("spec.machine", "unsupported machine " + Text.quote(machine) + " for " + platform.hypervisor()
                    + " (expected " + platform.machineChoices() + ")");
        }
    }

    private static void disks(List<VirtualMachineSpec.Disk> disks, Platform platform, ValidationContext ctx,
                              Errors errors) {
        if (disks == null) {
            return;
        }
        if (disks.size() > MAX_DISKS) {
            errors.add("spec.disks", "too many disks (" + disks.size() + ", at most " + MAX_DISKS + ")");
            return;
        }
        DiskRules rules = new DiskRules(platform, ctx.allowedDiskRoots(), errors);
        for (int i = 0; i < disks.size(); i++) {
            rules.check("spec.disks[" + i + "]", disks.get(i));
        }
    }

    private static void interfaces(List<VirtualMachineSpec.NetworkInterface> interfaces, Platform platform,
                                   Errors errors) {
        if (interfaces == null) {
            return;
        }
        if (interfaces.size() > MAX_INTERFACES) {
            errors.add("spec.interfaces", "too many interfaces (" + interfaces.size() + ", at most "
                    + MAX_INTERFACES + ")");
            return;
        }
        InterfaceRules rules = new InterfaceRules(platform, errors);
        for (int i = 0; i < interfaces.size(); i++) {
            rules.check("spec.interfaces[" + i + "]", interfaces.get(i));
        }
    }

    private static void graphics(String graphics, Platform platform, Errors errors) {
        if (graphics == null || platform == null || !Checks.text(errors, "spec.graphics", graphics)) {
            return;
        }
        if (!platform.graphics().contains(graphics)) {
            errors.add("spec.graphics", "unsupported graphics " + Text.quote(graphics) + " for "
                    + platform.hypervisor() + " (expected one of " + String.join(", ", platform.graphics()) + ")");
        }
    }

    private static void os(VirtualMachineSpec.OperatingSystem os, Platform platform, Errors errors) {
        boolean openvz = platform != null && platform.family() == Platform.Family.OPENVZ;
        String template = os == null ? null : os.template;
        if (openvz && template == null) {
            errors.add("spec.os.template", "required for openvz (the filesystem template the container is created "
                    + "from)");
        }
        if (os == null) {
            return;
        }
        if (template != null && Checks.text(errors, "spec.os.template", template)) {
            if (platform != null && !openvz) {
                errors.add("spec.os.template", "only openvz uses a filesystem template; for the libosinfo id use "
                        + "os.variant");
            } else if (!TEMPLATE.matcher(template).matches()) {
                errors.add("spec.os.template", Text.quote(template) + " is not a template name (letters, digits, "
                        + "'_', '+', '-'; libvirt's schema allows no '.')");
            }
        }
        if (os.variant != null && Checks.text(errors, "spec.os.variant", os.variant)) {
            if (openvz) {
                errors.add("spec.os.variant", "openvz containers carry no libosinfo metadata; use os.template");
            } else if (OsVariants.resolve(os.variant) == null) {
                errors.add("spec.os.variant", "unknown libosinfo id " + Text.quote(os.variant)
                        + " (use a full id such as http://debian.org/debian/12, or a short id such as debian12)");
            }
        }
    }
}
