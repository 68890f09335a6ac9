package io.virtfleet.reconcilers.validation;

import io.virtfleet.reconcilers.platform.Platform;

import java.util.HashMap;
import java.util.Map;

/** Rules for the items of one spec list: each must be present and named as no other item of the list is. */
abstract class ItemRules<T> {
    protected final Platform platform;
    protected final Errors errors;
    private final Map<String, String> names = new HashMap<>();

    ItemRules(Platform platform, Errors errors) {
        this.platform = platform;
        this.errors = errors;
    }

    final void check(String p, T item) {
        if (item == null) {
            errors.add(p, "must not be null");
            return;
        }
        Checks.uniqueName(errors, p + ".name", name(item), names);
        checkNamed(p, item);
    }

    abstract String name(T item);

    /** The item's own rules, after its presence and name. */
    abstract void checkNamed(String p, T item);
}
