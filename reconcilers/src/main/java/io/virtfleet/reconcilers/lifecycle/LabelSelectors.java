package io.virtfleet.reconcilers.lifecycle;

import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;

import java.util.List;
import java.util.Map;

/** Kubernetes LabelSelector semantics: every matchLabels pair and every matchExpressions requirement must hold. */
public final class LabelSelectors {
    private LabelSelectors() {
    }

    /** True when {@code labels} satisfy {@code selector}; a null or empty selector matches everything. */
    public static boolean matches(LabelSelector selector, Map<String, String> labels) {
        if (selector == null) {
            return true;
        }
        Map<String, String> l = labels == null ? Map.of() : labels;
        if (selector.getMatchLabels() != null) {
            for (Map.Entry<String, String> e : selector.getMatchLabels().entrySet()) {
                if (!l.containsKey(e.getKey()) || !java.util.Objects.equals(l.get(e.getKey()), e.getValue())) {
                    return false;
                }
            }
        }
        if (selector.getMatchExpressions() != null) {
            for (LabelSelectorRequirement r : selector.getMatchExpressions()) {
                if (!matches(r, l)) {
                    return false;
                }
            }
        }
        return true;
    }

    /** One requirement; an unknown operator never matches (the validator reports it). */
    public static boolean matches(LabelSelectorRequirement r, Map<String, String> labels) {
        if (r == null || r.getKey() == null || r.getOperator() == null) {
            return false;
        }
        List<String> values = r.getValues() == null ? List.of() : r.getValues();
        boolean has = labels.containsKey(r.getKey());
        String value = labels.get(r.getKey());
        return switch (r.getOperator()) {
            case "In" -> has && values.contains(value);
            case "NotIn" -> !has || !values.contains(value);
            case "Exists" -> has;
            case "DoesNotExist" -> !has;
            default -> false;
        };
    }

    /** A short human rendering, e.g. {@code zone=a,disk in (ssd,nvme)}. */
    public static String describe(LabelSelector selector) {
        if (selector == null) {
            return "";
        }
        StringBuilder sb = new StringBuilder();
        if (selector.getMatchLabels() != null) {
            selector.getMatchLabels().entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> {
                if (sb.length() > 0) {
                    sb.append(',');
                }
                sb.append(e.getKey()).append('=').append(e.getValue());
            });
        }
        if (selector.getMatchExpressions() != null) {
            for (LabelSelectorRequirement r : selector.getMatchExpressions()) {
                if (sb.length() > 0) {
                    sb.append(',');
                }
                String op = r.getOperator() == null ? "?" : r.getOperator();
                switch (op) {
                    case "Exists" -> sb.append(r.getKey());
                    case "DoesNotExist" -> sb.append('!').append(r.getKey());
                    default -> sb.append(r.getKey()).append(' ').append(op.equals("In") ? "in" : op.equals("NotIn")
                            ? "notin" : op).append(" (").append(String.join(",",
                            r.getValues() == null ? List.of() : r.getValues())).append(')');
                }
            }
        }
        return sb.toString();
    }
}
