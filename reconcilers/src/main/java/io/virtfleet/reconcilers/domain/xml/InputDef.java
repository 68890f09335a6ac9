package io.virtfleet.reconcilers.domain.xml;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.dataformat.xml.annotation.JacksonXmlProperty;

/** {@code <input>}: tablet, mouse, keyboard. */
@JsonPropertyOrder({"type", "bus", "alias", "address"})
public class InputDef {
    @JacksonXmlProperty(isAttribute = true)
    public String type;
    @JacksonXmlProperty(isAttribute = true)
    public String bus;
    public Alias alias;
    public Address address;

    public InputDef() {
    }

    public InputDef(String type, String bus) {
        this.type = type;
        this.bus = bus;
    }
}
