package io.virtfleet.reconcilers.manifest;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.deser.DeserializationProblemHandler;
import com.fasterxml.jackson.databind.deser.ValueInstantiator;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.virtfleet.api.v1alpha1.ApiGroup;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.reconcilers.validation.FieldError;
import io.virtfleet.reconcilers.validation.Text;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Reads VirtualMachines from YAML the way kubectl would send them, but reports every mapping problem as a field error
 * with its JSON path instead of stopping at the first exception. Only mapping is checked here; what the values mean
 * is the validator's business.
 */
public final class Manifests {
    public static final String KIND = "VirtualMachine";
    /** Larger input is refused before parsing; a VM manifest is a few KiB. */
    public static final int MAX_INPUT_CHARS = 4 * 1024 * 1024;

    private static final YAMLMapper YAML = YAMLMapper.builder(YAMLFactory.builder()
                    .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64).build())
                    .build())
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .build();

    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
            .build();

    private Manifests() {
    }

    /** Every non-empty document of a multi-document YAML stream, in order. Never throws for bad input. */
    public static List<ManifestDocument> parse(String yaml) {
        List<ManifestDocument> out = new ArrayList<>();
        if (yaml == null) {
            return out;
        }
        if (yaml.length() > MAX_INPUT_CHARS) {
            out.add(new ManifestDocument(1, null, null, List.of(new FieldError("",
                    "manifest too large (" + yaml.length() + " characters, at most " + MAX_INPUT_CHARS + ")"))));
            return out;
        }
        int index = 0;
        // One tree per YAML document. (MappingIterator would unwrap a top-level list into documents.)
        try (JsonParser p = YAML.createParser(yaml)) {
            while (true) {
                JsonNode node;
                try {
                    if (p.nextToken() == null) {
                        break;
                    }
                    node = YAML.readTree(p);
                } catch (IOException | RuntimeException e) {
                    // After a syntax error the stream position is unknown, so later documents cannot be trusted.
                    out.add(new ManifestDocument(index + 1, null, null, List.of(syntaxError(e))));
                    break;
                }
                if (node == null || node.isNull() || node.isMissingNode()
                        || (node.isTextual() && node.asText().isEmpty())) {
                    continue;
                }
                index++;
                out.add(document(index, node));
            }
        } catch (IOException | RuntimeException e) {
            out.add(new ManifestDocument(index + 1, null, null, List.of(syntaxError(e))));
        }
        return out;
    }

    private static FieldError syntaxError(Exception e) {
        String msg = e instanceof JsonProcessingException j ? j.getOriginalMessage() : String.valueOf(e.getMessage());
        String where = e instanceof JsonProcessingException j && j.getLocation() != null
                ? " at line " + j.getLocation().getLineNr() + ", column " + j.getLocation().getColumnNr() : "";
        return new FieldError("", "YAML syntax error" + where + ": " + firstLine(msg));
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    private static ManifestDocument document(int index, JsonNode node) {
        if (!(node instanceof ObjectNode obj)) {
            return new ManifestDocument(index, null, null,
                    List.of(new FieldError("", "a manifest document must be a mapping, not " + node.getNodeType())));
        }
        JsonNode kindNode = obj.get("kind");
        String kind = kindNode != null && kindNode.isTextual() ? kindNode.asText() : null;
        if (kind == null) {
            return new ManifestDocument(index, null, null, List.of(new FieldError("kind", "required")));
        }
        JsonNode apiVersionNode = obj.get("apiVersion");
        String apiVersion = apiVersionNode != null && apiVersionNode.isTextual() ? apiVersionNode.asText() : null;
        String group = apiVersion == null ? null : apiVersion.contains("/")
                ? apiVersion.substring(0, apiVersion.indexOf('/')) : "";
        // Another group's VirtualMachine (KubeVirt's, say) is someone else's document, not a mistake in ours.
        if (!kind.equals(KIND) || (group != null && !group.equals(ApiGroup.GROUP))) {
            return new ManifestDocument(index, kind, null, List.of());
        }
        if (apiVersion == null) {
            return new ManifestDocument(index, kind, null, List.of(new FieldError("apiVersion",
                    "required (" + ApiGroup.API_VERSION + ")")));
        }
        if (!apiVersion.equals(ApiGroup.API_VERSION)) {
            return new ManifestDocument(index, kind, null, List.of(new FieldError("apiVersion",
                    "unsupported version " + Text.quote(apiVersion) + " (expected " + ApiGroup.API_VERSION + ")")));
        }
        Collector collector = new Collector();
        VirtualMachine vm;
        try {
            vm = MAPPER.readerFor(VirtualMachine.class).withHandler(collector).readValue(obj);
        } catch (InvalidFormatException e) {
            // Coercion failures (1.5 for an integer) throw instead of reaching the handler; mapping stops here.
            collector.add(pathOf(e), "expected " + Collector.describe(e.getTargetType()) + ", got "
                    + (e.getValue() instanceof String str ? Text.quote(str) : String.valueOf(e.getValue())));
            vm = null;
        } catch (IOException | RuntimeException e) {
            collector.add(e instanceof JsonProcessingException j ? pathOf(j) : "",
                    e instanceof JsonProcessingException j ? firstLine(j.getOriginalMessage()) : String.valueOf(e));
            vm = null;
        }
        List<FieldError> errors = collector.errors;
        return new ManifestDocument(index, kind, errors.isEmpty() ? vm : null, errors);
    }

    private static String pathOf(JsonProcessingException e) {
        if (e instanceof com.fasterxml.jackson.databind.JsonMappingException m) {
            StringBuilder b = new StringBuilder();
            for (var ref : m.getPath()) {
                if (ref.getFieldName() != null) {
                    b.append(b.length() == 0 ? "" : ".").append(ref.getFieldName());
                } else if (ref.getIndex() >= 0) {
                    b.append('[').append(ref.getIndex()).append(']');
                }
            }
            return b.toString();
        }
        return "";
    }

    /** JSON path of the parser's current position: spec.disks[0].name. */
    static String path(JsonParser p) {
        JsonStreamContext c = p.getParsingContext();
        // On a START_ARRAY/START_OBJECT the parser is already inside the new container; the field is its parent's.
        return path(p.currentToken() != null && p.currentToken().isStructStart() && c.getParent() != null
                ? c.getParent() : c);
    }

    static String path(JsonStreamContext context) {
        List<String> parts = new ArrayList<>();
        for (JsonStreamContext c = context; c != null && !c.inRoot(); c = c.getParent()) {
            if (c.inArray()) {
                parts.add("[" + Math.max(c.getCurrentIndex(), 0) + "]");
            } else if (c.inObject() && c.getCurrentName() != null) {
                parts.add("." + c.getCurrentName());
            }
        }
        StringBuilder b = new StringBuilder();
        for (int i = parts.size() - 1; i >= 0; i--) {
            b.append(parts.get(i));
        }
        return b.length() > 0 && b.charAt(0) == '.' ? b.substring(1) : b.toString();
    }

    /** Turns each mapping problem into an error at its path and carries on, so one pass finds them all. */
    private static final class Collector extends DeserializationProblemHandler {
        final List<FieldError> errors = new ArrayList<>();

        void add(String path, String message) {
            errors.add(new FieldError(path, message));
        }

        @Override
        public boolean handleUnknownProperty(DeserializationContext ctxt, JsonParser p,
                                             JsonDeserializer<?> deserializer, Object beanOrClass,
                                             String propertyName) throws IOException {
            add(path(p), "unknown field");
            p.skipChildren();
            return true;
        }

        @Override
        public Object handleWeirdStringValue(DeserializationContext ctxt, Class<?> targetType, String value,
                                             String failureMsg) {
            add(path(ctxt.getParser()), targetType.isEnum()
                    ? "unknown value " + Text.quote(value) + ", expected one of " + enumValues(targetType)
                    : "expected " + describe(targetType) + ", got " + Text.quote(value));
            return null;
        }

        @Override
        public Object handleWeirdNumberValue(DeserializationContext ctxt, Class<?> targetType, Number value,
                                             String failureMsg) {
            add(path(ctxt.getParser()), targetType.isEnum()
                    ? "unknown value " + value + ", expected one of " + enumValues(targetType)
                    : "expected " + describe(targetType) + ", got " + value);
            return null;
        }

        @Override
        public Object handleUnexpectedToken(DeserializationContext ctxt, JavaType targetType, JsonToken t,
                                            JsonParser p, String failureMsg) throws IOException {
            add(path(p), "expected " + describe(targetType.getRawClass()) + ", got " + describe(t));
            p.skipChildren();
            return null;
        }

        @Override
        public Object handleMissingInstantiator(DeserializationContext ctxt, Class<?> instClass,
                                                ValueInstantiator valueInsta, JsonParser p, String msg)
                throws IOException {
            add(path(p), "expected " + describe(instClass) + ", got " + describe(p.currentToken()));
            p.skipChildren();
            return null;
        }

        /** Enums with a validating factory (Hypervisor.fromValue) report unknown values by throwing. */
        @Override
        public Object handleInstantiationProblem(DeserializationContext ctxt, Class<?> instClass, Object argument,
                                                 Throwable t) {
            String value = argument instanceof String s ? Text.quote(s) : String.valueOf(argument);
            add(path(ctxt.getParser()), instClass.isEnum()
                    ? "unknown value " + value + ", expected one of " + enumValues(instClass)
                    : "invalid value " + value + ": " + t.getMessage());
            return null;
        }

        private static String enumValues(Class<?> type) {
            return Stream.of(type.getEnumConstants()).map(Collector::jsonValue).collect(Collectors.joining(", "));
        }

        private static String jsonValue(Object constant) {
            try {
                JsonNode n = MAPPER.valueToTree(constant);
                return n.isTextual() ? n.asText() : n.toString();
            } catch (IllegalArgumentException e) {
                return constant.toString();
            }
        }

        private static String describe(Class<?> type) {
            if (Collection.class.isAssignableFrom(type) || type.isArray()) {
                return "a list";
            }
            if (type == String.class) {
                return "a string";
            }
            if (type == Integer.class || type == int.class || type == Long.class || type == long.class) {
                return "an integer";
            }
            if (type == Boolean.class || type == boolean.class) {
                return "true or false";
            }
            if (Number.class.isAssignableFrom(type)) {
                return "a number";
            }
            if (Map.class.isAssignableFrom(type) || !type.isPrimitive()) {
                return "an object";
            }
            return type.getSimpleName();
        }

        private static String describe(JsonToken t) {
            if (t == null) {
                return "nothing";
            }
            return switch (t) {
                case START_ARRAY -> "a list";
                case START_OBJECT -> "an object";
                case VALUE_STRING -> "a string";
                case VALUE_NUMBER_INT -> "an integer";
                case VALUE_NUMBER_FLOAT -> "a decimal number";
                case VALUE_TRUE, VALUE_FALSE -> "a boolean";
                case VALUE_NULL -> "null";
                default -> t.asString() != null ? t.asString() : t.name();
            };
        }
    }
}
