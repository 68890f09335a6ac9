package io.virtfleet.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/**
 * A live migration of this Domain's libvirt domain to another host, set by the operator for a
 * {@link VirtualMachineMigration} and driven by the agent of {@code spec.host} (the source). {@code spec.host} moves
 * to {@link #targetHost} only after libvirt reported the migration finished.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class DomainMigration {
    @JsonPropertyDescription("metadata.uid of the VirtualMachineMigration.")
    public String id;

    @JsonPropertyDescription("Name of the VirtualMachineMigration (same namespace), where the agent reports.")
    public String name;

    @JsonPropertyDescription("The host the domain moves to.")
    public String targetHost;

    @JsonPropertyDescription("How the source's libvirtd reaches the target's (the target Host's spec.migrationUri).")
    public String targetUri;

    @JsonPropertyDescription("The domain XML rendered for the target host: its libvirt name, ownership mark and "
            + "per-host paths are carried over into the destination XML (everything else is the running domain's).")
    public String targetDomainXml;

    @JsonPropertyDescription("True: abort the libvirt job (the VirtualMachineMigration is being deleted).")
    public Boolean cancel;
}
