package io.virtfleet.reconcilers.domain.xml;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/**
 * {@code <interface>}. libvirt reports the target dev it allocated (vnetN; the vifname on Xen) and the MAC
 * it generated in the dumped XML; both are read back into status.
 */
@JsonPropertyOrder({"type", "mac", "source", "target", "model", "alias", "address"})
public class InterfaceDef extends DeviceDef {
    /** network or bridge. */
    public String type;
    public Mac mac;
    public Source source;
    public Target target;
    public Model model;

    public static class Mac {
        public String address;

        public Mac() {
        }

        public Mac(String address) {
            this.address = address;
        }
    }

    /** For type network libvirt's live XML also names the bridge it resolved the network to. */
    @JsonPropertyOrder({"network", "bridge", "portid"})
    public static class Source {
        public String network;
        public String bridge;
        public String portid;

        public static Source network(String name) {
            Source s = new Source();
            s.network = name;
            return s;
        }

        public static Source bridge(String name) {
            Source s = new Source();
            s.bridge = name;
            return s;
        }
    }

    public static class Target {
        public String dev;

        public Target() {
        }

        public Target(String dev) {
            this.dev = dev;
        }
    }

    public static class Model {
        public String type;

        public Model() {
        }

        public Model(String type) {
            this.type = type;
        }
    }
}
