package io.virtfleet.bench;

/**
 * How big a run is. {@link #FULL} is what RESULTS.md reports; {@link #QUICK} ({@code scripts/bench --quick}) must stay
 * under five minutes on the 2-core machine; {@link #TINY} is the smoke test's: every scenario once, as small as it
 * can be while still exercising the whole path, so the test only checks that each scenario produces its JSON line.
 */
public enum Size {
    TINY, QUICK, FULL;

    /** Picks one of three values by size. */
    public <T> T pick(T tiny, T quick, T full) {
        return switch (this) {
            case TINY -> tiny;
            case QUICK -> quick;
            case FULL -> full;
        };
    }

    public int pick(int tiny, int quick, int full) {
        return switch (this) {
            case TINY -> tiny;
            case QUICK -> quick;
            case FULL -> full;
        };
    }
}
