package io.virtfleet.reconcilers.domain.xml;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/** {@code <video>}. */
@JsonPropertyOrder({"model", "alias", "address"})
public class VideoDef extends DeviceDef {
    public Model model;

    @JsonPropertyOrder({"type", "ram", "vram", "vgamem", "heads", "primary"})
    public static class Model {
        public String type;
        public Integer ram;
        public Integer vram;
        public Integer vgamem;
        public Integer heads;
        public String primary;

        public Model() {
        }

        public Model(String type) {
            this.type = type;
        }
    }
}
