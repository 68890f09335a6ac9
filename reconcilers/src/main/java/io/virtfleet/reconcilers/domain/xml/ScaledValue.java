package io.virtfleet.reconcilers.domain.xml;

import com.fasterxml.jackson.dataformat.xml.annotation.JacksonXmlText;

/** A number with a unit attribute, e.g. {@code <memory unit='KiB'>524288</memory>}. */
public class ScaledValue {
    public String unit;
    @JacksonXmlText
    public Long value;

    public ScaledValue() {
    }

    public ScaledValue(String unit, long value) {
        this.unit = unit;
        this.value = value;
    }

    public static ScaledValue kib(long kib) {
        return new ScaledValue("KiB", kib);
    }
}
