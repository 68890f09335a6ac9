/**
 * Validation of VirtualMachines without a cluster or host: every rule reports a {@link
 * io.virtfleet.reconcilers.validation.FieldError} at the JSON path of the offending field, in spec order, and no input
 * makes it throw. Names that end up in libvirt (device names, targets, templates) are checked against patterns rather
 * than escaped, so markup smuggled into a name is refused instead of rendered.
 */
package io.virtfleet.reconcilers.validation;
