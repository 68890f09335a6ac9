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

    /** A refusal of the serving settings is a bad command line; a failure to serve them, a failure. */
    public static StartupFailure of(io.virtfleet.observability.serving.ServingFailure f) {
        return new StartupFailure(f.badSettings() ? ExitCodes.USAGE : ExitCodes.FAILURE, f.getMessage(), f);
    }

    public int exitCode() {
        return exitCode;
    }
}
