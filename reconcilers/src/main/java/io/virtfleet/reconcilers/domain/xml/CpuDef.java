package io.virtfleet.reconcilers.domain.xml;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.dataformat.xml.annotation.JacksonXmlText;

/** {@code <cpu>}: the guest CPU model. */
@JsonPropertyOrder({"mode", "match", "check", "migratable", "model"})
public class CpuDef {
    public String mode;
    public String match;
    public String check;
    public String migratable;
    public Model model;

    public static class Model {
        public String fallback;
        @JacksonXmlText
        public String name;
    }
}
