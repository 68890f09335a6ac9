package io.virtfleet.api.v1alpha1;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Categories;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/** A request to copy a VM into a new one: new name, UUID, MACs and generation ID, copied disks; the source is untouched. */
@Group(ApiGroup.GROUP)
@Version(ApiGroup.VERSION)
@ShortNames("vfclone")
@Categories("virtfleet")
@AdditionalPrinterColumn(name = "Source", jsonPath = ".spec.source", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Target", jsonPath = ".spec.target", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Phase", jsonPath = ".status.phase", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
public class VirtualMachineClone extends CustomResource<VirtualMachineCloneSpec, VirtualMachineCloneStatus> implements Namespaced {
    /** A request to clone VM {@code source} into a new VM {@code target} (same namespace), named {@code name}. */
    public static VirtualMachineClone of(String namespace, String name, String source, String target) {
        VirtualMachineClone c = new VirtualMachineClone();
        c.setMetadata(new ObjectMetaBuilder().withNamespace(namespace).withName(name).build());
        c.setSpec(new VirtualMachineCloneSpec());
        c.getSpec().source = source;
        c.getSpec().target = target;
        return c;
    }
}
