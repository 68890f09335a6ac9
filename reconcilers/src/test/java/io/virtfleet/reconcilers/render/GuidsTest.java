package io.virtfleet.reconcilers.render;

import org.junit.jupiter.api.Test;

import java.util.Random;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/** Guids.isGuid is written by hand for the renderer's speed; held here to the pattern it replaces. */
class GuidsTest {
    @Test
    void isGuidAgreesWithThePattern() {
        Random r = new Random(11);
        String alphabet = "0aF9-gG ";
        for (int i = 0; i < 200_000; i++) {
            StringBuilder b = new StringBuilder(UUID.randomUUID().toString());
            if (r.nextInt(3) > 0) {
                b.setCharAt(r.nextInt(b.length()), alphabet.charAt(r.nextInt(alphabet.length())));
            }
            if (r.nextInt(10) == 0) {
                b.setLength(r.nextInt(b.length() + 1));
            }
            if (r.nextInt(10) == 0) {
                b.append('0');
            }
            String s = b.toString();
            assertThat(Guids.isGuid(s)).as(s).isEqualTo(Guids.matchesPattern(s));
        }
        assertThat(Guids.isGuid(null)).isFalse();
        assertThat(Guids.isGuid(Guids.NIL)).isTrue();
    }
}
