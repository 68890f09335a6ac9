/**
 * Renders a validated VirtualMachine into libvirt domain XML for one host. Pure: the same VM, host and options give
 * byte-identical XML, so the operator can compare renderings to decide whether anything changed.
 */
package io.virtfleet.reconcilers.render;
