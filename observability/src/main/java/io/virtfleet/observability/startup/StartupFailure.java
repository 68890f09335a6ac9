package io.virtfleet.observability.startup;

/**
 * Why a daemon (operator or node agent) cannot start, as one line that names what was tried and what to check, and
 * the process exit code for it ({@link ExitCodes}).
 */
public final class StartupFailure extends Exception {
    private final int exitCode;

    public StartupFailure(int exitCode, String message) {
        super(message);
        this.exitCode = exitCode;
    }

    public StartupFailure(int exitCode, String message, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
    }

    public int exitCode() {
        return exitCode;
    }
}
