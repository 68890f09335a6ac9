package io.virtfleet.reconcilers.domain.xml;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/** {@code <redirdev>}: a USB port a SPICE client can forward a local device into. */
@JsonPropertyOrder({"bus", "type", "alias", "address"})
public class RedirDev {
    public String bus;
    public String type;
    public Alias alias;
    public Address address;

    public RedirDev() {
    }

    public RedirDev(String bus, String type) {
        this.bus = bus;
        this.type = type;
    }
}
