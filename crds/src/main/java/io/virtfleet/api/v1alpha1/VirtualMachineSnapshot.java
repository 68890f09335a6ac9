package io.virtfleet.api.v1alpha1;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Categories;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/** A point-in-time copy of a VM's disks (and memory state when it runs): a libvirt internal snapshot, taken by the VM's host's agent. Deleting it deletes the libvirt snapshot. */
@Group(ApiGroup.GROUP)
@Version(ApiGroup.VERSION)
@ShortNames("vfsnap")
@Categories("virtfleet")
@AdditionalPrinterColumn(name = "VM", jsonPath = ".spec.vmName", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Ready", jsonPath = ".status.readyToUse", type = AdditionalPrinterColumn.Type.BOOLEAN)
@AdditionalPrinterColumn(name = "Phase", jsonPath = ".status.phase", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
public class VirtualMachineSnapshot extends CustomResource<VirtualMachineSnapshotSpec, VirtualMachineSnapshotStatus> implements Namespaced {
    /** A request for a snapshot of VM {@code vmName} (same namespace), named {@code name}. */
    public static VirtualMachineSnapshot of(String namespace, String name, String vmName) {
        VirtualMachineSnapshot s = new VirtualMachineSnapshot();
        s.setMetadata(new ObjectMetaBuilder().withNamespace(namespace).withName(name).build());
        s.setSpec(new VirtualMachineSnapshotSpec());
        s.getSpec().vmName = vmName;
        return s;
    }
}
