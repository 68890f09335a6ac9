package io.virtfleet.reconcilers.domain.xml;

/** A marker element without content, e.g. {@code <acpi/>} or {@code <readonly/>}: present or absent. */
public final class Empty {
    public static final Empty INSTANCE = new Empty();

    @Override
    public boolean equals(Object o) {
        return o instanceof Empty;
    }

    @Override
    public int hashCode() {
        return 1;
    }
}
