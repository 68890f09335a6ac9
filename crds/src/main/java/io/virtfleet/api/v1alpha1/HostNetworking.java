package io.virtfleet.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

import java.util.ArrayList;
import java.util.List;

/**
 * What a VM's interfaces can attach to on this host, as its agent found it: libvirt's networks and the host's Linux
 * bridges. The scheduler places a VM (and a live migration picks its target) only where every {@code network} and
 * {@code bridge} the VM's interfaces name exists. Absent (an agent that does not report it): not checked.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class HostNetworking {
    @JsonPropertyDescription("libvirt networks defined on the host (virsh net-list --all).")
    public List<Network> networks = new ArrayList<>();

    @JsonPropertyDescription("Linux bridges of the host (interfaces with /sys/class/net/NAME/bridge), by name.")
    public List<String> bridges = new ArrayList<>();

    /** One libvirt network. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class Network {
        public String name;
        @JsonPropertyDescription("The network is active: a domain can attach to it now.")
        public Boolean active;
        @JsonPropertyDescription("The bridge device libvirt made for it, when it has one.")
        public String bridge;

        public Network() {
        }

        public Network(String name, boolean active, String bridge) {
            this.name = name;
            this.active = active;
            this.bridge = bridge;
        }
    }
}
