package io.virtfleet.reconcilers.domain.xml;

import com.fasterxml.jackson.dataformat.xml.annotation.JacksonXmlProperty;

/** {@code <alias name=.../>}: libvirt keeps user aliases ({@code ua-} prefix) across define, so they name devices. */
public class Alias {
    @JacksonXmlProperty(isAttribute = true)
    public String name;

    public Alias() {
    }

    public Alias(String name) {
        this.name = name;
    }
}
