package io.virtfleet.api.v1alpha1;

/**
 * What draining the VM's host ({@code Host.spec.drain}) does to a running VM; the names are KubeVirt's. Absent means
 * {@link #LiveMigrate}: a drain exists to empty a host without stopping its guests.
 */
public enum EvictionStrategy {
    /** Live-migrate the VM to another host (the default); a VM that cannot move is reported on the Host. */
    LiveMigrate,
    /** Stop the VM for as long as its host drains; it starts again there (per its runStrategy) after the undrain. */
    Stop,
    /** Leave the VM running on the draining host; the drain reports it as not moved. */
    None
}
