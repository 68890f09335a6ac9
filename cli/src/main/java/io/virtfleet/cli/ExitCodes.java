package io.virtfleet.cli;

/** Exit codes shared by every command: scripts and CI checks depend on them. */
final class ExitCodes {
    static final int OK = 0;
    /** The input is invalid (validate found errors, render got an invalid VM). */
    static final int INVALID = 1;
    /** Something else failed: missing file, unreachable service, a bug. */
    static final int FAILURE = 2;

    private ExitCodes() {
    }
}
