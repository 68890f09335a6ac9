package io.virtfleet.reconcilers.domain.xml;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/** {@code <filesystem>}: for OpenVZ the container's root, created from a template (libvirt's openvz driver). */
@JsonPropertyOrder({"type", "source", "target", "alias"})
public class FilesystemDef {
    /** template, mount. */
    public String type;
    public Source source;
    public Target target;
    public Alias alias;

    @JsonPropertyOrder({"name", "dir"})
    public static class Source {
        /** type template: the OS template's name. */
        public String name;
        /** type mount: the host directory. */
        public String dir;
    }

    public static class Target {
        public String dir;

        public Target() {
        }

        public Target(String dir) {
            this.dir = dir;
        }
    }
}
