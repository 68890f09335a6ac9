package io.virtfleet.reconcilers.render;

import io.virtfleet.api.v1alpha1.VirtualMachine;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.UUID;

/**
 * The SMBIOS UUID of a VM's domain: its stable identity, the key everything is looked up by (libvirt's ids change on
 * every start, names can be reused).
 */
public final class Identity {
    /** RFC 4122's namespace for domain names. */
    private static final UUID NAMESPACE_DNS = UUID.fromString("6ba7b810-9dad-11d1-80b4-00c04fd430c8");
    /** virtfleet's own namespace: the v5 UUID of the DNS name virtfleet.io. */
    static final UUID NAMESPACE_VIRTFLEET = nameBased(NAMESPACE_DNS, "virtfleet.io");

    private Identity() {
    }

    /**
     * spec.firmware.uuid if set, else a name-based (v5, SHA-1) UUID of "virtfleet.io/" + namespace + "/" + name + "/"
     * + metadata.uid. Deterministic. The uid makes a VM deleted and re-created under the same name a new machine.
     */
    public static String uuidFor(VirtualMachine vm) {
        var spec = vm.getSpec();
        if (spec != null && spec.firmware != null && spec.firmware.uuid != null) {
            return Guids.normalize(spec.firmware.uuid);
        }
        var meta = vm.getMetadata();
        String ns = meta == null || meta.getNamespace() == null ? "" : meta.getNamespace();
        String name = meta == null || meta.getName() == null ? "" : meta.getName();
        String uid = meta == null || meta.getUid() == null ? "" : meta.getUid();
        return nameBased(NAMESPACE_VIRTFLEET, "virtfleet.io/" + ns + "/" + name + "/" + uid).toString();
    }

    static UUID nameBased(UUID namespace, String name) {
        MessageDigest sha1;
        try {
            sha1 = MessageDigest.getInstance("SHA-1");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 is required of every Java platform", e);
        }
        sha1.update(ByteBuffer.allocate(16).putLong(namespace.getMostSignificantBits())
                .putLong(namespace.getLeastSignificantBits()).array());
        byte[] h = sha1.digest(name.getBytes(StandardCharsets.UTF_8));
        h[6] = (byte) ((h[6] & 0x0f) | 0x50);
        h[8] = (byte) ((h[8] & 0x3f) | 0x80);
        ByteBuffer b = ByteBuffer.wrap(h, 0, 16);
        return new UUID(b.getLong(), b.getLong());
    }
}
