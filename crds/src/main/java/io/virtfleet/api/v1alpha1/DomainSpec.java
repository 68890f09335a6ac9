package io.virtfleet.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** What the agent on {@link #host} must make true in libvirt. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class DomainSpec {
    public static final String POWER_RUNNING = "Running";
    public static final String POWER_STOPPED = "Stopped";
    public static final String POWER_PAUSED = "Paused";

    @JsonPropertyDescription("Host whose agent owns this domain. A Domain reassigned away from a host is destroyed "
            + "there (fencing), never started.")
    public String host;

    @JsonPropertyDescription("Running, Stopped or Paused.")
    public String powerState;

    @JsonPropertyDescription("SMBIOS UUID: the key of the libvirt domain.")
    public String uuid;

    @JsonPropertyDescription("Full libvirt domain XML to define.")
    public String domainXml;

    @JsonPropertyDescription("Generation ID the domain must carry before it next runs; empty for none or libvirt-generated.")
    public String genid;

    @JsonPropertyDescription("Bumped to ask for a restart (stop, then start with the current XML).")
    public Long restartGeneration;

    @JsonPropertyDescription("Seconds a graceful shutdown may take before the domain is destroyed.")
    public Integer shutdownTimeoutSeconds;
}
