package io.virtfleet.reconcilers.domain.xml;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.dataformat.xml.annotation.JacksonXmlElementWrapper;
import com.fasterxml.jackson.dataformat.xml.annotation.JacksonXmlProperty;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code <graphics>}: spice or vnc. The port is left to libvirt (autoport) so VMs on one host never collide; live XML
 * reports the port it picked. libvirt's dumped XML also repeats the listen address as an attribute of the same name as
 * the {@code <listen>} child; the reader skips that copy.
 */
@JsonPropertyOrder({"type", "port", "autoport", "listens", "image"})
public class GraphicsDef {
    public String type;
    public String port;
    public String autoport;
    @JacksonXmlElementWrapper(useWrapping = false)
    @JacksonXmlProperty(localName = "listen")
    public List<Listen> listens = new ArrayList<>();
    public Image image;

    @JsonPropertyOrder({"type", "address"})
    public static class Listen {
        public String type;
        public String address;

        public Listen() {
        }

        public Listen(String type) {
            this.type = type;
        }

        /** {@code <listen type='address' address='127.0.0.1'/>}. */
        public static Listen loopback() {
            Listen l = new Listen("address");
            l.address = "127.0.0.1";
            return l;
        }

        /** {@code <listen type='socket'/>}: a UNIX socket whose path libvirt chooses. */
        public static Listen socket() {
            return new Listen("socket");
        }
    }

    public static class Image {
        public String compression;

        public Image() {
        }

        public Image(String compression) {
            this.compression = compression;
        }
    }
}
