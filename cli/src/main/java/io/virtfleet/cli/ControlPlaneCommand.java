package io.virtfleet.cli;

import io.virtfleet.controlplane.EmbeddedControlPlane;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** A local etcd + kube-apiserver that keeps running in the background, for kubectl and a hand-started operator/agent. */
@Command(name = "control-plane", mixinStandardHelpOptions = true,
        footerHeading = "%nExamples:%n",
        footer = {"  virtfleet control-plane up     # prints the kubeconfig path",
                "  virtfleet control-plane status", "  virtfleet control-plane down"},
        description = "Starts, stops or shows the local Kubernetes control plane (etcd + kube-apiserver, built by "
                + "scripts/install-control-plane).",
        subcommands = {ControlPlaneCommand.Up.class, ControlPlaneCommand.Down.class, ControlPlaneCommand.StatusCmd.class})
final class ControlPlaneCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    static class DirOption {
        @Option(names = "--dir", paramLabel = "DIR",
                description = "State directory (default: .virtfleet/control-plane in the checkout).")
        Path dir;

        Path dir() {
            return dir != null ? dir : EmbeddedControlPlane.defaultStateDir();
        }
    }

    /**
     * What every subcommand has: the state directory option and its command spec (picocli reads superclass fields),
     * the help options and the examples heading (picocli takes the superclass's {@code @Command} attributes a
     * subclass does not set).
     */
    @Command(mixinStandardHelpOptions = true, footerHeading = "%nExamples:%n")
    abstract static class OnStateDir implements Callable<Integer> {
        @picocli.CommandLine.Mixin
        DirOption dir = new DirOption();
        @picocli.CommandLine.Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public final Integer call() {
            return call(dir.dir(), spec.commandLine().getOut());
        }

        /** The subcommand on the state directory {@code dir}. */
        abstract int call(Path dir, PrintWriter out);

        /** What up and status print for a running control plane: where it serves, and the kubeconfig to export. */
        static int running(PrintWriter out, String server, Path kubeconfig) {
            out.println("control plane running at " + server);
            out.println("export KUBECONFIG=" + kubeconfig);
            return ExitCodes.OK;
        }
    }

    @Command(name = "up",
            footer = {"  export KUBECONFIG=$(virtfleet control-plane up)"},
            description = "Starts the control plane (or finds it running), installs the CRDs and prints the kubeconfig path.")
    static final class Up extends OnStateDir {
        @Option(names = "--api-port", paramLabel = "PORT",
                description = "Serve on this port of 127.0.0.1 (default: a free one, kept across down/up).")
        Integer apiPort;
        @Option(names = "--service-account-admission",
                description = "Keep the ServiceAccount admission plugin on (pods get their token volume). Only "
                        + "with a kube-controller-manager, which creates the default ServiceAccounts.")
        boolean serviceAccountAdmission;
        @Option(names = "--without-crds",
                description = "Install no CRDs (e.g. when deploy/ manifests bring their own copies).")
        boolean withoutCrds;
        @Option(names = "--authorization-mode", paramLabel = "MODES", defaultValue = "RBAC",
                description = "kube-apiserver's authorization modes (default: ${DEFAULT-VALUE}; Node,RBAC with kubelets).")
        String authorizationMode;
        @Option(names = "--apiserver-arg", paramLabel = "FLAG",
                description = "An extra kube-apiserver flag, after (and so winning over) the built-in ones; "
                        + "repeatable, e.g. --apiserver-arg=--authorization-mode=Node,RBAC.")
        java.util.List<String> apiserverArgs = new java.util.ArrayList<>();

        @Override
        int call(Path dir, PrintWriter out) {
            io.virtfleet.controlplane.ControlPlaneBuilder b = EmbeddedControlPlane.builder().dataDir(dir).detached(true)
                    .serviceAccountAdmission(serviceAccountAdmission).authorizationMode(authorizationMode);
            if (apiPort != null) {
                b.apiPort(apiPort);
            }
            if (withoutCrds) {
                b.withoutCrds();
            }
            apiserverArgs.forEach(b::apiserverArg);
            try (EmbeddedControlPlane cp = b.start()) {
                return running(out, cp.serverUrl(), cp.kubeconfig());
            }
        }
    }

    @Command(name = "down",
            footer = {"  virtfleet control-plane down"}, description = "Stops the control plane; its data stays.")
    static final class Down extends OnStateDir {
        @Override
        int call(Path dir, PrintWriter out) {
            out.println(EmbeddedControlPlane.stop(dir) ? "control plane stopped" : "control plane was not running");
            return ExitCodes.OK;
        }
    }

    @Command(name = "status",
            footer = {"  virtfleet control-plane status"}, description = "Shows whether the control plane runs.")
    static final class StatusCmd extends OnStateDir {
        @Override
        int call(Path dir, PrintWriter out) {
            EmbeddedControlPlane.Status status = EmbeddedControlPlane.status(dir);
            if (!status.running()) {
                out.println("control plane is not running (state: " + dir + ")");
                return ExitCodes.FAILURE;
            }
            return running(out, status.server() + " (etcd pid " + status.etcdPid() + ", kube-apiserver pid "
                    + status.apiserverPid() + ")", status.kubeconfig());
        }
    }
}
