package io.virtfleet.reconcilers.render;

import java.nio.ByteBuffer;
import java.util.Objects;
import java.util.UUID;

/** Names of libvirt domains. */
public final class DomainNames {
    /**
     * OpenVZ container ids: vzctl reserves 0-100 (0 is the host itself), and the host-side interface
     * veth&lt;CTID&gt;.&lt;N&gt; must fit Linux's 15-character limit, which leaves 8 digits for the id.
     */
    public static final int OPENVZ_CTID_MIN = 1000;
    public static final int OPENVZ_CTID_MAX = 99_999_999;

    private DomainNames() {
    }

    /** libvirt domain name: prefix + namespace + "_" + name (k8s names never contain '_', so this is unambiguous). */
    public static String domainName(String prefix, String namespace, String name) {
        Objects.requireNonNull(namespace, "namespace");
        Objects.requireNonNull(name, "name");
        return (prefix == null ? "" : prefix) + namespace + "_" + name;
    }

    /**
     * The OpenVZ container id for a domain UUID. libvirt's OpenVZ driver uses the domain name as the container id
     * (vzctl create NAME, and names read back are the numeric ids), so an OpenVZ domain cannot be called
     * namespace_name. Derived from the UUID so it is stable across renders; two containers on one host collide with
     * probability about n^2/2e8, which the agent detects at define time and resolves with
     * {@link RenderOptions#openvzCtid()}.
     */
    public static int openvzCtid(String uuid) {
        UUID u = UUID.fromString(uuid);
        long bits = ByteBuffer.allocate(16).putLong(u.getMostSignificantBits()).putLong(u.getLeastSignificantBits())
                .flip().getLong(8);
        long span = (long) OPENVZ_CTID_MAX - OPENVZ_CTID_MIN + 1;
        return (int) (OPENVZ_CTID_MIN + Math.floorMod(bits, span));
    }
}
