package io.virtfleet.reconcilers.validation;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The name, MAC and path checks are written by hand for the renderer's speed; here they are held to the regular
 * expressions and the split-based rule they replace, on fixed edge cases and on random strings over each syntax's
 * alphabet plus a few characters outside it.
 */
class HandWrittenSyntaxTest {
    private static final int RANDOM_CASES = 200_000;

    @ParameterizedTest
    @ValueSource(strings = {"", "a", "-", "a-", "-a", "a-b", "a--b", "A", "web-1", "0", "a.b", "a_b", "é"})
    void dnsLabelAndSubdomainEdges(String s) {
        assertThat(Names.isDnsLabel(s)).as(s).isEqualTo(Names.matchesPattern(s, false));
        assertThat(Names.isDnsSubdomain(s)).as(s).isEqualTo(Names.matchesPattern(s, true));
    }

    @ParameterizedTest
    @ValueSource(strings = {".", "a.", ".a", "a..b", "a.b.c", "a-.b", "a.-b", "x.y-z.0"})
    void subdomainDots(String s) {
        assertThat(Names.isDnsSubdomain(s)).as(s).isEqualTo(Names.matchesPattern(s, true));
    }

    @Test
    void namesAgreeWithTheirPatternsOnRandomStrings() {
        Random r = new Random(42);
        for (int i = 0; i < RANDOM_CASES; i++) {
            String s = random(r, "ab9-.A_", 1 + r.nextInt(12));
            assertThat(Names.isDnsLabel(s)).as(s).isEqualTo(Names.matchesPattern(s, false));
            assertThat(Names.isDnsSubdomain(s)).as(s).isEqualTo(Names.matchesPattern(s, true));
        }
    }

    @Test
    void macsAgreeWithTheirPatternOnRandomStrings() {
        Random r = new Random(7);
        for (int i = 0; i < RANDOM_CASES; i++) {
            // mostly well-formed shapes, with one character sometimes replaced
            StringBuilder b = new StringBuilder();
            for (int k = 0; k < 6; k++) {
                b.append(random(r, "0fFa9", 2));
                if (k < 5) {
                    b.append(':');
                }
            }
            if (r.nextBoolean()) {
                b.setCharAt(r.nextInt(b.length()), "g:-0A ".charAt(r.nextInt(6)));
            }
            if (r.nextInt(8) == 0) {
                b.setLength(r.nextInt(b.length() + 1));
            }
            String s = b.toString();
            assertThat(Macs.isSyntax(s)).as(s).isEqualTo(Macs.matchesPattern(s));
        }
    }

    @Test
    void normalizedPathsAgreeWithTheSplitRule() {
        Random r = new Random(3);
        for (int i = 0; i < RANDOM_CASES; i++) {
            String s = "/" + random(r, "a./", r.nextInt(10));
            assertThat(DiskPaths.isNormalized(s)).as(s).isEqualTo(splitRule(s));
        }
    }

    /** The rule as it was first written: every '/'-separated segment after the first '/' non-empty, not . or .. */
    private static boolean splitRule(String path) {
        if (path.equals("/")) {
            return true;
        }
        for (String s : path.substring(1).split("/", -1)) {
            if (s.isEmpty() || s.equals(".") || s.equals("..")) {
                return false;
            }
        }
        return true;
    }

    static String random(Random r, String alphabet, int length) {
        StringBuilder b = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            b.append(alphabet.charAt(r.nextInt(alphabet.length())));
        }
        return b.toString();
    }
}
