package io.virtfleet.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

import java.util.Objects;

/** A device as read back from the domain's live XML. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class DeviceStatus {
    public static final String KIND_DISK = "disk";
    public static final String KIND_INTERFACE = "interface";

    public static final String STATE_ATTACHED = "Attached";
    public static final String STATE_DETACHING = "Detaching";
    public static final String STATE_DETACH_TIMEOUT = "DetachTimeout";
    public static final String STATE_FAILED = "Failed";

    @JsonPropertyDescription("The device's name in the VM spec (from its alias ua-<name>), when it has one.")
    public String name;
    @JsonPropertyDescription("disk or interface.")
    public String kind;
    @JsonPropertyDescription("Target device name: vda, sda, vnet3, or the Xen vifname.")
    public String target;
    @JsonPropertyDescription("MAC address of an interface.")
    public String mac;
    @JsonPropertyDescription("Source: a disk's file, an interface's network or bridge.")
    public String source;
    @JsonPropertyDescription("Attached, Detaching (unplug requested, guest has not acknowledged yet), DetachTimeout or Failed.")
    public String state;
    @JsonPropertyDescription("Why the device is in its state, when it is not simply Attached.")
    public String message;

    public DeviceStatus() {
    }

    public DeviceStatus(String name, String kind, String target, String mac, String source, String state) {
        this.name = name;
        this.kind = kind;
        this.target = target;
        this.mac = mac;
        this.source = source;
        this.state = state;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DeviceStatus d && Objects.equals(name, d.name) && Objects.equals(kind, d.kind)
                && Objects.equals(target, d.target) && Objects.equals(mac, d.mac) && Objects.equals(source, d.source)
                && Objects.equals(state, d.state) && Objects.equals(message, d.message);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, kind, target, mac, source, state, message);
    }

    @Override
    public String toString() {
        return kind + " " + name + " target=" + target + (mac != null ? " mac=" + mac : "") + " " + state;
    }
}
