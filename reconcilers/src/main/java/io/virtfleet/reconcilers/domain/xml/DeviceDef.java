package io.virtfleet.reconcilers.domain.xml;

/**
 * What every device element carries after its own children: the {@code <alias>} that names it and the
 * {@code <address>} libvirt placed it at (libvirt's virDomainDeviceInfoFormat writes both last, in this order). Both
 * are read back from libvirt's XML; rendering sets at most the alias.
 */
public abstract class DeviceDef implements Cloneable {
    public Alias alias;
    public Address address;

    /** A shallow copy: every field of {@code device} (nested elements shared), for a planner that changes one. */
    @SuppressWarnings("unchecked")
    public static <T extends DeviceDef> T copyOf(T device) {
        try {
            return (T) device.clone();
        } catch (CloneNotSupportedException e) {
            throw new AssertionError(e);
        }
    }
}
