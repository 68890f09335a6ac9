package io.virtfleet.reconcilers.manifest;

import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.reconcilers.validation.FieldError;

import java.util.List;

/**
 * One document of a manifest stream.
 *
 * @param index  1-based position among the stream's non-empty documents
 * @param kind   the document's kind, or null when it has none
 * @param vm     the VirtualMachine, when the document is one and maps cleanly; null on error or for another kind
 * @param errors mapping errors with JSON paths; empty for a clean VirtualMachine and for skipped documents
 */
public record ManifestDocument(int index, String kind, VirtualMachine vm, List<FieldError> errors) {
    public ManifestDocument {
        errors = List.copyOf(errors);
    }

    /** A document of another kind (or API group), passed over without complaint. */
    public boolean skipped() {
        return vm == null && errors.isEmpty();
    }

    public boolean ok() {
        return vm != null && errors.isEmpty();
    }
}
