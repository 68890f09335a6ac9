package io.virtfleet.reconcilers.domain.xml;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.dataformat.xml.annotation.JacksonXmlProperty;
import com.fasterxml.jackson.dataformat.xml.annotation.JacksonXmlRootElement;
import com.fasterxml.jackson.dataformat.xml.annotation.JacksonXmlText;
import io.virtfleet.api.v1alpha1.ApiGroup;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes the domain model as text ({@link DomainXmlCodec#write}): a parsed or built {@link DomainDef}, in the
 * format of {@link XmlBuffer} (the renderer itself writes a VirtualMachine straight to text with the same
 * primitives). The output is byte for byte what Jackson XML over Woodstox wrote for the same model with
 * {@code INDENT_OUTPUT} and non-null inclusion (the format {@link DomainXmlCodec} used to produce and libvirt has been
 * fed since): attributes in the model's {@code @JsonPropertyOrder}, empty elements as {@code <x/>}. One deliberate
 * difference: a {@code >} in text is always written {@code &gt;} (as libvirt's own formatter writes it); Woodstox
 * escaped it only where it might end a {@code ]]>}, depending on how its buffer was filled. {@code DomainXmlWriterTest}
 * holds the writer to Jackson's output on every example manifest, on libvirt's dumped XML and on fuzzed text.
 *
 * <p>The writer reads the model's shape from the annotations Jackson reads (see {@code package-info}): field order
 * from {@code @JsonPropertyOrder} (the rest in declaration order, a class's own fields before its superclass's), names
 * and namespaces from {@code @JacksonXmlProperty}, the element's text from {@code @JacksonXmlText}; a String, Integer
 * or Long field is an attribute unless {@code @JacksonXmlProperty} says otherwise ({@link ModelAnnotations}), a list
 * is one element per item, an {@link Empty} is {@code <x/>}. So a field added to the model is written without a change
 * here.
 */
public final class DomainXmlWriter {
    /** The prefix each namespace of the model is written with (virt-install's, libvirt keeps them). */
    private static final Map<String, String> PREFIXES = Map.of(Metadata.LIBOSINFO_NS, Metadata.LIBOSINFO_PREFIX,
            ApiGroup.LIBVIRT_METADATA_NS, ApiGroup.LIBVIRT_METADATA_PREFIX);
    private static final Set<Class<?>> SCALARS = Set.of(String.class, Integer.class, Long.class);
    private static final ClassValue<Shape> SHAPES = new ClassValue<>() {
        @Override
        protected Shape computeValue(Class<?> type) {
            return Shape.of(type);
        }
    };

    private final XmlBuffer out;

    private DomainXmlWriter(XmlBuffer out) {
        this.out = out;
    }

    /**
     * The document, indented, without an XML declaration, ending in a newline.
     *
     * @throws IllegalArgumentException when a value holds a character XML 1.0 cannot carry
     */
    public static String write(DomainDef d) {
        try (XmlBuffer out = XmlBuffer.start()) {
            new DomainXmlWriter(out).element(DomainDef.class.getAnnotation(JacksonXmlRootElement.class).localName(),
                    null, null, d);
            return out.finish();
        }
    }

    /** How one field is written. */
    private enum Kind { ATTRIBUTE, TEXT, SCALAR_ELEMENT, ELEMENT, LIST }

    /** One field: its XML name (local name, namespace or null) and how it is written. */
    private record Property(Field field, String name, String namespace, Kind kind) {
        Object get(Object owner) {
            try {
                return field.get(owner);
            } catch (IllegalAccessException e) {
                throw new IllegalStateException("model field " + field + " is not public", e);
            }
        }
    }

    /** A model class's properties in writing order: attributes, then the text or the child elements. */
    private record Shape(List<Property> attributes, Property text, List<Property> children) {
        static Shape of(Class<?> type) {
            List<Field> fields = new ArrayList<>();
            for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
                for (Field f : c.getDeclaredFields()) {
                    if (!Modifier.isStatic(f.getModifiers())) {
                        fields.add(f);
                    }
                }
            }
            JsonPropertyOrder order = type.getAnnotation(JsonPropertyOrder.class);
            List<String> listed = order == null ? List.of() : Arrays.asList(order.value());
            fields.sort((a, b) -> Integer.compare(rank(listed, a), rank(listed, b)));
            List<Property> attributes = new ArrayList<>();
            List<Property> children = new ArrayList<>();
            Property text = null;
            for (Field f : fields) {
                Property p = property(f);
                switch (p.kind()) {
                    case ATTRIBUTE -> attributes.add(p);
                    case TEXT -> text = p;
                    default -> children.add(p);
                }
            }
            return new Shape(List.copyOf(attributes), text, List.copyOf(children));
        }

        /** Position in {@code @JsonPropertyOrder} (by field name); unlisted fields after, in the order found. */
        private static int rank(List<String> listed, Field f) {
            int i = listed.indexOf(f.getName());
            return i < 0 ? listed.size() : i;
        }

        private static Property property(Field f) {
            JacksonXmlProperty xml = f.getAnnotation(JacksonXmlProperty.class);
            String name = xml != null && !xml.localName().isEmpty() ? xml.localName() : f.getName();
            String namespace = xml != null && !xml.namespace().isEmpty() ? xml.namespace() : null;
            Kind kind;
            if (f.isAnnotationPresent(JacksonXmlText.class)) {
                kind = Kind.TEXT;
            } else if (SCALARS.contains(f.getType())) {
                kind = xml == null || xml.isAttribute() ? Kind.ATTRIBUTE : Kind.SCALAR_ELEMENT;
            } else {
                kind = f.getType() == List.class ? Kind.LIST : Kind.ELEMENT;
            }
            return new Property(f, name, namespace, kind);
        }
    }

    /**
     * {@code <name …>} for a non-null value: its attributes, then its text or its child elements ({@code />} when it
     * has neither). A namespace other than the enclosing element's is declared on the element.
     */
    private void element(String name, String namespace, String enclosingNamespace, Object value) {
        if (value == null) {
            return;
        }
        String tag = namespace == null ? name : PREFIXES.get(namespace) + ":" + name;
        out.open(tag);
        if (namespace != null && !namespace.equals(enclosingNamespace)) {
            out.namespace(PREFIXES.get(namespace), namespace);
        }
        if (value instanceof Empty) {
            out.closeEmpty();
            return;
        }
        Shape shape = SHAPES.get(value.getClass());
        for (Property p : shape.attributes()) {
            out.attr(p.name(), string(p.get(value)));
        }
        if (shape.text() != null) {
            out.content(tag, string(shape.text().get(value)));
            return;
        }
        if (!hasChildren(shape, value)) {
            out.closeEmpty();
            return;
        }
        out.endStart();
        String scope = namespace != null ? namespace : enclosingNamespace;
        for (Property p : shape.children()) {
            Object child = p.get(value);
            switch (p.kind()) {
                case SCALAR_ELEMENT -> out.text(p.name(), string(child));
                case LIST -> {
                    for (Object item : list(child)) {
                        element(p.name(), p.namespace(), scope, item);
                    }
                }
                default -> element(p.name(), p.namespace(), scope, child);
            }
        }
        out.close(tag);
    }

    /** A child element is set, or a list holds an item (a null item writes nothing but still opens the element). */
    private static boolean hasChildren(Shape shape, Object value) {
        for (Property p : shape.children()) {
            Object child = p.get(value);
            if (p.kind() == Kind.LIST ? !list(child).isEmpty() : child != null) {
                return true;
            }
        }
        return false;
    }

    private static List<?> list(Object value) {
        return value == null ? List.of() : (List<?>) value;
    }

    private static String string(Object scalar) {
        return scalar == null ? null : scalar.toString();
    }
}
