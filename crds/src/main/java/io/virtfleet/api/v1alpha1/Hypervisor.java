package io.virtfleet.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/** The libvirt driver family a VirtualMachine runs on. */
public enum Hypervisor {
    KVM("kvm"), QEMU("qemu"), XEN("xen"), OPENVZ("openvz");

    private final String value;

    Hypervisor(String value) {
        this.value = value;
    }

    @JsonValue
    public String value() {
        return value;
    }

    @JsonCreator
    public static Hypervisor fromValue(String value) {
        for (Hypervisor h : values()) {
            if (h.value.equals(value)) {
                return h;
            }
        }
        throw new IllegalArgumentException("unknown hypervisor \"" + value + "\" (expected kvm, qemu, xen or openvz)");
    }

    /** The libvirt connection URI of this driver on the local host. */
    public String defaultUri() {
        return switch (this) {
            case KVM, QEMU -> "qemu:///system";
            case XEN -> "xen:///system";
            case OPENVZ -> "openvz:///system";
        };
    }

    @Override
    public String toString() {
        return value;
    }
}
