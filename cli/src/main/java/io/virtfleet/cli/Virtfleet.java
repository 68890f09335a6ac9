package io.virtfleet.cli;

import io.virtfleet.agent.AgentCommand;
import io.virtfleet.cli.host.HostCommand;
import io.virtfleet.cli.kube.ApiErrors;
import io.virtfleet.cli.kube.Refusal;
import io.virtfleet.cli.vm.VmCommand;
import io.virtfleet.operator.OperatorCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code ./virtfleet}: one entry point for users, CI checks, the demo and virtfleet's own processes. */
@Command(name = "virtfleet", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = "Runs libvirt virtual machines declared as Kubernetes objects across a fleet of hosts.",
        footerHeading = "%nExamples:%n",
        footer = {"  virtfleet demo                            # a VM on this machine, end to end",
                "  virtfleet vm list -n prod", "  virtfleet vm console web-1",
                "  virtfleet validate vms/*.yaml", "  virtfleet help vm"},
        subcommands = {DemoCommand.class, RenderCommand.class, ValidateCommand.class, ControlPlaneCommand.class,
                OperatorCommand.class, AgentCommand.class, VmCommand.class, HostCommand.class,
                CompletionCommand.class, CommandLine.HelpCommand.class})
public final class Virtfleet implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The configured command line; tests run commands through it to see exactly what users see. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Virtfleet());
        // Users get one line saying what went wrong, never a stack trace; --debug shows the trace for bug reports.
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            Throwable shown = ex instanceof io.fabric8.kubernetes.client.KubernetesClientException k
                    ? ApiErrors.refusal("request failed", k) : ex;
            commandLine.getErr().println(commandLine.getCommandSpec().qualifiedName(" ") + ": error: "
                    + describe(shown));
            if (Boolean.getBoolean("virtfleet.debug")) {
                ex.printStackTrace(commandLine.getErr());
            }
            return shown instanceof Refusal r ? r.exitCode() : ExitCodes.FAILURE;
        });
        return cl;
    }

    static String describe(Throwable ex) {
        String message = ex.getMessage();
        if (ex instanceof java.nio.file.NoSuchFileException) {
            return "no such file: " + message;
        }
        if (ex instanceof java.nio.file.AccessDeniedException) {
            return "permission denied: " + message;
        }
        return message == null || message.isBlank() ? ex.getClass().getSimpleName() : message;
    }
}
