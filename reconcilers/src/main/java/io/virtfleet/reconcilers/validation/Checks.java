package io.virtfleet.reconcilers.validation;

import java.util.Map;

/** Checks shared by several fields. */
final class Checks {
    private Checks() {
    }

    /** Records why the string is unusable and returns false; true when it may be examined further. */
    static boolean text(Errors errors, String field, String value) {
        String problem = Text.problem(value);
        if (problem != null) {
            errors.add(field, problem);
            return false;
        }
        return true;
    }

    /**
     * Device names become libvirt aliases ua-NAME, the key that ties a live device to its spec entry, so they must be
     * present, DNS labels, and unique within their list.
     */
    static void uniqueName(Errors errors, String field, String name, Map<String, String> seen) {
        if (name == null || name.isEmpty()) {
            errors.add(field, "required");
            return;
        }
        if (!text(errors, field, name)) {
            return;
        }
        if (!Names.isDnsLabel(name)) {
            errors.add(field, Names.dnsLabelMessage(name));
            return;
        }
        String other = seen.putIfAbsent(name, field);
        if (other != null) {
            errors.add(field, "duplicate name " + Text.quote(name) + " (also " + other + ")");
        }
    }
}
