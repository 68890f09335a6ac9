package io.virtfleet.reconcilers.domain.xml;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/** A character device: {@code <serial>}, {@code <console>} or {@code <channel>}. */
@JsonPropertyOrder({"type", "source", "log", "target", "alias", "address"})
public class CharDevice extends DeviceDef {
    /** pty, unix, spicevmc. */
    public String type;
    /** Live XML: the allocated pty or socket path. Rendering leaves it to libvirt. */
    public Source source;
    public Log log;
    public Target target;

    @JsonPropertyOrder({"mode", "path"})
    public static class Source {
        public String mode;
        public String path;
    }

    /** Where libvirt copies the device's output; append off so every boot starts a fresh log. */
    @JsonPropertyOrder({"file", "append"})
    public static class Log {
        public String file;
        public String append;
    }

    @JsonPropertyOrder({"type", "name", "port", "state", "model"})
    public static class Target {
        public String type;
        public String name;
        public Integer port;
        /** Live XML of a virtio channel: connected or disconnected (is the guest agent there?). */
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
