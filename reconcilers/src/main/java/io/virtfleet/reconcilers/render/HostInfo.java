package io.virtfleet.reconcilers.render;

import io.virtfleet.api.v1alpha1.HostSpec;

import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * What rendering needs to know about the host a VM is placed on.
 *
 * @param name             the Host's name, recorded in the ownership mark
 * @param allowedDiskRoots directories disk images and kernels may live under
 * @param domainPrefix     prepended to every libvirt domain name (may be empty), so several agents can share a libvirtd
 * @param consoleLogDir    directory for serial console logs; null renders no {@code <log>}
 * @param emulator         QEMU binary for kvm/qemu domains; null means /usr/bin/qemu-system-x86_64
 * @param guestChannelDir  directory for the guest channel's unix socket; null renders no such channel
 */
public record HostInfo(String name, List<String> allowedDiskRoots, String domainPrefix, String consoleLogDir,
                       String emulator, String guestChannelDir) {
    /** Name of the virtio-serial port an in-guest helper listens on (the test guest's command channel). */
    public static final String GUEST_CHANNEL_NAME = "io.virtfleet.guest.0";
    /** Name of the virtio-serial port the guest's port-forward relay listens on (every kvm/qemu VM has it). */
    public static final String PORT_FORWARD_CHANNEL_NAME = "io.virtfleet.portforward.0";
    public static final String DEFAULT_EMULATOR = "/usr/bin/qemu-system-x86_64";
    // The prefix ends up in domain names and log file names, so it is restricted to characters safe in both.
    private static final Pattern PREFIX = Pattern.compile("[A-Za-z0-9._-]{0,64}");

    public HostInfo {
        Objects.requireNonNull(name, "name");
        allowedDiskRoots = allowedDiskRoots == null ? List.of() : List.copyOf(allowedDiskRoots);
        domainPrefix = domainPrefix == null ? "" : domainPrefix;
        if (!PREFIX.matcher(domainPrefix).matches()) {
            throw new IllegalArgumentException("domainPrefix " + domainPrefix + " may only contain letters, digits, "
                    + "'.', '_' and '-' (at most 64)");
        }
        if (consoleLogDir != null && !isAbsoluteDirectory(consoleLogDir)) {
            throw new IllegalArgumentException("consoleLogDir must be an absolute, normalized path: " + consoleLogDir);
        }
        if (guestChannelDir != null && !isAbsoluteDirectory(guestChannelDir)) {
            throw new IllegalArgumentException("guestChannelDir must be an absolute, normalized path: "
                    + guestChannelDir);
        }
        emulator = emulator == null ? DEFAULT_EMULATOR : emulator;
        if (!emulator.startsWith("/")) {
            throw new IllegalArgumentException("emulator must be an absolute path: " + emulator);
        }
    }

    public HostInfo(String name, List<String> allowedDiskRoots, String domainPrefix, String consoleLogDir,
                    String emulator) {
        this(name, allowedDiskRoots, domainPrefix, consoleLogDir, emulator, null);
    }

    /** A host with the agent's defaults: disks under /var/lib/virtfleet, no prefix, no console log. */
    public static HostInfo defaults(String name) {
        return new HostInfo(name, List.of(HostSpec.DEFAULT_ALLOWED_ROOT), "", null, DEFAULT_EMULATOR, null);
    }

    private static boolean isAbsoluteDirectory(String dir) {
        if (dir.equals("/")) {
            return true;
        }
        if (!dir.startsWith("/") || dir.endsWith("/")) {
            return false;
        }
        for (String s : dir.substring(1).split("/", -1)) {
            if (s.isEmpty() || s.equals(".") || s.equals("..") || s.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
                return false;
            }
        }
        return true;
    }
}
