package io.virtfleet.reconcilers.domain.xml;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.dataformat.xml.annotation.JacksonXmlProperty;
import io.virtfleet.api.v1alpha1.ApiGroup;

/**
 * {@code <metadata>}: application data libvirt stores verbatim. libvirt requires each child to be in its own XML
 * namespace; the codec binds the conventional prefixes so the output reads like virt-install's.
 */
@JsonPropertyOrder({"libosinfo", "virtfleet"})
public class Metadata {
    public static final String LIBOSINFO_NS = "http://libosinfo.org/xmlns/libvirt/domain/1.0";
    public static final String LIBOSINFO_PREFIX = "libosinfo";

    @JacksonXmlProperty(localName = "libosinfo", namespace = LIBOSINFO_NS)
    public Libosinfo libosinfo;

    @JacksonXmlProperty(localName = "vm", namespace = ApiGroup.LIBVIRT_METADATA_NS)
    public VirtfleetMark virtfleet;

    public static class Libosinfo {
        @JacksonXmlProperty(localName = "os", namespace = LIBOSINFO_NS)
        public LibosinfoOs os;

        public Libosinfo() {
        }

        public Libosinfo(String id) {
            this.os = new LibosinfoOs();
            this.os.id = id;
        }
    }

    public static class LibosinfoOs {
        public String id;
    }

    /**
     * virtfleet's ownership mark. The node agent acts only on domains that carry it, so a hand-made domain that
     * happens to share a name is never touched.
     */
    @JsonPropertyOrder({"namespace", "name", "uid", "host"})
    public static class VirtfleetMark {
        public String namespace;
        public String name;
        public String uid;
        public String host;
    }
}
