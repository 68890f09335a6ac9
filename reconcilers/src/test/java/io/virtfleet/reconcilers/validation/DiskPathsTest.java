package io.virtfleet.reconcilers.validation;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class DiskPathsTest {
    @ParameterizedTest(name = "{0} under {1}: {2}")
    @CsvSource({
            "/var/lib/virtfleet/a.qcow2, /var/lib/virtfleet, true",
            "/var/lib/virtfleet/images/a.qcow2, /var/lib/virtfleet/, true",
            "/var/lib/virtfleetx/a.qcow2, /var/lib/virtfleet, false",
            "/var/lib/virtfleet, /var/lib/virtfleet, false",
            "/var/lib/virtfleet/a, /, true",
            "/var/lib/virtfleet/a, relative, false",
            "/var/lib/virtfleet/a, /var/lib/../lib/virtfleet, false"})
    void underARootAtASegmentBoundary(String path, String root, boolean under) {
        assertThat(DiskPaths.isUnder(path, root)).isEqualTo(under);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({
            "/var/lib/virtfleet/a.qcow2, ",
            "/var/lib/virtfleet/./a.qcow2, not normalized",
            "/var/lib/virtfleet/../a.qcow2, not normalized",
            "/var/lib/virtfleet//a.qcow2, not normalized",
            "/var/lib/virtfleet/dir/, not normalized",
            "var/lib/virtfleet/a.qcow2, not an absolute path",
            "/var/lib/virtfleet/..., ",
            "/etc/passwd, not under an allowed disk root"})
    void problems(String path, String problem) {
        String actual = DiskPaths.problem(path, List.of("/var/lib/virtfleet"));
        if (problem == null) {
            assertThat(actual).isNull();
        } else {
            assertThat(actual).contains(problem);
        }
    }
}
