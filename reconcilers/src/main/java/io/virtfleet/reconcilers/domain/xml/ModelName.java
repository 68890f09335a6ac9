package io.virtfleet.reconcilers.domain.xml;


/**
 * {@code <model name=.../>}: the QEMU device model of a PCI controller ({@code pcie-root-port}) or of a serial
 * port's target ({@code isa-serial}), one element type in libvirt's schema for both.
 */
public class ModelName {
    public String name;

    public ModelName() {
    }

    public ModelName(String name) {
        this.name = name;
    }
}
