package io.virtfleet.reconcilers.domain.xml;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.dataformat.xml.annotation.JacksonXmlElementWrapper;
import com.fasterxml.jackson.dataformat.xml.annotation.JacksonXmlProperty;
import com.fasterxml.jackson.dataformat.xml.annotation.JacksonXmlText;

import java.util.ArrayList;
import java.util.List;

/** {@code <os>}: guest type, machine, and how it boots. */
@JsonPropertyOrder({"type", "init", "kernel", "initrd", "cmdline", "boot"})
public class OsDef {
    public OsType type;
    /** OpenVZ: the container's first process. */
    @JacksonXmlProperty(isAttribute = false)
    public String init;
    @JacksonXmlProperty(isAttribute = false)
    public String kernel;
    @JacksonXmlProperty(isAttribute = false)
    public String initrd;
    @JacksonXmlProperty(isAttribute = false)
    public String cmdline;
    @JacksonXmlElementWrapper(useWrapping = false)
    public List<Boot> boot = new ArrayList<>();

    /** {@code <type arch='x86_64' machine='q35'>hvm</type>}; hvm, linux (Xen PV) or exe (containers). */
    @JsonPropertyOrder({"arch", "machine", "value"})
    public static class OsType {
        public String arch;
        public String machine;
        @JacksonXmlText
        public String value;
    }

    public static class Boot {
        public String dev;

        public Boot() {
        }

        public Boot(String dev) {
            this.dev = dev;
        }
    }
}
