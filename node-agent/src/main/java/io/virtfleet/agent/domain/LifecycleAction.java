package io.virtfleet.agent.domain;

/** One step the agent takes for a Domain, in the order a {@link DomainSyncPlanner.Plan} lists them. */
public enum LifecycleAction {
    /** Put {@code ApiGroup.AGENT_FINALIZER} on the Domain (before anything is defined). */
    ADD_FINALIZER,
    /** Define (or redefine) the persistent config from spec.domainXml. On a running domain: next boot only. */
    DEFINE,
    START,
    /** Start with the CPUs paused ({@code VIR_DOMAIN_START_PAUSED}). */
    START_PAUSED,
    RESUME,
    SUSPEND,
    /** Ask the guest to power off (ACPI); the domain is destroyed when it has not within the timeout. */
    SHUTDOWN,
    /**
     * Press the power button again while waiting for a shutdown: a press that reaches a guest still booting (before its
     * ACPI handler runs) is lost. The deadline of the first press stands.
     */
    REPEAT_SHUTDOWN,
    DESTROY,
    UNDEFINE,
    /** Take {@code ApiGroup.AGENT_FINALIZER} off the Domain (after the libvirt domain is gone). */
    REMOVE_FINALIZER,
    /** Record spec.restartGeneration in status.observedRestartGeneration: the start request is served. */
    RECORD_RESTART
}
