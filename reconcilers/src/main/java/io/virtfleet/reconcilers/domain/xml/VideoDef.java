package io.virtfleet.reconcilers.domain.xml;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.dataformat.xml.annotation.JacksonXmlProperty;

/** {@code <video>}. */
@JsonPropertyOrder({"model", "alias", "address"})
public class VideoDef {
    public Model model;
    public Alias alias;
    public Address address;

    public VideoDef() {
    }

    public VideoDef(Model model) {
        this.model = model;
    }

    @JsonPropertyOrder({"type", "ram", "vram", "vgamem", "heads", "primary"})
    public static class Model {
        @JacksonXmlProperty(isAttribute = true)
        public String type;
        @JacksonXmlProperty(isAttribute = true)
        public Integer ram;
        @JacksonXmlProperty(isAttribute = true)
        public Integer vram;
        @JacksonXmlProperty(isAttribute = true)
        public Integer vgamem;
        @JacksonXmlProperty(isAttribute = true)
        public Integer heads;
        @JacksonXmlProperty(isAttribute = true)
        public String primary;

        public Model() {
        }

        public Model(String type) {
            this.type = type;
        }
    }
}
