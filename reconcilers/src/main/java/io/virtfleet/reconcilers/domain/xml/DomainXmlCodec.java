package io.virtfleet.reconcilers.domain.xml;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.type.LogicalType;
import com.fasterxml.jackson.dataformat.xml.XmlFactory;
import com.fasterxml.jackson.dataformat.xml.XmlMapper;
import io.virtfleet.reconcilers.mapping.SkippingProblemHandler;

import javax.xml.stream.XMLInputFactory;
import javax.xml.stream.XMLStreamException;
import javax.xml.transform.dom.DOMSource;
import java.io.IOException;

/** Writes rendered domains and reads libvirt's dumped domain XML. Thread-safe. */
public final class DomainXmlCodec {
    private static final XmlMapper READER = XmlMapper.builder(factory())
            .annotationIntrospector(new ModelAnnotations())
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            // libvirt sometimes repeats a child element's value as an attribute of the same name (graphics listen);
            // skipping values of an unexpected shape keeps the reader about what it models.
            .addHandler(new SkippingProblemHandler())
            // <genid/>, <readonly/>, <acpi/>: an empty element is a present, empty object, not an absent one.
            .withCoercionConfig(LogicalType.POJO,
                    c -> c.setCoercion(CoercionInputShape.EmptyString, CoercionAction.AsEmpty))
            // Jackson XML binds an unwrapped list from each run of same-named elements, and a later run replaced the
            // earlier one: <graphics/><video/><graphics/> kept only the second display. Merging appends every run
            // to the one list, in document order (libvirt accepts devices of one kind in any order).
            .withConfigOverride(java.util.List.class, o -> o.setMergeable(true))
            .build();

    /** Woodstox (Jackson XML's StAX implementation) reads a DOM tree as a stream; the JDK's factory does not. */
    private static final XMLInputFactory DOM_READER = new com.ctc.wstx.stax.WstxInputFactory();

    private DomainXmlCodec() {
    }

    private static XmlFactory factory() {
        XMLInputFactory in = XMLInputFactory.newFactory();
        in.setProperty(XMLInputFactory.SUPPORT_DTD, false);
        in.setProperty(XMLInputFactory.IS_SUPPORTING_EXTERNAL_ENTITIES, false);
        return XmlFactory.builder().xmlInputFactory(in).build();
    }

    /**
     * The document, indented, without an XML declaration, ending in a newline: {@link DomainXmlWriter}, which writes
     * the renderer's format ({@link XmlBuffer}) byte for byte as Jackson's XML writer did.
     *
     * @throws IllegalArgumentException when a value holds a character XML 1.0 cannot carry
     */
    public static String write(DomainDef domain) {
        return DomainXmlWriter.write(domain);
    }

    /**
     * Reads a domain as libvirt dumps it (virDomainGetXMLDesc). Unknown elements and attributes are ignored.
     *
     * @throws IllegalArgumentException when the text is not well-formed XML
     */
    public static DomainDef parse(String xml) {
        try {
            return DomainDocument.parse(xml).def();
        } catch (DomainDocument.InvalidXmlException e) {
            throw new IllegalArgumentException("not a libvirt domain XML document: " + e.getMessage(), e);
        }
    }

    /** The typed model of a parsed document: Jackson reads the DOM through a StAX view of it (no second parse). */
    static DomainDef bind(org.w3c.dom.Document doc) {
        try {
            javax.xml.stream.XMLStreamReader in = DOM_READER.createXMLStreamReader(new DOMSource(doc));
            try {
                return READER.readValue(in, DomainDef.class);
            } finally {
                in.close();
            }
        } catch (IOException | XMLStreamException e) {
            throw new IllegalArgumentException("not a libvirt domain XML document: " + e.getMessage(), e);
        }
    }
}
