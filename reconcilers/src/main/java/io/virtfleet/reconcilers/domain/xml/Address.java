package io.virtfleet.reconcilers.domain.xml;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.dataformat.xml.annotation.JacksonXmlProperty;

/**
 * A device address as libvirt reports it (pci, drive, usb, virtio-serial). Never rendered: libvirt allocates
 * addresses, and pinning them would make hot-plug fight libvirt's allocator.
 */
@JsonPropertyOrder({"type", "domain", "bus", "slot", "function", "multifunction", "controller", "target", "unit", "port"})
public class Address {
    @JacksonXmlProperty(isAttribute = true)
    public String type;
    @JacksonXmlProperty(isAttribute = true)
    public String domain;
    @JacksonXmlProperty(isAttribute = true)
    public String bus;
    @JacksonXmlProperty(isAttribute = true)
    public String slot;
    @JacksonXmlProperty(isAttribute = true)
    public String function;
    @JacksonXmlProperty(isAttribute = true)
    public String multifunction;
    @JacksonXmlProperty(isAttribute = true)
    public String controller;
    @JacksonXmlProperty(isAttribute = true)
    public String target;
    @JacksonXmlProperty(isAttribute = true)
    public String unit;
    @JacksonXmlProperty(isAttribute = true)
    public String port;
}
