package io.virtfleet.reconcilers.domain.xml;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.dataformat.xml.annotation.JacksonXmlProperty;
import com.fasterxml.jackson.dataformat.xml.annotation.JacksonXmlText;

/** {@code <cpu>}: the guest CPU model. */
@JsonPropertyOrder({"mode", "match", "check", "migratable", "model"})
public class CpuDef {
    @JacksonXmlProperty(isAttribute = true)
    public String mode;
    @JacksonXmlProperty(isAttribute = true)
    public String match;
    @JacksonXmlProperty(isAttribute = true)
    public String check;
    @JacksonXmlProperty(isAttribute = true)
    public String migratable;
    public Model model;

    public static class Model {
        @JacksonXmlProperty(isAttribute = true)
        public String fallback;
        @JacksonXmlText
        public String name;

        public Model() {
        }

        public Model(String fallback, String name) {
            this.fallback = fallback;
            this.name = name;
        }
    }
}
