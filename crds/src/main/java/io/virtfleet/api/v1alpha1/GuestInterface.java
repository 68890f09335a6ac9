package io.virtfleet.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** A network interface as the guest agent inside the VM reports it (qemu-guest-agent's guest-network-get-interfaces). */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class GuestInterface {
    @JsonPropertyDescription("The VM's interface with this MAC (spec.interfaces[].name); absent for a guest interface "
            + "the VM does not define (a bridge or VPN inside the guest).")
    public String name;
    @JsonPropertyDescription("The interface's name inside the guest, e.g. enp1s0.")
    public String interfaceName;
    @JsonPropertyDescription("MAC address as the guest reports it.")
    public String mac;
    @JsonPropertyDescription("IPv4 and IPv6 addresses with prefix length, e.g. 10.0.2.15/24, as the guest reports them.")
    public List<String> ipAddresses = new ArrayList<>();

    public GuestInterface() {
    }

    public GuestInterface(String name, String interfaceName, String mac, List<String> ipAddresses) {
        this.name = name;
        this.interfaceName = interfaceName;
        this.mac = mac;
        this.ipAddresses = new ArrayList<>(ipAddresses);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GuestInterface x && Objects.equals(name, x.name)
                && Objects.equals(interfaceName, x.interfaceName) && Objects.equals(mac, x.mac)
                && Objects.equals(ipAddresses, x.ipAddresses);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, interfaceName, mac, ipAddresses);
    }

    @Override
    public String toString() {
        return interfaceName + "(" + mac + ")" + ipAddresses;
    }
}
