package io.virtfleet.reconcilers.domain.xml;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/** {@code <sound>}. */
@JsonPropertyOrder({"model", "alias", "address"})
public class SoundDef extends DeviceDef {
    public String model;
}
