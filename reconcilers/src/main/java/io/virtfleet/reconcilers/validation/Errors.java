package io.virtfleet.reconcilers.validation;

import java.util.ArrayList;
import java.util.List;

/** Collects errors in the order fields are visited, which is spec order. */
final class Errors {
    private final List<FieldError> list = new ArrayList<>();

    void add(String field, String message) {
        list.add(new FieldError(field, message));
    }

    List<FieldError> list() {
        return List.copyOf(list);
    }
}
