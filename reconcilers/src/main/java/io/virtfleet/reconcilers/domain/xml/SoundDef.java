package io.virtfleet.reconcilers.domain.xml;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.dataformat.xml.annotation.JacksonXmlProperty;

/** {@code <sound>}. */
@JsonPropertyOrder({"model", "alias", "address"})
public class SoundDef {
    @JacksonXmlProperty(isAttribute = true)
    public String model;
    public Alias alias;
    public Address address;

    public SoundDef() {
    }

    public SoundDef(String model) {
        this.model = model;
    }
}
