package io.virtfleet.bench;

/** What every scenario shares: the name it is selected, printed and reported by. */
public abstract class BaseScenario implements Scenario {
    private final String name;

    protected BaseScenario(String name) {
        this.name = name;
    }

    @Override
    public final String name() {
        return name;
    }

    /** A new report of this scenario, saying in {@code title} what it measures at this size. */
    protected final Report report(String title) {
        return new Report(name, title);
    }
}
