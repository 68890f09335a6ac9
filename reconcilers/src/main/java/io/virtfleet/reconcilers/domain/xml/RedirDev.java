package io.virtfleet.reconcilers.domain.xml;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/** {@code <redirdev>}: a USB port a SPICE client can forward a local device into. */
@JsonPropertyOrder({"bus", "type", "alias", "address"})
public class RedirDev extends DeviceDef {
    public String bus;
    public String type;
}
