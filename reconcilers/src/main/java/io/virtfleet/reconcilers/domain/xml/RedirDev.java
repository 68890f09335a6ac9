package io.virtfleet.reconcilers.domain.xml;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.dataformat.xml.annotation.JacksonXmlProperty;

/** {@code <redirdev>}: a USB port a SPICE client can forward a local device into. */
@JsonPropertyOrder({"bus", "type", "alias", "address"})
public class RedirDev {
    @JacksonXmlProperty(isAttribute = true)
    public String bus;
    @JacksonXmlProperty(isAttribute = true)
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
