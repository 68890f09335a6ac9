package io.virtfleet.reconcilers.schema;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.CelValidationException;
import dev.cel.common.types.SimpleType;
import dev.cel.compiler.CelCompiler;
import dev.cel.compiler.CelCompilerFactory;
import dev.cel.parser.CelStandardMacro;
import dev.cel.runtime.CelEvaluationException;
import dev.cel.runtime.CelRuntime;
import dev.cel.runtime.CelRuntimeFactory;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import io.virtfleet.api.v1alpha1.ApiGroup;
import io.virtfleet.reconcilers.validation.FieldError;
import io.virtfleet.reconcilers.validation.Text;

import java.lang.reflect.AnnotatedElement;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.PatternSyntaxException;

/**
 * The CRD schema's rules, checked offline on a typed object: the API types' fabric8 generator annotations
 * ({@code @Required}, {@code @Pattern}, {@code @Size}, {@code @Min}, {@code @Max}, {@code @ValidationRule}) are what
 * crd-generator turns into the CRD's openAPIV3Schema ({@code required}, {@code pattern}, {@code maxLength} /
 * {@code maxItems}, {@code minimum}, {@code maximum}, {@code x-kubernetes-validations}), so reading them here applies
 * the apiserver's rules without a second copy. CEL rules are evaluated with Google's CEL for Java; a transition rule
 * (one that uses {@code oldSelf}) is only evaluated by the apiserver on update, so it is skipped here as it is on
 * create.
 */
public final class SchemaRules {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Kubernetes' CEL environment has the standard macros (has, all, exists, exists_one, map, filter). */
    private static final CelCompiler CEL = CelCompilerFactory.standardCelCompilerBuilder()
            .setStandardMacros(CelStandardMacro.STANDARD_MACROS).addVar("self", SimpleType.DYN).build();
    private static final CelRuntime RUNTIME = CelRuntimeFactory.standardCelRuntimeBuilder().build();
    private static final Map<String, CelRuntime.Program> PROGRAMS = new ConcurrentHashMap<>();
    private static final String API_PACKAGE = ApiGroup.class.getPackageName();

    private SchemaRules() {
    }

    /** Every schema violation of {@code value} (a spec object of the API), field-named under {@code path}. */
    public static List<FieldError> check(Object value, String path) {
        List<FieldError> errors = new ArrayList<>();
        object(value, path, errors);
        return errors;
    }

    private static void object(Object value, String path, List<FieldError> errors) {
        if (value == null || !isApiType(value.getClass())) {
            return;
        }
        for (Field f : value.getClass().getFields()) {
            if (Modifier.isStatic(f.getModifiers())) {
                continue;
            }
            Object v;
            try {
                v = f.get(value);
            } catch (IllegalAccessException e) {
                continue;
            }
            String p = path + "." + jsonName(f);
            if (v == null) {
                if (f.isAnnotationPresent(Required.class)) {
                    errors.add(new FieldError(p, "required"));
                }
                continue;
            }
            field(f, v, p, errors);
        }
        rules(value.getClass(), value, path, errors);
    }

    private static void field(Field f, Object v, String p, List<FieldError> errors) {
        Size size = f.getAnnotation(Size.class);
        if (v instanceof String s) {
            Pattern pattern = f.getAnnotation(Pattern.class);
            if (pattern != null && !matches(pattern.value(), s)) {
                errors.add(new FieldError(p, patternMessage(pattern.value(), s)));
            }
            int length = s.codePointCount(0, s.length());
            if (size != null && length > size.max()) {
                errors.add(new FieldError(p, "at most " + size.max() + " characters (has " + length + ")"));
            } else if (size != null && length < size.min()) {
                errors.add(new FieldError(p, "at least " + size.min() + " characters"));
            }
        } else if (v instanceof Number n) {
            Min min = f.getAnnotation(Min.class);
            Max max = f.getAnnotation(Max.class);
            double d = n.doubleValue();
            if (min != null && (min.inclusive() ? d < min.value() : d <= min.value())) {
                errors.add(new FieldError(p, "must be " + (min.inclusive() ? "at least " : "more than ")
                        + number(min.value()) + " (is " + n + ")"));
            }
            if (max != null && (max.inclusive() ? d > max.value() : d >= max.value())) {
                errors.add(new FieldError(p, "must be " + (max.inclusive() ? "at most " : "less than ")
                        + number(max.value()) + " (is " + n + ")"));
            }
        } else if (v instanceof Collection<?> c) {
            if (size != null && c.size() > size.max()) {
                errors.add(new FieldError(p, "at most " + size.max() + " items (has " + c.size() + ")"));
            }
            int i = 0;
            for (Object item : c) {
                object(item, p + "[" + i++ + "]", errors);
            }
        } else {
            object(v, p, errors);
        }
        rules(f, v, p, errors);
    }

    /** The element's x-kubernetes-validations, with {@code self} = the value as the apiserver sees it (JSON). */
    private static void rules(AnnotatedElement element, Object value, String path, List<FieldError> errors) {
        ValidationRule[] rules = element.getAnnotationsByType(ValidationRule.class);
        if (rules.length == 0) {
            return;
        }
        Object self = celValue(JSON.valueToTree(value));
        for (ValidationRule rule : rules) {
            if (usesOldSelf(rule.value())) {
                continue;
            }
            Object result;
            try {
                result = program(rule.value()).eval(Map.of("self", self));
            } catch (CelEvaluationException e) {
                // The apiserver reports an evaluation error as a failed rule, too.
                result = false;
            }
            if (!Boolean.TRUE.equals(result)) {
                String message = rule.message().isEmpty() ? "failed rule: " + rule.value() : rule.message();
                errors.add(new FieldError(path + rule.fieldPath(), message));
            }
        }
    }

    /** Kubernetes: a rule that references oldSelf is a transition rule, evaluated only on update. */
    static boolean usesOldSelf(String rule) {
        return java.util.regex.Pattern.compile("\\boldSelf\\b").matcher(rule).find();
    }

    private static CelRuntime.Program program(String rule) {
        return PROGRAMS.computeIfAbsent(rule, r -> {
            try {
                CelAbstractSyntaxTree ast = CEL.compile(r).getAst();
                return RUNTIME.createProgram(ast);
            } catch (CelValidationException | CelEvaluationException e) {
                throw new IllegalStateException("the API types carry a CEL rule that does not compile: " + r, e);
            }
        });
    }

    /** JSON as CEL's runtime takes dynamic values: maps, lists, strings, longs, doubles, booleans. */
    private static Object celValue(JsonNode n) {
        if (n == null || n.isNull() || n.isMissingNode()) {
            return null;
        }
        if (n.isObject()) {
            Map<String, Object> m = new LinkedHashMap<>();
            n.fields().forEachRemaining(e -> {
                if (!e.getValue().isNull()) {
                    m.put(e.getKey(), celValue(e.getValue()));
                }
            });
            return m;
        }
        if (n.isArray()) {
            List<Object> l = new ArrayList<>();
            n.forEach(x -> l.add(celValue(x)));
            return l;
        }
        if (n.isBoolean()) {
            return n.booleanValue();
        }
        if (n.isIntegralNumber()) {
            return n.longValue();
        }
        if (n.isNumber()) {
            return n.doubleValue();
        }
        return n.asText();
    }

    private static boolean matches(String regex, String s) {
        try {
            // The schema's patterns are ECMA-262 as Kubernetes reads them (RE2 in practice); the API's patterns use
            // only the part of the syntax all three agree on, anchored with ^...$.
            return java.util.regex.Pattern.compile(regex).matcher(s).find();
        } catch (PatternSyntaxException e) {
            throw new IllegalStateException("the API types carry a pattern that does not compile: " + regex, e);
        }
    }

    private static String patternMessage(String regex, String value) {
        if (regex.equals(ApiGroup.OBJECT_NAME_PATTERN)) {
            return Text.quote(value) + " is not an object name (a DNS subdomain: lower-case letters, digits, '-' "
                    + "and '.', starting and ending with a letter or digit)";
        }
        return Text.quote(value) + " does not match the pattern " + regex;
    }

    private static String number(double d) {
        return d == Math.rint(d) ? String.valueOf((long) d) : String.valueOf(d);
    }

    private static String jsonName(Field f) {
        JsonProperty p = f.getAnnotation(JsonProperty.class);
        return p != null && !p.value().isEmpty() ? p.value() : f.getName();
    }

    private static boolean isApiType(Class<?> c) {
        return c.getPackageName().equals(API_PACKAGE) && !c.isEnum();
    }
}
