package io.virtfleet.reconcilers.domain.xml;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.dataformat.xml.annotation.JacksonXmlProperty;

/** {@code <audio>}: the host-side audio backend sound devices play into. */
@JsonPropertyOrder({"id", "type"})
public class AudioDef {
    @JacksonXmlProperty(isAttribute = true)
    public Integer id;
    @JacksonXmlProperty(isAttribute = true)
    public String type;

    public AudioDef() {
    }

    public AudioDef(int id, String type) {
        this.id = id;
        this.type = type;
    }
}
