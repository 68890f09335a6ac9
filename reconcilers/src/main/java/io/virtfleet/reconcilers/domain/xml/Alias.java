package io.virtfleet.reconcilers.domain.xml;


/** {@code <alias name=.../>}: libvirt keeps user aliases ({@code ua-} prefix) across define, so they name devices. */
public class Alias {
    public String name;

    public Alias() {
    }

    public Alias(String name) {
        this.name = name;
    }
}
