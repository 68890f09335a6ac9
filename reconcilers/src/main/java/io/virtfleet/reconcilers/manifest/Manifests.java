package io.virtfleet.reconcilers.manifest;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.virtfleet.api.v1alpha1.ApiGroup;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.Host;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.api.v1alpha1.VirtualMachineBackup;
import io.virtfleet.api.v1alpha1.VirtualMachineClone;
import io.virtfleet.api.v1alpha1.VirtualMachineFailover;
import io.virtfleet.api.v1alpha1.VirtualMachineMigration;
import io.virtfleet.api.v1alpha1.VirtualMachineRestore;
import io.virtfleet.api.v1alpha1.VirtualMachineSnapshot;
import io.virtfleet.reconcilers.mapping.SkippingProblemHandler;
import io.virtfleet.reconcilers.validation.FieldError;
import io.virtfleet.reconcilers.validation.Text;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Reads virtfleet objects (every kind of {@link #KINDS}) from YAML the way kubectl would send them, but reports every
 * mapping problem as a field error with its JSON path instead of stopping at the first exception. Documents of other
 * APIs are skipped with the reason; a kind or API group that is a near miss of virtfleet's is an error, since it is
 * far more likely a typo than someone else's API. Only mapping is checked here; what the values mean is
 * {@link KindRules}' business.
 */
public final class Manifests {
    public static final String KIND = "VirtualMachine";
    /**
     * Every kind virtfleet defines, by name. A new CRD's type belongs here ({@code ManifestsTest} fails while a
     * {@code crds/*.yaml} kind is missing), or {@code virtfleet validate} would call it a typo.
     */
    public static final Map<String, Class<? extends HasMetadata>> KINDS = kinds(VirtualMachine.class, Domain.class,
            Host.class, VirtualMachineSnapshot.class, VirtualMachineRestore.class, VirtualMachineClone.class,
            VirtualMachineBackup.class, VirtualMachineFailover.class, VirtualMachineMigration.class);
    /** A kind or group this close (edits) to one of virtfleet's is taken for a typo of it. */
    static final int TYPO_DISTANCE = 2;
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
            out.add(ManifestDocument.error(1, null, null, new FieldError("",
                    "manifest too large (" + yaml.length() + " characters, at most " + MAX_INPUT_CHARS + ")")));
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
                    out.add(ManifestDocument.error(index + 1, null, null, syntaxError(e)));
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
            out.add(ManifestDocument.error(index + 1, null, null, syntaxError(e)));
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
            return ManifestDocument.error(index, null, null,
                    new FieldError("", "a manifest document must be a mapping, not " + node.getNodeType()));
        }
        JsonNode kindNode = obj.get("kind");
        String kind = kindNode != null && kindNode.isTextual() ? kindNode.asText() : null;
        JsonNode nameNode = obj.path("metadata").get("name");
        String name = nameNode != null && nameNode.isTextual() ? nameNode.asText() : null;
        if (kind == null) {
            return ManifestDocument.error(index, null, name, new FieldError("kind", "required"));
        }
        JsonNode apiVersionNode = obj.get("apiVersion");
        String apiVersion = apiVersionNode != null && apiVersionNode.isTextual() ? apiVersionNode.asText() : null;
        String group = apiVersion == null ? null : apiVersion.contains("/")
                ? apiVersion.substring(0, apiVersion.indexOf('/')) : "";
        Class<? extends HasMetadata> type = KINDS.get(kind);
        boolean ours = ApiGroup.GROUP.equals(group);
        if (type == null) {
            String near = nearest(kind, KINDS.keySet());
            if (ours || (near != null && (group == null || nearGroup(group)))) {
                // In virtfleet's group every kind is ours; elsewhere only a near miss in kind and group is a typo.
                return ManifestDocument.error(index, kind, name, new FieldError("kind", "unknown kind "
                        + Text.quote(kind) + (ours ? " in " + ApiGroup.GROUP : "")
                        + (near != null ? " (did you mean " + near + "?)" : " (virtfleet's kinds: "
                        + String.join(", ", KINDS.keySet()) + ")")));
            }
            return new ManifestDocument(index, kind, name, null, List.of(), notOurs(kind, apiVersion));
        }
        if (group != null && !ours) {
            if (nearGroup(group)) {
                return ManifestDocument.error(index, kind, name, new FieldError("apiVersion", "unknown API group "
                        + Text.quote(group) + " (did you mean " + ApiGroup.API_VERSION + "?)"));
            }
            // Another group's VirtualMachine (KubeVirt's, say) is someone else's document, not a mistake in ours.
            return new ManifestDocument(index, kind, name, null, List.of(), notOurs(kind, apiVersion));
        }
        if (apiVersion == null) {
            return ManifestDocument.error(index, kind, name, new FieldError("apiVersion",
                    "required (" + ApiGroup.API_VERSION + ")"));
        }
        if (!apiVersion.equals(ApiGroup.API_VERSION)) {
            return ManifestDocument.error(index, kind, name, new FieldError("apiVersion",
                    "unsupported version " + Text.quote(apiVersion) + " (expected " + ApiGroup.API_VERSION + ")"));
        }
        Collector collector = new Collector();
        HasMetadata object;
        try {
            object = MAPPER.readerFor(type).withHandler(collector).readValue(obj);
        } catch (InvalidFormatException e) {
            // Coercion failures (1.5 for an integer) throw instead of reaching the handler; mapping stops here.
            collector.add(pathOf(e), "expected " + Collector.describe(e.getTargetType()) + ", got "
                    + (e.getValue() instanceof String str ? Text.quote(str) : String.valueOf(e.getValue())));
            object = null;
        } catch (IOException | RuntimeException e) {
            collector.add(e instanceof JsonProcessingException j ? pathOf(j) : "",
                    e instanceof JsonProcessingException j ? firstLine(j.getOriginalMessage()) : String.valueOf(e));
            object = null;
        }
        List<FieldError> errors = collector.errors;
        return new ManifestDocument(index, kind, name, errors.isEmpty() ? object : null, errors, null);
    }

    private static String notOurs(String kind, String apiVersion) {
        return apiVersion == null ? "no apiVersion, not a virtfleet object"
                : KINDS.containsKey(kind) ? apiVersion + " is not " + ApiGroup.API_VERSION + ", not a virtfleet object"
                : "not a virtfleet object";
    }

    private static boolean nearGroup(String group) {
        return distance(group.toLowerCase(Locale.ROOT), ApiGroup.GROUP) <= TYPO_DISTANCE;
    }

    /** The candidate within {@link #TYPO_DISTANCE} edits of {@code s} (case ignored), or null. */
    static String nearest(String s, Collection<String> candidates) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String c : candidates) {
            int d = distance(s.toLowerCase(Locale.ROOT), c.toLowerCase(Locale.ROOT));
            if (d < bestDistance) {
                best = c;
                bestDistance = d;
            }
        }
        return bestDistance <= TYPO_DISTANCE ? best : null;
    }

    /** Levenshtein distance (insertions, deletions, substitutions). */
    static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                cur[j] = Math.min(sub, Math.min(prev[j], cur[j - 1]) + 1);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    @SafeVarargs
    private static Map<String, Class<? extends HasMetadata>> kinds(Class<? extends HasMetadata>... types) {
        Map<String, Class<? extends HasMetadata>> m = new LinkedHashMap<>();
        for (Class<? extends HasMetadata> t : types) {
            m.put(HasMetadata.getKind(t), t);
        }
        return java.util.Collections.unmodifiableMap(m);
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
    private static final class Collector extends SkippingProblemHandler {
        final List<FieldError> errors = new ArrayList<>();

        void add(String path, String message) {
            errors.add(new FieldError(path, message));
        }

        @Override
        protected void unknownField(JsonParser p) {
            add(path(p), "unknown field");
        }

        @Override
        protected void unconvertible(JsonParser p, Class<?> type, Object value) {
            String shown = value instanceof String s ? Text.quote(s) : String.valueOf(value);
            add(path(p), type.isEnum() ? "unknown value " + shown + ", expected one of " + enumValues(type)
                    : "expected " + describe(type) + ", got " + shown);
        }

        @Override
        protected void wrongShape(JsonParser p, Class<?> expected, JsonToken got) {
            add(path(p), "expected " + describe(expected) + ", got " + describe(got));
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
