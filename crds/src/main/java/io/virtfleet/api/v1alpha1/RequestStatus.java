package io.virtfleet.api.v1alpha1;

/**
 * The phases the snapshot, backup, clone and restore statuses share: Pending once the operator has validated the
 * request, Succeeded or Failed at the end; each status adds the phases in between. Constants only: it adds no field,
 * so each status's CRD schema (and its JSON) is made of its own fields alone.
 */
public abstract class RequestStatus {
    public static final String PHASE_PENDING = "Pending";
    public static final String PHASE_SUCCEEDED = "Succeeded";
    public static final String PHASE_FAILED = "Failed";

    protected RequestStatus() {
    }
}
