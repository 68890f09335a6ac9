package io.virtfleet.agent.image;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

class BackingFilesTest {
    static final String CACHE = "/var/lib/virtfleet/image-cache";
    static final String SHA = "ab".repeat(32);

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', nullValues = "-", value = {
            "no backing file              | -                                                     | -",
            "a cached qcow2 base          | /var/lib/virtfleet/image-cache/SHA.qcow2            | -",
            "/etc/shadow                  | /etc/shadow                                           | outside",
            "relative                     | base.qcow2                                            | relative",
            "a sibling of the cache       | /var/lib/virtfleet/image-cachex/SHA.qcow2             | outside",
            "a file below the cache       | /var/lib/virtfleet/image-cache/.partial/SHA.qcow2     | outside",
            "dot-dot out of the cache     | /var/lib/virtfleet/image-cache/../../../etc/shadow    | outside",
            "not named after a checksum   | /var/lib/virtfleet/image-cache/debian.qcow2           | outside",
            "upper-case checksum          | /var/lib/virtfleet/image-cache/UPPER.qcow2            | outside",
    })
    void onlyBasesInTheImageCacheAreSafe(String rule, String backing, String problem) {
        String b = backing == null ? null : backing.replace("SHA", SHA)
                .replace("UPPER", SHA.toUpperCase());
        String p = BackingFiles.problem("/var/lib/virtfleet/images/vm.qcow2", Optional.ofNullable(b), CACHE);
        if (problem == null) {
            assertThat(p).as(rule).isNull();
        } else {
            assertThat(p).as(rule).contains(problem).contains("/var/lib/virtfleet/images/vm.qcow2");
        }
    }
}
