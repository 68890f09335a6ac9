package io.virtfleet.observability.startup;

import java.io.PrintWriter;

/**
 * Exit codes of {@code virtfleet operator} and {@code virtfleet agent}; documented in the operator's and the
 * agent's READMEs, so that a supervisor (kubelet's restart back-off, systemd's {@code RestartPreventExitStatus}, a
 * script) can tell a configuration problem from a crash.
 */
public final class ExitCodes {
    /** Stopped on request (SIGTERM/SIGINT). */
    public static final int OK = 0;
    /** Failed while running (the operator lost its leader Lease; an unexpected error). */
    public static final int FAILURE = 1;
    /** Bad command line (picocli's usage error code). */
    public static final int USAGE = 2;
    /** No usable kubeconfig: the file given is missing or unreadable or not a kubeconfig, or none was found. */
    public static final int NO_KUBECONFIG = 3;
    /** The Kubernetes API could not be reached (connection refused, unknown host, TLS, timeout). */
    public static final int APISERVER_UNREACHABLE = 4;
    /** The apiserver refused the credentials (401) or RBAC does not grant what the daemon needs (403). */
    public static final int NOT_PERMITTED = 5;
    /** The apiserver does not serve virtfleet's CRDs. */
    public static final int CRDS_MISSING = 6;
    /** The node agent could not connect to libvirt (socket missing, connection refused, permission denied). */
    public static final int LIBVIRT_UNREACHABLE = 7;

    private ExitCodes() {
    }

    /**
     * Prints {@code failure} as the last line a user sees ({@code virtfleet COMMAND: error: ...}), after its stack
     * trace only when {@code verbose}, and returns its exit code.
     */
    public static int report(String command, StartupFailure failure, boolean verbose, PrintWriter err) {
        if (verbose) {
            failure.printStackTrace(err);
        }
        err.println("virtfleet " + command + ": error: " + failure.getMessage());
        err.flush();
        return failure.exitCode();
    }
}
