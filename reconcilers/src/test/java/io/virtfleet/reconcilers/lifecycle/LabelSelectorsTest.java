package io.virtfleet.reconcilers.lifecycle;

import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirementBuilder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

class LabelSelectorsTest {
    record Case(String name, LabelSelector selector, Map<String, String> labels, boolean matches) {
        @Override
        public String toString() {
            return name;
        }
    }

    static LabelSelector expr(String key, String op, String... values) {
        return new LabelSelectorBuilder().withMatchExpressions(new LabelSelectorRequirementBuilder()
                .withKey(key).withOperator(op).withValues(values.length == 0 ? null : List.of(values)).build()).build();
    }

    static Stream<Case> cases() {
        Map<String, String> zoneA = Map.of("zone", "a", "disk", "ssd");
        return Stream.of(
                new Case("null selector matches all", null, zoneA, true),
                new Case("empty selector matches all", new LabelSelector(), Map.of(), true),
                new Case("matchLabels equal", new LabelSelectorBuilder().withMatchLabels(Map.of("zone", "a")).build(),
                        zoneA, true),
                new Case("matchLabels differ", new LabelSelectorBuilder().withMatchLabels(Map.of("zone", "b")).build(),
                        zoneA, false),
                new Case("matchLabels missing key", new LabelSelectorBuilder().withMatchLabels(Map.of("rack", "1"))
                        .build(), zoneA, false),
                new Case("In", expr("zone", "In", "a", "b"), zoneA, true),
                new Case("In without the key", expr("rack", "In", "1"), zoneA, false),
                new Case("NotIn", expr("zone", "NotIn", "b"), zoneA, true),
                new Case("NotIn excluded", expr("zone", "NotIn", "a"), zoneA, false),
                new Case("NotIn without the key", expr("rack", "NotIn", "1"), zoneA, true),
                new Case("Exists", expr("disk", "Exists"), zoneA, true),
                new Case("Exists missing", expr("gpu", "Exists"), zoneA, false),
                new Case("DoesNotExist", expr("gpu", "DoesNotExist"), zoneA, true),
                new Case("DoesNotExist present", expr("disk", "DoesNotExist"), zoneA, false),
                new Case("unknown operator never matches", expr("zone", "Gt", "1"), zoneA, false),
                new Case("labels and expressions both hold", new LabelSelectorBuilder()
                        .withMatchLabels(Map.of("zone", "a")).withMatchExpressions(new LabelSelectorRequirementBuilder()
                                .withKey("disk").withOperator("In").withValues("nvme").build()).build(), zoneA, false));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matches(Case c) {
        assertThat(LabelSelectors.matches(c.selector(), c.labels())).isEqualTo(c.matches());
    }

    @org.junit.jupiter.api.Test
    void describes() {
        LabelSelector s = new LabelSelectorBuilder().withMatchLabels(Map.of("zone", "a"))
                .withMatchExpressions(new LabelSelectorRequirementBuilder().withKey("disk").withOperator("In")
                        .withValues("ssd", "nvme").build()).build();
        assertThat(LabelSelectors.describe(s)).isEqualTo("zone=a,disk in (ssd,nvme)");
    }
}
