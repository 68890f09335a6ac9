package io.virtfleet.reconcilers.domain.xml;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/** {@code <input>}: tablet, mouse, keyboard. */
@JsonPropertyOrder({"type", "bus", "alias", "address"})
public class InputDef extends DeviceDef {
    public String type;
    public String bus;
}
