package io.virtfleet.reconcilers.domain.xml;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.dataformat.xml.annotation.JacksonXmlProperty;

/** A character device: {@code <serial>}, {@code <console>} or {@code <channel>}. */
@JsonPropertyOrder({"type", "source", "log", "target", "alias", "address"})
public class CharDevice {
    /** pty, unix, spicevmc. */
    @JacksonXmlProperty(isAttribute = true)
    public String type;
    /** Live XML: the allocated pty or socket path. Rendering leaves it to libvirt. */
    public Source source;
    public Log log;
    public Target target;
    public Alias alias;
    public Address address;

    public CharDevice() {
    }

    public CharDevice(String type, Target target) {
        this.type = type;
        this.target = target;
    }

    @JsonPropertyOrder({"mode", "path"})
    public static class Source {
        @JacksonXmlProperty(isAttribute = true)
        public String mode;
        @JacksonXmlProperty(isAttribute = true)
        public String path;
    }

    /** Where libvirt copies the device's output; append off so every boot starts a fresh log. */
    @JsonPropertyOrder({"file", "append"})
    public static class Log {
        @JacksonXmlProperty(isAttribute = true)
        public String file;
        @JacksonXmlProperty(isAttribute = true)
        public String append;

        public Log() {
        }

        public Log(String file, String append) {
            this.file = file;
            this.append = append;
        }
    }

    @JsonPropertyOrder({"type", "name", "port", "state", "model"})
    public static class Target {
        @JacksonXmlProperty(isAttribute = true)
        public String type;
        @JacksonXmlProperty(isAttribute = true)
        public String name;
        @JacksonXmlProperty(isAttribute = true)
        public Integer port;
        /** Live XML of a virtio channel: connected or disconnected (is the guest agent there?). */
        @JacksonXmlProperty(isAttribute = true)
        public String state;
        public ModelName model;

        public static Target port(String type, int port) {
            Target t = new Target();
            t.type = type;
            t.port = port;
            return t;
        }

        public static Target virtio(String name) {
            Target t = new Target();
            t.type = "virtio";
            t.name = name;
            return t;
        }
    }
}
