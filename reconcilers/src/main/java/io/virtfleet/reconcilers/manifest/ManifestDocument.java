package io.virtfleet.reconcilers.manifest;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.reconcilers.validation.FieldError;

import java.util.List;

/**
 * One document of a manifest stream.
 *
 * @param index      1-based position among the stream's non-empty documents
 * @param kind       the document's kind, or null when it has none
 * @param name       its {@code metadata.name} as written (for skipped documents too), or null
 * @param object     the virtfleet object (any kind of {@link Manifests#KINDS}), when the document is one and maps
 *                   cleanly; null on error or for another API's document
 * @param errors     mapping errors with JSON paths; empty for a clean object and for skipped documents
 * @param skipReason why the document was passed over (another API's object), or null
 */
public record ManifestDocument(int index, String kind, String name, HasMetadata object, List<FieldError> errors,
                               String skipReason) {
    public ManifestDocument {
        errors = List.copyOf(errors);
    }

    static ManifestDocument error(int index, String kind, String name, FieldError error) {
        return new ManifestDocument(index, kind, name, null, List.of(error), null);
    }

    /** A document of another kind (or API group), passed over without complaint. */
    public boolean skipped() {
        return object == null && errors.isEmpty();
    }

    public boolean ok() {
        return object != null && errors.isEmpty();
    }

    /** The object when it is a VirtualMachine, else null. */
    public VirtualMachine vm() {
        return object instanceof VirtualMachine vm ? vm : null;
    }
}
