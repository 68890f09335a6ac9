package io.virtfleet.bench;

/** One benchmark scenario: runs, cleans up after itself, and returns its report (the bench prints it). */
public interface Scenario {
    String name();

    Report run(BenchContext ctx) throws Exception;
}
