package io.virtfleet.reconcilers.domain.xml;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.dataformat.xml.annotation.JacksonXmlProperty;

/**
 * {@code <disk>}. Identified by its alias when virtfleet created it, otherwise by its target dev (libvirt finds the
 * disk to detach or update by its target).
 */
@JsonPropertyOrder({"type", "device", "driver", "source", "target", "readonly", "serial", "alias", "address"})
public class DiskDef extends DeviceDef {
    /** file, block, ... */
    public String type;
    /** disk or cdrom. */
    public String device;
    public Driver driver;
    /** Absent on an empty cdrom drive. */
    public Source source;
    public Target target;
    public Empty readonly;
    /** What the guest sees as the disk's serial ({@code /sys/block/vdX/serial}); guests name disks by probe order. */
    @JacksonXmlProperty(isAttribute = false)
    public String serial;

    @JsonPropertyOrder({"name", "type", "cache", "discard"})
    public static class Driver {
        public String name;
        /** Image format: qcow2, raw. */
        public String type;
        public String cache;
        public String discard;
    }

    @JsonPropertyOrder({"file", "dev", "index"})
    public static class Source {
        public String file;
        public String dev;
        /** Live XML only: libvirt's storage source index. */
        public String index;

        public Source() {
        }

        public static Source file(String path) {
            Source s = new Source();
            s.file = path;
            return s;
        }
    }

    @JsonPropertyOrder({"dev", "bus"})
    public static class Target {
        public String dev;
        public String bus;

        public Target() {
        }

        public Target(String dev, String bus) {
            this.dev = dev;
            this.bus = bus;
        }
    }
}
