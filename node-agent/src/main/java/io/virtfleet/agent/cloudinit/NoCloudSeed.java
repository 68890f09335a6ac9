package io.virtfleet.agent.cloudinit;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The files of a NoCloud seed, as cloud-init's NoCloud documentation names them: {@code meta-data},
 * {@code user-data}, and {@code network-config} when there is network configuration, on a filesystem labelled
 * {@code cidata}.
 *
 * <p>{@code instance-id} is the VM's instance identity, not its generation: cloud-init runs its per-instance modules
 * again exactly when it changes. virtfleet passes the VM's SMBIOS UUID, which a clone or a VM restored from a backup
 * under a new name does not share, and which a snapshot revert or a failover keeps (a new genid, the same instance).
 */
public final class NoCloudSeed {
    public static final String LABEL = "cidata";
    /** meta-data is YAML; only these characters go in unquoted, so no value can add a key. */
    private static final Pattern PLAIN = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,252}");

    private NoCloudSeed() {
    }

    /**
     * File name to content, in the order they are written.
     *
     * @param instanceId  the VM's instance identity (its SMBIOS UUID)
     * @param hostname    local-hostname (the VM's name; user data may set another)
     * @param userData    user data, or null for an empty file (cloud-init requires the file)
     * @param networkData network configuration, or null for none
     * @throws IllegalArgumentException when instanceId or hostname is not a plain token
     */
    public static Map<String, byte[]> files(String instanceId, String hostname, String userData, String networkData) {
        if (instanceId == null || !PLAIN.matcher(instanceId).matches()) {
            throw new IllegalArgumentException("instance-id " + instanceId + " is not a plain token");
        }
        if (hostname == null || !PLAIN.matcher(hostname).matches()) {
            throw new IllegalArgumentException("local-hostname " + hostname + " is not a plain token");
        }
        Map<String, byte[]> out = new LinkedHashMap<>();
        out.put("meta-data", ("instance-id: " + instanceId + "\nlocal-hostname: " + hostname + "\n")
                .getBytes(StandardCharsets.UTF_8));
        out.put("user-data", (userData == null ? "" : userData).getBytes(StandardCharsets.UTF_8));
        if (networkData != null) {
            out.put("network-config", networkData.getBytes(StandardCharsets.UTF_8));
        }
        return out;
    }
}
