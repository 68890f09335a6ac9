package io.virtfleet.reconcilers.domain.xml;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.dataformat.xml.annotation.JacksonXmlText;

/** {@code <rng>}: entropy for the guest, fed from the host's non-blocking pool. */
@JsonPropertyOrder({"model", "backend", "alias", "address"})
public class RngDef {
    public String model;
    public Backend backend;
    public Alias alias;
    public Address address;

    public RngDef() {
    }

    public RngDef(String model, Backend backend) {
        this.model = model;
        this.backend = backend;
    }

    public static class Backend {
        public String model;
        @JacksonXmlText
        public String source;

        public Backend() {
        }

        public Backend(String model, String source) {
            this.model = model;
            this.source = source;
        }
    }
}
