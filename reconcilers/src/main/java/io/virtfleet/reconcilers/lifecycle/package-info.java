/**
 * Pure lifecycle decisions of the operator: where a VM runs ({@link io.virtfleet.reconcilers.lifecycle.Scheduler}),
 * whether its domain should run ({@link io.virtfleet.reconcilers.lifecycle.RunStrategyPolicy}), whether a spec change
 * needs a restart ({@link io.virtfleet.reconcilers.lifecycle.XmlFingerprint}) and what the VM's status says
 * ({@link io.virtfleet.reconcilers.lifecycle.StatusFolder}). No I/O, no clocks: time is always passed in.
 */
package io.virtfleet.reconcilers.lifecycle;
