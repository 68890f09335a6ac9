package io.virtfleet.reconcilers.validation;

import io.fabric8.kubernetes.api.model.ObjectMeta;

import java.util.List;

/**
 * What the apiserver requires of any custom resource's metadata: a name that is a DNS subdomain (at most 253
 * characters) and a namespace that is a DNS label; text without control characters.
 */
public final class ObjectMetaRules {
    private ObjectMetaRules() {
    }

    /** The errors of {@code m}, field-named under {@code metadata}. */
    public static List<FieldError> check(ObjectMeta m) {
        Errors errors = new Errors();
        check(m, errors);
        return errors.list();
    }

    static void check(ObjectMeta m, Errors errors) {
        if (m == null || m.getName() == null || m.getName().isEmpty()) {
            errors.add("metadata.name", "required");
        } else if (Checks.text(errors, "metadata.name", m.getName()) && !Names.isDnsSubdomain(m.getName())) {
            errors.add("metadata.name", Text.quote(m.getName()) + " is not a DNS subdomain (lower-case letters, "
                    + "digits, '-' and '.', at most " + Names.DNS_SUBDOMAIN_MAX + " characters)");
        }
        if (m != null && m.getNamespace() != null && Checks.text(errors, "metadata.namespace", m.getNamespace())
                && !Names.isDnsLabel(m.getNamespace())) {
            errors.add("metadata.namespace", Names.dnsLabelMessage(m.getNamespace()));
        }
        if (m != null && m.getUid() != null) {
            Checks.text(errors, "metadata.uid", m.getUid());
        }
    }
}
