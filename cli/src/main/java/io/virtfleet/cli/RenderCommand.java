package io.virtfleet.cli;

import io.virtfleet.api.v1alpha1.Hypervisor;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.reconcilers.manifest.ManifestDocument;
import io.virtfleet.reconcilers.manifest.Manifests;
import io.virtfleet.reconcilers.render.DomainRenderer;
import io.virtfleet.reconcilers.render.HostInfo;
import io.virtfleet.reconcilers.render.RenderOptions;
import io.virtfleet.reconcilers.render.Identity;
import io.virtfleet.reconcilers.validation.FieldError;
import io.virtfleet.reconcilers.validation.ValidationContext;
import io.virtfleet.reconcilers.validation.VirtualMachineValidator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** Shows the libvirt domain XML the operator would send to a host, so users can review it or check it with virt-xml-validate. */
@Command(name = "render", mixinStandardHelpOptions = true,
        footerHeading = "%nExamples:%n",
        footer = {"  virtfleet render examples/seed-004.yaml | virt-xml-validate - domain",
                "  virtfleet render vm.yaml --host-driver qemu --domain-prefix vf-"},
        description = {"Prints the libvirt domain XML for each VirtualMachine in FILE.",
                "The output is what the operator would define on a host; pipe it to `virt-xml-validate - domain`."})
final class RenderCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "FILE", description = "VirtualMachine manifest (YAML).")
    Path file;

    @Option(names = "--host-driver", paramLabel = "DRIVER", converter = HypervisorConverter.class,
            description = "Render for a host offering this driver (kvm, qemu, xen, openvz); "
                    + "a VM asking for another hypervisor is an error. Default: the VM's own hypervisor.")
    Hypervisor hostDriver;

    @Option(names = "--host", paramLabel = "NAME", defaultValue = "localhost",
            description = "Host name recorded in the ownership mark (default: ${DEFAULT-VALUE}).")
    String host;

    @Option(names = "--domain-prefix", paramLabel = "PREFIX", defaultValue = "",
            description = "Prefix of libvirt domain names on that host.")
    String domainPrefix;

    @Option(names = "--allowed-root", paramLabel = "DIR",
            description = "Directory under which disk paths must lie (repeatable; default: /var/lib/virtfleet).")
    List<String> allowedRoots = new ArrayList<>();

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        ValidationContext ctx = allowedRoots.isEmpty() ? ValidationContext.defaults()
                : new ValidationContext(List.copyOf(allowedRoots));
        HostInfo hostInfo = HostInfo.defaults(host);
        hostInfo = new HostInfo(hostInfo.name(), ctx.allowedDiskRoots(), domainPrefix, hostInfo.consoleLogDir(),
                hostInfo.emulator());
        int status = ExitCodes.OK;
        int rendered = 0;
        for (ManifestDocument doc : Manifests.parse(Files.readString(file))) {
            List<FieldError> problems = new ArrayList<>(doc.errors());
            VirtualMachine vm = doc.vm();
            if (vm != null) {
                problems.addAll(VirtualMachineValidator.validate(vm, ctx));
                if (problems.isEmpty() && hostDriver != null && vm.getSpec().hypervisor != hostDriver) {
                    problems.add(new FieldError("spec.hypervisor", "\"" + vm.getSpec().hypervisor
                            + "\" cannot run on a host offering only " + hostDriver));
                }
            }
            if (!problems.isEmpty()) {
                problems.forEach(e -> err.println(file + ":doc " + doc.index() + ": " + e));
                status = ExitCodes.INVALID;
                continue;
            }
            if (vm != null) {
                out.print(DomainRenderer.render(vm, hostInfo, new RenderOptions(Identity.uuidFor(vm), null)).xml());
                rendered++;
            }
        }
        if (rendered == 0 && status == ExitCodes.OK) {
            err.println(file + ": no VirtualMachine in this file");
            status = ExitCodes.INVALID;
        }
        out.flush();
        err.flush();
        return status;
    }

    static final class HypervisorConverter implements picocli.CommandLine.ITypeConverter<Hypervisor> {
        @Override
        public Hypervisor convert(String value) {
            try {
                return Hypervisor.fromValue(value);
            } catch (IllegalArgumentException e) {
                throw new picocli.CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
}
