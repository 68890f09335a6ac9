package io.virtfleet.reconcilers.render;

import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.reconcilers.domain.xml.XmlBuffer;
import io.virtfleet.reconcilers.platform.Platform;
import io.virtfleet.reconcilers.validation.FieldError;
import io.virtfleet.reconcilers.validation.ValidationContext;
import io.virtfleet.reconcilers.validation.VirtualMachineValidator;

import java.util.List;
import java.util.Objects;

/**
 * VirtualMachine + host → libvirt domain XML, written straight from the spec into one buffer, one function per
 * element ({@link QemuDomains}, {@link XenDomains}, {@link OpenvzDomains}, {@link Parts}): the operator renders
 * every VM on every reconcile, and building the {@code DomainDef} model first and writing it after was most of a
 * render. The text is the format of {@link XmlBuffer}; the {@code DomainDef} model is what the XML parses back to.
 */
public final class DomainRenderer {
    /** A VM without a namespace is rendered as kubectl would create it without -n. */
    public static final String DEFAULT_NAMESPACE = "default";

    private DomainRenderer() {
    }

    /**
     * Renders the domain for {@code vm} on {@code host}. The VM is validated first against the host's disk roots.
     *
     * @throws InvalidVirtualMachineException when the VM is invalid (the validator's errors)
     * @throws IllegalArgumentException       when the options are (a missing or malformed uuid or genid, or a uuid
     *                                        that contradicts spec.firmware.uuid)
     */
    public static DomainXml render(VirtualMachine vm, HostInfo host, RenderOptions opts) {
        RenderInput in = input(vm, host, opts);
        try (XmlBuffer out = XmlBuffer.start()) {
            switch (in.platform().family()) {
                case Q35, I440FX -> QemuDomains.write(in, out);
                case XEN_HVM, XEN_PV -> XenDomains.write(in, out);
                case OPENVZ -> OpenvzDomains.write(in, out);
            }
            return new DomainXml(in.domainName(), in.uuid(), out.finish());
        }
    }

    /** The checks of {@link #render} and everything resolved that the per-hypervisor writers need. */
    static RenderInput input(VirtualMachine vm, HostInfo host, RenderOptions opts) {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(opts, "opts");
        List<FieldError> errors = VirtualMachineValidator.validate(vm, new ValidationContext(host.allowedDiskRoots()));
        if (!errors.isEmpty()) {
            throw new InvalidVirtualMachineException(errors);
        }
        if (!Guids.isGuid(opts.uuid())) {
            throw new IllegalArgumentException("RenderOptions.uuid must be a UUID, got " + opts.uuid());
        }
        String uuid = Guids.normalize(opts.uuid());
        var firmware = vm.getSpec().firmware;
        if (firmware != null && firmware.uuid != null && !Guids.normalize(firmware.uuid).equals(uuid)) {
            throw new IllegalArgumentException("RenderOptions.uuid " + uuid + " contradicts spec.firmware.uuid "
                    + firmware.uuid);
        }
        if (opts.genid() != null && (!Guids.isGuid(opts.genid()) || Guids.isNil(Guids.normalize(opts.genid())))) {
            throw new IllegalArgumentException("RenderOptions.genid must be a non-nil GUID, got " + opts.genid());
        }
        Platform platform = Platform.of(vm.getSpec());
        String namespace = vm.getMetadata().getNamespace() != null ? vm.getMetadata().getNamespace()
                : DEFAULT_NAMESPACE;
        String name = platform.family() == Platform.Family.OPENVZ
                ? Integer.toString(ctid(opts, uuid))
                : DomainNames.domainName(host.domainPrefix(), namespace, vm.getMetadata().getName());
        return new RenderInput(vm, namespace, platform, host, name, uuid, opts.genid());
    }

    private static int ctid(RenderOptions opts, String uuid) {
        Integer ctid = opts.openvzCtid();
        if (ctid == null) {
            return DomainNames.openvzCtid(uuid);
        }
        if (ctid < DomainNames.OPENVZ_CTID_MIN || ctid > DomainNames.OPENVZ_CTID_MAX) {
            throw new IllegalArgumentException("RenderOptions.openvzCtid must be in " + DomainNames.OPENVZ_CTID_MIN
                    + ".." + DomainNames.OPENVZ_CTID_MAX + ", got " + ctid);
        }
        return ctid;
    }
}
