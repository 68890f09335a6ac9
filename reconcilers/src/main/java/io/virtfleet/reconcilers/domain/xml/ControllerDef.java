package io.virtfleet.reconcilers.domain.xml;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import com.fasterxml.jackson.dataformat.xml.annotation.JacksonXmlProperty;
import com.fasterxml.jackson.dataformat.xml.ser.ToXmlGenerator;

import java.io.IOException;

/**
 * {@code <controller>}: usb, pci, sata, scsi, virtio-serial.
 *
 * <p>A PCI controller has both a {@code model} attribute (libvirt's controller model) and a {@code <model name=.../>}
 * child (the QEMU device). Jackson XML cannot bind an attribute and an element of the same name to two properties, so
 * this one class is written and read by hand.
 */
@JsonSerialize(using = ControllerDef.Writer.class)
@JsonDeserialize(using = ControllerDef.Reader.class)
public class ControllerDef extends DeviceDef {
    public String type;
    public Integer index;
    public String model;
    public Integer ports;
    /** The {@code <model>} child. Named for {@link DomainXmlWriter}; Jackson uses the Writer and Reader below. */
    @JacksonXmlProperty(localName = "model")
    public ModelName modelName;
    public Target target;

    @JsonPropertyOrder({"chassis", "port"})
    public static class Target {
        @JacksonXmlProperty(isAttribute = true)
        public Integer chassis;
        @JacksonXmlProperty(isAttribute = true)
        public String port;
    }

    static final class Writer extends JsonSerializer<ControllerDef> {
        @Override
        public void serialize(ControllerDef c, JsonGenerator gen, SerializerProvider provider) throws IOException {
            ToXmlGenerator xml = (ToXmlGenerator) gen;
            gen.writeStartObject();
            xml.setNextIsAttribute(true);
            attribute(gen, "type", c.type);
            attribute(gen, "index", c.index == null ? null : c.index.toString());
            attribute(gen, "model", c.model);
            attribute(gen, "ports", c.ports == null ? null : c.ports.toString());
            xml.setNextIsAttribute(false);
            child(gen, provider, "model", c.modelName);
            child(gen, provider, "target", c.target);
            child(gen, provider, "alias", c.alias);
            child(gen, provider, "address", c.address);
            gen.writeEndObject();
        }

        private static void attribute(JsonGenerator gen, String name, String value) throws IOException {
            if (value != null) {
                gen.writeStringField(name, value);
            }
        }

        private static void child(JsonGenerator gen, SerializerProvider provider, String name, Object value)
                throws IOException {
            if (value != null) {
                gen.writeFieldName(name);
                provider.defaultSerializeValue(value, gen);
            }
        }
    }

    static final class Reader extends JsonDeserializer<ControllerDef> {
        @Override
        public ControllerDef deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            ControllerDef c = new ControllerDef();
            JsonToken t = p.currentToken();
            if (t == JsonToken.START_OBJECT) {
                t = p.nextToken();
            }
            for (; t == JsonToken.FIELD_NAME; t = p.nextToken()) {
                String field = p.currentName();
                JsonToken value = p.nextToken();
                boolean object = value == JsonToken.START_OBJECT;
                switch (field) {
                    case "type" -> c.type = scalar(p, value);
                    case "index" -> c.index = integer(scalar(p, value));
                    case "ports" -> c.ports = integer(scalar(p, value));
                    // Attributes come before children in the token stream, so the string is the attribute.
                    case "model" -> {
                        if (object) {
                            c.modelName = ctxt.readValue(p, ModelName.class);
                        } else {
                            c.model = scalar(p, value);
                        }
                    }
                    case "target" -> c.target = object ? ctxt.readValue(p, Target.class) : null;
                    case "alias" -> c.alias = object ? ctxt.readValue(p, Alias.class) : null;
                    case "address" -> c.address = object ? ctxt.readValue(p, Address.class) : null;
                    default -> p.skipChildren();
                }
            }
            return c;
        }

        private static String scalar(JsonParser p, JsonToken value) throws IOException {
            if (value.isScalarValue()) {
                return p.getText();
            }
            p.skipChildren();
            return null;
        }

        private static Integer integer(String s) {
            try {
                return s == null ? null : Integer.valueOf(s.trim());
            } catch (NumberFormatException e) {
                return null;
            }
        }
    }
}
