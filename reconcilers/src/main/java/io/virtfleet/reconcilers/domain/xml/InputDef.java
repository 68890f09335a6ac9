package io.virtfleet.reconcilers.domain.xml;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/** {@code <input>}: tablet, mouse, keyboard. */
@JsonPropertyOrder({"type", "bus", "alias", "address"})
public class InputDef {
    public String type;
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
