package io.virtfleet.cli;

import io.virtfleet.reconcilers.manifest.ManifestDocument;
import io.virtfleet.reconcilers.manifest.Manifests;
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

/** The GitOps pre-push check: the same validation the operator runs, offline. */
@Command(name = "validate", mixinStandardHelpOptions = true,
        description = {"Checks VirtualMachine manifests (multi-document YAML allowed) without a cluster.",
                "Prints each error as FILE:doc N: field: message. Exit 0 when all are valid, 1 on any error."})
final class ValidateCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "FILE", description = "Manifest files to check.")
    List<Path> files;

    @Option(names = "--allowed-root", paramLabel = "DIR",
            description = "Directory under which disk paths must lie (repeatable; default: /var/lib/virtfleet).")
    List<String> allowedRoots = new ArrayList<>();

    @Option(names = {"-q", "--quiet"}, description = "Print errors only.")
    boolean quiet;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        ValidationContext ctx = allowedRoots.isEmpty() ? ValidationContext.defaults()
                : new ValidationContext(List.copyOf(allowedRoots));
        int errors = 0;
        int checked = 0;
        for (Path file : files) {
            for (ManifestDocument doc : Manifests.parse(Files.readString(file))) {
                List<FieldError> problems = new ArrayList<>(doc.errors());
                if (doc.vm() != null) {
                    checked++;
                    problems.addAll(VirtualMachineValidator.validate(doc.vm(), ctx));
                }
                for (FieldError error : problems) {
                    out.println(file + ":doc " + doc.index() + ": " + error);
                }
                errors += problems.size();
            }
        }
        if (!quiet) {
            out.println(errors == 0 ? checked + " VirtualMachine(s) valid"
                    : errors + " error(s) in " + checked + " VirtualMachine(s)");
        }
        out.flush();
        return errors == 0 ? ExitCodes.OK : ExitCodes.INVALID;
    }
}
