package io.virtfleet.agent.migration;

import io.virtfleet.reconcilers.domain.xml.DomainDocument;

import io.virtfleet.reconcilers.validation.DiskPaths;

import java.util.ArrayList;
import java.util.List;

/** The files a migrating domain's QEMU reopens on the target: disks (and their backing stores), kernel, initrd. */
final class MigrationFiles {
    private MigrationFiles() {
    }

    /** Those of {@code xml} under none of {@code roots} (empty: all on declared shared storage). */
    static List<String> notUnder(String xml, List<String> roots) {
        List<String> out = new ArrayList<>();
        try {
            for (DomainDocument.PathRef ref : DomainDocument.parse(xml).hostPaths()) {
                boolean needed = ref.where().startsWith("<disk") || ref.where().startsWith("<os>");
                if (needed && roots.stream().noneMatch(r -> DiskPaths.isUnder(ref.path(), r))) {
                    out.add(ref.path());
                }
            }
        } catch (DomainDocument.InvalidXmlException e) {
            out.add("(domain XML does not parse: " + e.getMessage() + ")");
        }
        return out;
    }
}
