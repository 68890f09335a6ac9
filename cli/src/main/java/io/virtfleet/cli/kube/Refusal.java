package io.virtfleet.cli.kube;

/**
 * A command refuses to do what was asked, or what was asked did not happen: the CLI prints
 * {@code virtfleet <command>: error: <message>} (one line, no stack trace) and exits with {@link #exitCode()}.
 */
public final class Refusal extends RuntimeException {
    public static final int OK = 0;
    /** The request was refused or failed (VM not found, Halted, forbidden, timed out, the operator said no). */
    public static final int REFUSED = 1;
    /** Something around the request failed: the apiserver is unreachable, the kubeconfig is unusable. */
    public static final int FAILURE = 2;

    private final int exitCode;

    public Refusal(String message) {
        this(REFUSED, message);
    }

    public Refusal(int exitCode, String message) {
        super(message, null, false, false);
        this.exitCode = exitCode;
    }

    public int exitCode() {
        return exitCode;
    }
}
