package io.virtfleet.reconcilers.domain.xml;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.dataformat.xml.annotation.JacksonXmlElementWrapper;

import java.util.ArrayList;
import java.util.List;

/** {@code <clock>}: guest time base and timer devices. */
public class Clock {
    public String offset;
    @JacksonXmlElementWrapper(useWrapping = false)
    public List<Timer> timer = new ArrayList<>();

    @JsonPropertyOrder({"name", "tickpolicy", "present"})
    public static class Timer {
        public String name;
        public String tickpolicy;
        public String present;
    }
}
