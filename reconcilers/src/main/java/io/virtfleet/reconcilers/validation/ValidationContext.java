package io.virtfleet.reconcilers.validation;

import io.virtfleet.api.v1alpha1.HostSpec;

import java.util.List;

/** What validation needs to know about where the VM will run. */
public record ValidationContext(List<String> allowedDiskRoots) {
    public ValidationContext {
        allowedDiskRoots = allowedDiskRoots == null ? List.of() : List.copyOf(allowedDiskRoots);
    }

    /** The agent's default: disks only under /var/lib/virtfleet. */
    public static ValidationContext defaults() {
        return new ValidationContext(List.of(HostSpec.DEFAULT_ALLOWED_ROOT));
    }
}
