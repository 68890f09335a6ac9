package io.virtfleet.reconcilers.domain.xml;

import com.fasterxml.jackson.dataformat.xml.annotation.JacksonXmlText;

/** A number with a unit attribute, e.g. {@code <memory unit='KiB'>524288</memory>}. */
public class ScaledValue {
    public String unit;
    @JacksonXmlText
    public Long value;

    public static ScaledValue kib(long kib) {
        ScaledValue v = new ScaledValue();
        v.unit = "KiB";
        v.value = kib;
        return v;
    }
}
