package io.virtfleet.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

import java.util.ArrayList;
import java.util.List;

/** Host settings, written by the agent from its command line. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class HostSpec {
    public static final String DEFAULT_ALLOWED_ROOT = "/var/lib/virtfleet";

    @JsonPropertyDescription("Directories under which disk images, kernels and backups may live; anything else is refused.")
    public List<String> allowedDiskRoots = new ArrayList<>();

    @JsonPropertyDescription("Prefix of libvirt domain names this agent creates, so several agents can share one libvirtd.")
    public String domainPrefix;

    @JsonPropertyDescription("Directory (under an allowed root) where each domain's serial console is logged as "
            + "<domain name>.log; absent: no console log.")
    public String consoleLogDir;

    @JsonPropertyDescription("Directory (under an allowed root) for each domain's guest channel socket "
            + "<domain name>.chan.sock, a virtio-serial port named io.virtfleet.guest.0 through which host tools talk "
            + "to an in-guest helper (the project's test guest runs commands there); absent: no such channel.")
    public String guestChannelDir;

    @JsonPropertyDescription("No new VMs are scheduled here when true.")
    public Boolean unschedulable;
}
