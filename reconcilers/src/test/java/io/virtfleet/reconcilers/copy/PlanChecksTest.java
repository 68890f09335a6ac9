package io.virtfleet.reconcilers.copy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

class PlanChecksTest {
    static final Map<String, String> PLAN = Map.of("/v/web.qcow2", "/v/web-2-root.qcow2");

    static Stream<Arguments> plans() {
        return Stream.of(
                Arguments.of("the operator's plan", "node-a", "node-a", "node-a", PLAN, List.of()),
                Arguments.of("status.host rewritten", "node-b", "node-a", "node-a", PLAN,
                        List.of("status.host: node-b is not the host the request was handed to (node-a)")),
                Arguments.of("no status.host", null, "node-a", "node-a", PLAN,
                        List.of("status.host: null is not the host the request was handed to")),
                Arguments.of("handed to a host that no longer runs the source", "node-a", "node-a", "node-b", PLAN,
                        List.of("status.host: node-a is not the host of the source (node-b)")),
                Arguments.of("a copy pointed at another tenant's disk", "node-a", "node-a", "node-a",
                        Map.of("/v/web.qcow2", "/v/other-tenant.qcow2"),
                        List.of("status.disks: {/v/web.qcow2=/v/other-tenant.qcow2} is not the operator's plan")),
                Arguments.of("no disks", "node-a", "node-a", "node-a", null,
                        List.of("status.disks: null is not the operator's plan")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("plans")
    void onlyTheOperatorsOwnPlanIsTrusted(String what, String statusHost, String label, String expectedHost,
                                          Map<String, String> disks, List<String> expected) {
        List<String> problems = PlanChecks.problems(statusHost, label, expectedHost, disks, PLAN);
        ClonePlansTest.assertPrefixes(problems, expected);
    }
}
