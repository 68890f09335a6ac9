package io.virtfleet.agent.image;

import io.virtfleet.agent.libvirt.InspectedDomain;
import io.virtfleet.reconcilers.domain.xml.DomainDocument;
import io.virtfleet.reconcilers.validation.DiskPaths;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which cached bases the libvirt domains of a host read: a base is in use when it is a disk's source or anywhere in a
 * disk's backing chain. libvirt reports the chain of a running domain's disks as nested {@code <backingStore>}
 * elements of its live XML; a defined but inactive domain's persistent XML has none (libvirt probes the chain only
 * when the domain starts), so the qcow2 headers of its disks are read too ({@code qemu-img info -U}), each link in
 * turn, up to {@link #MAX_DEPTH} links. Every domain on the connection counts, whoever made it.
 */
public final class BackingChains {
    /** Links followed per disk (an overlay, snapshot overlays on it, the base): far above a real chain. */
    public static final int MAX_DEPTH = 16;

    /** Reads the backing file a qcow2 header names ({@code qemu-img info}). */
    public interface Headers {
        Optional<String> backingFile(String qcow2) throws IOException;
    }

    private BackingChains() {
    }

    /** Headers read with the host's qemu-img. */
    public static Headers qemuImg(Duration timeout) {
        QemuImg q = new QemuImg(timeout);
        return f -> q.backingFile(f, "qcow2");
    }

    /** The base names under {@code cacheRoot} that any of the domains reads (live and persistent definitions). */
    public static Set<String> basesUsedBy(List<InspectedDomain> domains, String cacheRoot, Headers headers)
            throws IOException {
        Set<String> out = new TreeSet<>();
        for (InspectedDomain d : domains) {
            for (DomainDocument doc : new DomainDocument[] {d.live(), d.inactive()}) {
                if (doc != null) {
                    out.addAll(basesIn(doc, cacheRoot, headers));
                }
            }
        }
        return out;
    }

    /** The bases one domain definition reads: from its XML, then from its qcow2 disks' headers. */
    static Set<String> basesIn(DomainDocument doc, String cacheRoot, Headers headers) throws IOException {
        Set<String> out = new TreeSet<>();
        List<String> paths = new ArrayList<>();
        for (DomainDocument.PathRef p : doc.hostPaths()) {
            paths.add(p.path());
        }
        for (String qcow2 : doc.qcow2DiskFiles()) {
            String file = qcow2;
            Set<String> seen = new HashSet<>();
            for (int depth = 0; depth < MAX_DEPTH && file != null && seen.add(file); depth++) {
                if (DiskPaths.isUnder(file, cacheRoot)) {
                    break; // a base is standalone: the cache only keeps images without a backing file
                }
                Optional<String> next;
                try {
                    next = java.nio.file.Files.isRegularFile(Path.of(file)) ? headers.backingFile(file)
                            : Optional.empty();
                } catch (IOException e) {
                    if (!java.nio.file.Files.exists(Path.of(file))) {
                        break; // deleted while read (its domain is going): it holds no base any more
                    }
                    throw new IOException("cannot read the backing file of " + file + ": " + e.getMessage(), e);
                }
                // qemu-img resolves a relative backing file name against the directory of the image naming it.
                String from = file;
                file = next.map(n -> Path.of(n).isAbsolute() ? n
                        : Path.of(from).resolveSibling(n).normalize().toString()).orElse(null);
                if (file != null) {
                    paths.add(file);
                }
            }
        }
        for (String p : paths) {
            if (DiskPaths.isUnder(p, cacheRoot)) {
                String name = Path.of(p).getFileName().toString();
                if (DiskPlans.isBaseName(name) && Path.of(p).getParent().equals(Path.of(cacheRoot))) {
                    out.add(name);
                }
            }
        }
        return out;
    }
}
