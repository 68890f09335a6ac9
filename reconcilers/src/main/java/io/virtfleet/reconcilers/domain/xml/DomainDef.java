package io.virtfleet.reconcilers.domain.xml;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.dataformat.xml.annotation.JacksonXmlProperty;
import com.fasterxml.jackson.dataformat.xml.annotation.JacksonXmlRootElement;
import com.fasterxml.jackson.dataformat.xml.annotation.JacksonXmlText;

/** {@code <domain>}: the root of libvirt's domain XML. */
@JacksonXmlRootElement(localName = "domain")
@JsonPropertyOrder({"type", "id", "name", "uuid", "genid", "metadata", "memory", "currentMemory", "vcpu",
        "bootloader", "os", "features", "cpu", "clock", "onPoweroff", "onReboot", "onCrash", "pm", "devices"})
public class DomainDef {
    /** kvm, qemu, xen or openvz. */
    public String type;
    /** Only in live XML: libvirt's runtime id (assigned while the domain runs, -1 otherwise). Never rendered. */
    public Integer id;
    @JacksonXmlProperty(isAttribute = false)
    public String name;
    @JacksonXmlProperty(isAttribute = false)
    public String uuid;
    public Genid genid;
    public Metadata metadata;
    public ScaledValue memory;
    public ScaledValue currentMemory;
    public Vcpu vcpu;
    /** Xen PV only: the host-side program that extracts the guest kernel from its disk. */
    @JacksonXmlProperty(isAttribute = false)
    public String bootloader;
    public OsDef os;
    public Features features;
    public CpuDef cpu;
    public Clock clock;
    @JacksonXmlProperty(localName = "on_poweroff")
    public String onPoweroff;
    @JacksonXmlProperty(localName = "on_reboot")
    public String onReboot;
    @JacksonXmlProperty(localName = "on_crash")
    public String onCrash;
    public Pm pm;
    public Devices devices;

    /**
     * {@code <genid/>} (value null: libvirt generates one) or {@code <genid>GUID</genid>}. Absent element: no
     * generation ID device (libvirt's {@code <genid>}).
     */
    public static class Genid {
        @JacksonXmlText
        public String value;

        public Genid() {
        }

        /** Also the reader's creator for the element's text: {@code <genid/>} and blank text mean "generate one". */
        public Genid(String value) {
            this.value = value == null || value.isBlank() ? null : value.strip();
        }
    }

    public static class Vcpu {
        public String placement;
        @JacksonXmlText
        public Integer count;
    }
}
