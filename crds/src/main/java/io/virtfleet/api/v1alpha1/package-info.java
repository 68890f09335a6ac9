/** The virtfleet.io/v1alpha1 API: what users write (VirtualMachine) and what virtfleet's own processes exchange (Domain, Host). */
package io.virtfleet.api.v1alpha1;
