package io.virtfleet.reconcilers.domain.xml;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.dataformat.xml.annotation.JacksonXmlProperty;

/** {@code <memballoon>}. */
@JsonPropertyOrder({"model", "alias", "address"})
public class MemBalloon {
    @JacksonXmlProperty(isAttribute = true)
    public String model;
    public Alias alias;
    public Address address;

    public MemBalloon() {
    }

    public MemBalloon(String model) {
        this.model = model;
    }
}
