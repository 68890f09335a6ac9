package io.virtfleet.reconcilers.mapping;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.deser.DeserializationProblemHandler;
import com.fasterxml.jackson.databind.deser.ValueInstantiator;

import java.io.IOException;

/**
 * Jackson mapping problems turned into "leave this value out and carry on": an unknown field or a value of the wrong
 * shape is skipped, a scalar Jackson cannot convert becomes null, so one pass reads everything it can. Each problem is
 * first handed to a hook (which does nothing here) for a reader that reports them.
 */
public class SkippingProblemHandler extends DeserializationProblemHandler {
    /** An unknown field at the parser's position (skipped). */
    protected void unknownField(JsonParser p) {
    }

    /** A scalar (a String or a Number) that does not convert to {@code type} (becomes null). */
    protected void unconvertible(JsonParser p, Class<?> type, Object value) {
    }

    /** A value of another shape than {@code expected}, e.g. a string for an object (skipped). */
    protected void wrongShape(JsonParser p, Class<?> expected, JsonToken got) {
    }

    @Override
    public boolean handleUnknownProperty(DeserializationContext ctxt, JsonParser p, JsonDeserializer<?> deserializer,
                                         Object beanOrClass, String propertyName) throws IOException {
        unknownField(p);
        p.skipChildren();
        return true;
    }

    @Override
    public Object handleWeirdStringValue(DeserializationContext ctxt, Class<?> targetType, String valueToConvert,
                                         String failureMsg) {
        unconvertible(ctxt.getParser(), targetType, valueToConvert);
        return null;
    }

    @Override
    public Object handleWeirdNumberValue(DeserializationContext ctxt, Class<?> targetType, Number valueToConvert,
                                         String failureMsg) {
        unconvertible(ctxt.getParser(), targetType, valueToConvert);
        return null;
    }

    @Override
    public Object handleUnexpectedToken(DeserializationContext ctxt, JavaType targetType, JsonToken t, JsonParser p,
                                        String failureMsg) throws IOException {
        wrongShape(p, targetType.getRawClass(), t);
        p.skipChildren();
        return null;
    }

    @Override
    public Object handleMissingInstantiator(DeserializationContext ctxt, Class<?> instClass,
                                            ValueInstantiator valueInsta, JsonParser p, String msg)
            throws IOException {
        wrongShape(p, instClass, p.currentToken());
        p.skipChildren();
        return null;
    }
}
