package io.virtfleet.reconcilers.domain.xml;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.dataformat.xml.annotation.JacksonXmlProperty;

/** {@code <filesystem>}: for OpenVZ the container's root, created from a template (libvirt's openvz driver). */
@JsonPropertyOrder({"type", "source", "target", "alias"})
public class FilesystemDef {
    /** template, mount. */
    @JacksonXmlProperty(isAttribute = true)
    public String type;
    public Source source;
    public Target target;
    public Alias alias;

    @JsonPropertyOrder({"name", "dir"})
    public static class Source {
        /** type template: the OS template's name. */
        @JacksonXmlProperty(isAttribute = true)
        public String name;
        /** type mount: the host directory. */
        @JacksonXmlProperty(isAttribute = true)
        public String dir;
    }

    public static class Target {
        @JacksonXmlProperty(isAttribute = true)
        public String dir;

        public Target() {
        }

        public Target(String dir) {
            this.dir = dir;
        }
    }
}
