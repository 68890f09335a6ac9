package io.virtfleet.reconcilers.domain.xml;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/** {@code <memballoon>}. */
@JsonPropertyOrder({"model", "alias", "address"})
public class MemBalloon {
    public String model;
    public Alias alias;
    public Address address;

    public MemBalloon() {
    }

    public MemBalloon(String model) {
        this.model = model;
    }
}
