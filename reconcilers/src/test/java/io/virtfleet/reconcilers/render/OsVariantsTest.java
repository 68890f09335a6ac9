package io.virtfleet.reconcilers.render;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** OsVariants.isFullId is written by hand for the renderer's speed; held here to the pattern it replaces. */
class OsVariantsTest {
    @Test
    void fullIdsAgreeWithThePattern() {
        Random r = new Random(31);
        String alphabet = "aZ09.-_~+/:é <";
        String[] starts = {"http://", "https://", "http:/", "htt://", "http://gentoo.org/gentoo/rolling", ""};
        for (int i = 0; i < 200_000; i++) {
            StringBuilder b = new StringBuilder(starts[r.nextInt(starts.length)]);
            int n = r.nextInt(12);
            for (int k = 0; k < n; k++) {
                b.append(alphabet.charAt(r.nextInt(alphabet.length())));
            }
            String s = b.toString();
            assertThat(OsVariants.isFullId(s)).as(s).isEqualTo(OsVariants.matchesFullIdPattern(s));
        }
    }
}
