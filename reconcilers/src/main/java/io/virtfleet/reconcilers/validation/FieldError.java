package io.virtfleet.reconcilers.validation;

/** One problem with one field, named by its JSON path from the object root, e.g. {@code spec.disks[0].name}. */
public record FieldError(String field, String message) {
    @Override
    public String toString() {
        return field + ": " + message;
    }
}
