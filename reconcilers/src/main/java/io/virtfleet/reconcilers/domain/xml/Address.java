package io.virtfleet.reconcilers.domain.xml;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/**
 * A device address as libvirt reports it (pci, drive, usb, virtio-serial). Never rendered: libvirt allocates
 * addresses, and pinning them would make hot-plug fight libvirt's allocator.
 */
@JsonPropertyOrder({"type", "domain", "bus", "slot", "function", "multifunction", "controller", "target", "unit", "port"})
public class Address {
    public String type;
    public String domain;
    public String bus;
    public String slot;
    public String function;
    public String multifunction;
    public String controller;
    public String target;
    public String unit;
    public String port;
}
