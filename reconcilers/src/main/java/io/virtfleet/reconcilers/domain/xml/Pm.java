package io.virtfleet.reconcilers.domain.xml;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.dataformat.xml.annotation.JacksonXmlProperty;

/** {@code <pm>}: guest-initiated suspend, which virtfleet turns off (a suspended guest looks hung to the operator). */
@JsonPropertyOrder({"suspendToMem", "suspendToDisk"})
public class Pm {
    @JacksonXmlProperty(localName = "suspend-to-mem")
    public Enabled suspendToMem;
    @JacksonXmlProperty(localName = "suspend-to-disk")
    public Enabled suspendToDisk;

    public static class Enabled {
        public String enabled;

        public Enabled() {
        }

        public Enabled(String enabled) {
            this.enabled = enabled;
        }
    }
}
