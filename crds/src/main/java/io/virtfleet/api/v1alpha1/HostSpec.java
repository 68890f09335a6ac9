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

    @JsonPropertyDescription("Allowed roots that are on storage every host with the same root shares at the same path "
            + "(NFS, a cluster filesystem): a VM can be live-migrated only when all its disks are under a root both "
            + "hosts declare shared.")
    public List<String> sharedDiskRoots = new ArrayList<>();

    @JsonPropertyDescription("libvirt URI by which other hosts' libvirtd reach this host's for a peer-to-peer live "
            + "migration (e.g. qemu+tls://node-b/system); absent: this host accepts no migrations.")
    public String migrationUri;

    @JsonPropertyDescription("The bound of the host's image cache, set by the cluster admin (never written by the agent).")
    public HostImageCache imageCache;

    @JsonPropertyDescription("No new VMs are scheduled here when true.")
    public Boolean unschedulable;

    @JsonPropertyDescription("Host maintenance, declaratively (e.g. from a GitOps repository): when true no new VMs are "
            + "scheduled here and the operator moves every running VM away according to its spec.evictionStrategy "
            + "(live migration by default); status.drain reports the progress and each VM it could not move, and why. "
            + "Removing it (or false) undrains: the host takes VMs again, unfinished drain migrations are cancelled "
            + "and VMs the drain stopped start again. Never written by the agent.")
    public Boolean drain;
}
