package io.virtfleet.reconcilers.validation;

import io.virtfleet.reconcilers.render.OsVariants;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;

class OsVariantsAndTextTest {
    @ParameterizedTest
    @CsvSource({
            "debian12, http://debian.org/debian/12",
            "ubuntu22.04, http://ubuntu.com/ubuntu/22.04",
            "fedora39, http://fedoraproject.org/fedora/39",
            "rhel9.2, http://redhat.com/rhel/9.2",
            "centos-stream9, http://centos.org/centos-stream/9",
            "rocky9, http://rockylinux.org/rocky/9",
            "almalinux9, http://almalinux.org/almalinux/9",
            "gentoo, http://gentoo.org/gentoo/rolling",
            "win11, http://microsoft.com/win/11",
            "http://gentoo.org/gentoo/rolling, http://gentoo.org/gentoo/rolling",
            "https://example.org/os/1, https://example.org/os/1",
            "debian, ",
            "plan9, ",
            "http://, ",
            "'http://x/<a>', "})
    void libosinfoIds(String variant, String id) {
        assertThat(OsVariants.resolve(variant)).isEqualTo(id);
    }

    @Test
    void quotingForMessagesEscapesAndShortens() {
        assertThat(Text.quote("a\"b\\c\nd")).isEqualTo("\"a\\\"b\\\\c\\u000ad\"");
        assertThat(Text.quote("x".repeat(100))).isEqualTo("\"" + "x".repeat(80) + "...\"");
    }

    @Test
    void textProblems() {
        assertThat(Text.problem("fine")).isNull();
        assertThat(Text.problem("tab\there")).contains("control character at position 3");
        assertThat(Text.problem("\ud800")).contains("unpaired surrogate");
        assertThat(Text.problem("\ud83d\ude00")).isNull();
        assertThat(Text.problem("x".repeat(Text.MAX_LENGTH))).isNull();
        assertThat(Text.problem("x".repeat(Text.MAX_LENGTH + 1))).startsWith("too long");
    }
}
