package io.virtfleet.reconcilers.render;

import io.virtfleet.reconcilers.validation.FieldError;

import java.util.List;
import java.util.stream.Collectors;

/** Thrown by the renderer for a VM the validator rejects; carries the same errors. */
public class InvalidVirtualMachineException extends IllegalArgumentException {
    private final transient List<FieldError> errors;

    public InvalidVirtualMachineException(List<FieldError> errors) {
        super("invalid VirtualMachine: " + errors.stream().map(FieldError::toString).collect(Collectors.joining("; ")));
        this.errors = List.copyOf(errors);
    }

    public List<FieldError> errors() {
        return errors;
    }
}
