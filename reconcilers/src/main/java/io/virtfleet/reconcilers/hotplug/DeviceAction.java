package io.virtfleet.reconcilers.hotplug;

/**
 * One step that makes a running domain's devices match its desired XML (libvirt's virDomainAttachDeviceFlags and
 * friends: one device, described by its own XML, identified by its target; the alias {@code ua-<name>} when
 * virtfleet put it there).
 *
 * <p>{@code key} names the device for logs and status: its alias, else {@code target:<dev>}, else {@code mac:<mac>}.
 */
public sealed interface DeviceAction {
    String KIND_DISK = "disk";
    String KIND_INTERFACE = "interface";

    /** The device's key (see above); null for {@link RestartRequired}. */
    String key();

    /** The single device's XML ({@code <disk>…</disk>} or {@code <interface>…</interface>}); null for RestartRequired. */
    String xml();

    /** True for actions the agent carries out live (everything except {@link RestartRequired}). */
    default boolean live() {
        return true;
    }

    /** Attach a disk described by {@code xml} (the desired one: no address, libvirt picks the slot). */
    record AttachDisk(String key, String alias, String target, String xml) implements DeviceAction {
    }

    /** Detach a disk virtfleet attached ({@code alias} starts with {@code ua-}); {@code xml} is the live device. */
    record DetachDisk(String key, String alias, String target, String xml) implements DeviceAction {
    }

    /** Attach an interface; {@code mac}/{@code target} may be null: libvirt allocates them (read back from live XML). */
    record AttachInterface(String key, String alias, String mac, String xml) implements DeviceAction {
    }

    /** Detach an interface virtfleet attached; {@code xml} is the live device (with its MAC). */
    record DetachInterface(String key, String alias, String mac, String target, String xml) implements DeviceAction {
    }

    /** Change (insert, eject, swap) a cdrom's media: {@code xml} is the desired drive with the live target. */
    record UpdateMedia(String key, String alias, String target, String source, String xml) implements DeviceAction {
    }

    /** Something that cannot change while the domain runs; the persistent config gets it at the next start. */
    record RestartRequired(String reason) implements DeviceAction {
        @Override
        public String key() {
            return null;
        }

        @Override
        public String xml() {
            return null;
        }

        @Override
        public boolean live() {
            return false;
        }
    }
}
