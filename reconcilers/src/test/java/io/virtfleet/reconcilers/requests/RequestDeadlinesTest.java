package io.virtfleet.reconcilers.requests;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.time.Instant;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RequestDeadlinesTest {
    static final Instant CREATED = Instant.parse("2026-12-01T10:00:00Z");
    static final RequestDeadlines.Limits LIMITS = new RequestDeadlines.Limits(Duration.ofMinutes(10),
            Duration.ofMinutes(60));

    static Stream<Arguments> cases() {
        return Stream.of(
                // phase, host, minutes after creation, expired?, message part
                Arguments.of(null, null, 9, false, null),
                Arguments.of(null, null, 10, true, "still not handled 10m after it was created (no host took it)"),
                Arguments.of("Pending", "node-a", 11, true,
                        "still Pending 10m after it was created (the agent of host node-a did not finish it)"),
                Arguments.of("CopyingDisks", "node-a", 11, false, null),
                Arguments.of("CopyingDisks", "node-a", 60, true, "still CopyingDisks 1h after it was created"),
                Arguments.of("InProgress", "node-a", 59, false, null),
                Arguments.of("DisksReady", "node-a", 61, true, "still DisksReady 1h"));
    }

    @ParameterizedTest(name = "{0} after {2} min -> expired {3}")
    @MethodSource("cases")
    void eachPhaseHasADeadline(String phase, String host, int minutes, boolean expired, String message) {
        RequestDeadlines.Verdict v = RequestDeadlines.check("VirtualMachineClone", phase, host,
                "the planned copies (status.disks)", CREATED, CREATED.plus(Duration.ofMinutes(minutes)), LIMITS);
        assertThat(v.isExpired()).isEqualTo(expired);
        if (expired) {
            assertThat(v.expired()).startsWith("deadline exceeded: ").contains(message)
                    .endsWith("the VirtualMachineClone was given up, the planned copies (status.disks) left as it was");
            assertThat(v.recheckAfter()).isNull();
        } else {
            assertThat(v.recheckAfter()).isPositive();
        }
    }

    @Test
    void finishedRequestsHaveNone() {
        Instant late = CREATED.plus(Duration.ofDays(1));
        assertThat(RequestDeadlines.check("VirtualMachineBackup", "Succeeded", "h", null, CREATED, late, LIMITS))
                .isNull();
        assertThat(RequestDeadlines.check("VirtualMachineBackup", "Failed", "h", null, CREATED, late, LIMITS))
                .isNull();
        assertThat(RequestDeadlines.check("VirtualMachineBackup", null, "h", null, null, late, LIMITS)).isNull();
    }

    @Test
    void theRecheckIsAtTheDeadline() {
        RequestDeadlines.Verdict v = RequestDeadlines.check("VirtualMachineSnapshot", "Pending", "h", null, CREATED,
                CREATED.plus(Duration.ofMinutes(4)), LIMITS);
        assertThat(v.recheckAfter()).isEqualTo(Duration.ofMinutes(6).plusSeconds(1));
    }

    @Test
    void limitsMustBePositive() {
        assertThatThrownBy(() -> new RequestDeadlines.Limits(Duration.ZERO, Duration.ofMinutes(1)))
                .hasMessageContaining("positive");
    }
}
