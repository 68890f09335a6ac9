package io.virtfleet.reconcilers.domain.xml;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/** {@code <memballoon>}. */
@JsonPropertyOrder({"model", "alias", "address"})
public class MemBalloon extends DeviceDef {
    public String model;
}
