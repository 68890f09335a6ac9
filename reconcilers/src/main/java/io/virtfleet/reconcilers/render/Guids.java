package io.virtfleet.reconcilers.render;

import io.virtfleet.reconcilers.validation.HexSyntax;

import java.util.Locale;
import java.util.UUID;
import java.util.regex.Pattern;

/** GUID/UUID text in the canonical 8-4-4-4-12 form libvirt formats (libvirt formats a genid like a uuid). */
public final class Guids {
    public static final String NIL = "00000000-0000-0000-0000-000000000000";
    private static final Pattern GUID =
            Pattern.compile("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");

    private Guids() {
    }

    /**
     * The 8-4-4-4-12 hex form ({@link #GUID}), checked by hand: every render checks the uuid and genid, and the regex
     * match cost more than the rest of that check ({@code GuidsTest} holds the two to the same answers).
     */
    public static boolean isGuid(String s) {
        return HexSyntax.matches(s, 36, '-', i -> i == 8 || i == 13 || i == 18 || i == 23);
    }

    /** The pattern isGuid implements (for tests). */
    static boolean matchesPattern(String s) {
        return GUID.matcher(s).matches();
    }

    /** A random (version 4) GUID, the kind a new generation ID must be. */
    public static String newGuid() {
        return UUID.randomUUID().toString();
    }

    /** Lower case, as libvirt reports it, so desired and observed values compare equal. */
    public static String normalize(String guid) {
        return guid.toLowerCase(Locale.ROOT);
    }

    public static boolean isNil(String guid) {
        return NIL.equals(guid);
    }
}
