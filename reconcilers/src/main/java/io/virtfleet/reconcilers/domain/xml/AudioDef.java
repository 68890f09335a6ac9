package io.virtfleet.reconcilers.domain.xml;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/** {@code <audio>}: the host-side audio backend sound devices play into. */
@JsonPropertyOrder({"id", "type"})
public class AudioDef {
    public Integer id;
    public String type;
}
