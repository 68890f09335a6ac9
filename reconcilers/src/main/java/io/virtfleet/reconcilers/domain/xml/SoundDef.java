package io.virtfleet.reconcilers.domain.xml;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/** {@code <sound>}. */
@JsonPropertyOrder({"model", "alias", "address"})
public class SoundDef {
    public String model;
    public Alias alias;
    public Address address;

    public SoundDef() {
    }

    public SoundDef(String model) {
        this.model = model;
    }
}
