package io.virtfleet.reconcilers.domain.xml;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.dataformat.xml.annotation.JacksonXmlText;

/** {@code <rng>}: entropy for the guest, fed from the host's non-blocking pool. */
@JsonPropertyOrder({"model", "backend", "alias", "address"})
public class RngDef extends DeviceDef {
    public String model;
    public Backend backend;

    public static class Backend {
        public String model;
        @JacksonXmlText
        public String source;
    }
}
