package io.virtfleet.reconcilers.platform;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** Platform.isVersioned is written by hand for the renderer's speed; held here to the patterns it replaces. */
class PlatformTest {
    @Test
    void versionedMachinesAgreeWithThePatterns() {
        Random r = new Random(21);
        String alphabet = "09aZ._-/ +q";
        String[] starts = {"pc-q35-", "pc-i440fx-", "pc-q35", "pc-i440fx-7", "pc-", "q35-", ""};
        for (int i = 0; i < 200_000; i++) {
            StringBuilder b = new StringBuilder(starts[r.nextInt(starts.length)]);
            int n = r.nextInt(4) == 0 ? 60 + r.nextInt(8) : r.nextInt(6);
            for (int k = 0; k < n; k++) {
                b.append(alphabet.charAt(r.nextInt(alphabet.length())));
            }
            String s = b.toString();
            boolean mine = Platform.isVersioned(s, "pc-q35-") || Platform.isVersioned(s, "pc-i440fx-");
            assertThat(mine).as(s).isEqualTo(Platform.matchesVersionedPattern(s));
        }
        assertThat(Platform.isKnownQemuMachine("pc-q35-7.2")).isTrue();
        assertThat(Platform.isKnownQemuMachine("pc-i440fx-" + "1".repeat(63))).isTrue();
        assertThat(Platform.isKnownQemuMachine("pc-i440fx-" + "1".repeat(64))).isFalse();
    }
}
