package io.virtfleet.reconcilers.domain.xml;

import com.fasterxml.jackson.databind.cfg.MapperConfig;
import com.fasterxml.jackson.databind.introspect.Annotated;
import com.fasterxml.jackson.databind.introspect.AnnotatedField;
import com.fasterxml.jackson.dataformat.xml.JacksonXmlAnnotationIntrospector;
import com.fasterxml.jackson.dataformat.xml.annotation.JacksonXmlText;

import java.util.Set;

/**
 * Jackson XML's annotations with the domain model's one convention: libvirt writes a device's scalar settings as
 * attributes, so a String, Integer or Long field of a model class is an XML attribute unless it says otherwise
 * ({@code @JacksonXmlProperty} without {@code isAttribute = true}: a child element such as {@code <name>};
 * {@link JacksonXmlText}: the element's text). Every mapper of the model uses it: the codec's reader, the hot-plug
 * planner's device writer and the tests' reference writer.
 */
public final class ModelAnnotations extends JacksonXmlAnnotationIntrospector {
    private static final long serialVersionUID = 1L;
    private static final Set<Class<?>> SCALARS = Set.of(String.class, Integer.class, Long.class);

    @Override
    public Boolean isOutputAsAttribute(MapperConfig<?> config, Annotated ann) {
        Boolean declared = super.isOutputAsAttribute(config, ann);
        if (declared != null) {
            return declared;
        }
        if (ann instanceof AnnotatedField f && SCALARS.contains(f.getRawType()) && !f.hasAnnotation(JacksonXmlText.class)
                && f.getDeclaringClass().getPackageName().equals(ModelAnnotations.class.getPackageName())) {
            return Boolean.TRUE;
        }
        return null;
    }
}
