package io.virtfleet.reconcilers.render;

import io.virtfleet.api.v1alpha1.VirtualMachineSpec;
import io.virtfleet.reconcilers.domain.xml.Devices;
import io.virtfleet.reconcilers.domain.xml.DomainDef;
import io.virtfleet.reconcilers.domain.xml.FilesystemDef;
import io.virtfleet.reconcilers.domain.xml.OsDef;

/**
 * OpenVZ containers, as libvirt's openvz driver reads them: the OS template is the root filesystem, the
 * container runs the template's init, and everything is in the XML rather than in host-side profiles.
 *
 * <p>No {@code id} attribute is rendered although the container id (vpsid) is the domain id: an id in a definition is
 * ignored by libvirt, which reports -1 while the container is stopped and the vpsid while it runs. The
 * vpsid itself travels as the domain name, because the openvz driver creates the container under its domain name and
 * names every container it lists by its numeric id.
 *
 * <p>The driver does not store the XML: what it reports back is rebuilt from vzctl's configuration (UUID, vCPUs,
 * network, template). The ownership mark in the metadata and the device aliases are therefore not returned by a
 * dump; on OpenVZ a domain is recognised by its UUID and NICs by their MAC addresses.
 */
final class OpenvzDomains {
    private OpenvzDomains() {
    }

    static DomainDef build(RenderInput in) {
        VirtualMachineSpec s = in.spec();
        DomainDef d = Parts.base(in, "openvz", null);
        OsDef os = new OsDef();
        os.type = new OsDef.OsType(null, null, "exe");
        os.init = "/sbin/init";
        d.os = os;
        Devices dev = new Devices();
        FilesystemDef root = new FilesystemDef();
        root.type = "template";
        root.source = new FilesystemDef.Source();
        root.source.name = s.os.template;
        root.target = new FilesystemDef.Target("/");
        dev.filesystems.add(root);
        for (VirtualMachineSpec.NetworkInterface n : in.interfaces()) {
            dev.interfaces.add(Parts.iface(n, null));
        }
        d.devices = dev;
        return d;
    }
}
