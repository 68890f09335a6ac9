package io.virtfleet.reconcilers.render;

import io.virtfleet.reconcilers.domain.xml.DomainDef;
import io.virtfleet.reconcilers.platform.Platform;
import io.virtfleet.reconcilers.validation.VirtualMachineValidator;

/** The generation ID element of a domain (libvirt's {@code <genid>}). */
final class Genids {
    private Genids() {
    }

    /**
     * null for no genid device; {@code <genid/>} to let libvirt generate one and keep it; {@code <genid>GUID</genid>}
     * for a given value. An override replaces auto and explicit values (the VM is re-executing something that already
     * ran), but never turns none into a genid. Platforms without the device (Xen, OpenVZ) get none; the validator has
     * already refused an explicit GUID there.
     */
    static DomainDef.Genid element(String specGenid, String override, Platform platform) {
        if (!platform.supportsGenid() || VirtualMachineValidator.GENID_NONE.equals(specGenid)) {
            return null;
        }
        if (override != null) {
            return new DomainDef.Genid(Guids.normalize(override));
        }
        if (specGenid == null || specGenid.equals(VirtualMachineValidator.GENID_AUTO)) {
            return new DomainDef.Genid(null);
        }
        return new DomainDef.Genid(Guids.normalize(specGenid));
    }
}
