package io.virtfleet.reconcilers.domain.xml;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/** {@code <features>}: hypervisor features switched on (present) or given a state. */
@JsonPropertyOrder({"pae", "acpi", "apic", "vmport"})
public class Features {
    public Empty pae;
    public Empty acpi;
    public Empty apic;
    public State vmport;

    public static class State {
        public String state;

        public State() {
        }

        public State(String state) {
            this.state = state;
        }
    }
}
