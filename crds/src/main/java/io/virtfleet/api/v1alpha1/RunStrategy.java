package io.virtfleet.api.v1alpha1;

/** When virtfleet keeps a VM running; the names and meanings are KubeVirt's. */
public enum RunStrategy {
    /** Keep it running: start it again whenever it stops or crashes. */
    Always,
    /** Keep it stopped. */
    Halted,
    /** Start and stop only on request; a guest-initiated shutdown is respected. */
    Manual,
    /** Start it; restart it after a crash, but not after a clean guest shutdown. */
    RerunOnFailure,
    /** Start it once; do not restart it whatever the reason it stopped. */
    Once
}
