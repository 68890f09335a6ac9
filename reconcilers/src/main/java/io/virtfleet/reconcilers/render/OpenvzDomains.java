package io.virtfleet.reconcilers.render;

import io.virtfleet.api.v1alpha1.VirtualMachineSpec;
import io.virtfleet.reconcilers.domain.xml.XmlBuffer;

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

    static void write(RenderInput in, XmlBuffer out) {
        Parts.head(in, out, "openvz", null);
        Parts.osType(out, null, null, "exe");
        out.text("init", "/sbin/init");
        out.close("os");
        out.open("devices");
        out.endStart();
        out.open("filesystem");
        out.attr("type", "template");
        out.endStart();
        out.emptyWith("source", "name", in.spec().os.template);
        out.emptyWith("target", "dir", "/");
        out.close("filesystem");
        for (VirtualMachineSpec.NetworkInterface n : in.interfaces()) {
            Parts.iface(out, n, null);
        }
        out.close("devices");
        out.close("domain");
    }
}
