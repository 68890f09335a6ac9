package io.virtfleet.observability.serving;

/**
 * The health and metrics ports cannot be served as asked: settings refused by {@link Serving#problem}, an unusable
 * certificate or key, or an address that cannot be bound. The message is one line, for the daemon's exit report.
 */
public final class ServingFailure extends RuntimeException {
    private final boolean badSettings;

    public ServingFailure(String message, boolean badSettings, Throwable cause) {
        super(message, cause);
        this.badSettings = badSettings;
    }

    /** True for a refusal of the settings themselves (a bad command line), false for a failure to serve them. */
    public boolean badSettings() {
        return badSettings;
    }
}
