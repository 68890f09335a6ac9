package io.virtfleet.api.v1alpha1;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Categories;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/** A hypervisor host, registered and kept current by its node agent. Cluster-scoped. */
@Group(ApiGroup.GROUP)
@Version(ApiGroup.VERSION)
@ShortNames("vfhost")
@Categories("virtfleet")
@AdditionalPrinterColumn(name = "Drivers", jsonPath = ".status.availableDrivers", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "CPUs", jsonPath = ".status.cpus", type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "Memory", jsonPath = ".status.memory", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
public class Host extends CustomResource<HostSpec, HostStatus> {
}
