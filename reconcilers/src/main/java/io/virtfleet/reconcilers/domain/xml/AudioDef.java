package io.virtfleet.reconcilers.domain.xml;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/** {@code <audio>}: the host-side audio backend sound devices play into. */
@JsonPropertyOrder({"id", "type"})
public class AudioDef {
    public Integer id;
    public String type;

    public AudioDef() {
    }

    public AudioDef(int id, String type) {
        this.id = id;
        this.type = type;
    }
}
