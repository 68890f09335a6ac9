package io.virtfleet.agent.snapshot;

import io.virtfleet.agent.libvirt.LibvirtCallException;
import io.virtfleet.agent.domain.PathPolicy;
import io.virtfleet.agent.host.HostProgram;
import io.virtfleet.agent.image.BackingFiles;
import io.virtfleet.agent.image.ImageCache;
import io.virtfleet.agent.libvirt.LibvirtConnection;
import io.virtfleet.reconcilers.domain.xml.DiskDef;
import io.virtfleet.reconcilers.domain.xml.DomainDef;
import io.virtfleet.reconcilers.domain.xml.DomainDocument;
import org.libvirt.Domain;
import org.libvirt.DomainJobStats;
import org.libvirt.LibvirtException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Point-in-time copies of a domain's writable disks into new files, for a VirtualMachineClone and a
 * VirtualMachineBackup.
 *
 * <p>A running (or paused) domain is copied with libvirt's backup API in push mode ({@code virDomainBackupBegin}):
 * QEMU copies each listed disk as it was at the moment the job started (copy-before-write), while the guest keeps
 * running, into a new qcow2/raw file libvirt creates. The call returns at once; the copy is done when the domain has no
 * job any more and the completed job's stats say Completed (measured on libvirt 9.0 / QEMU 7.2: a 64 MiB qcow2 in
 * ~70 ms). A stopped domain is copied with {@code qemu-img convert} (without {@code -U}: if the domain starts meanwhile,
 * QEMU's image lock makes the copy fail instead of copying a disk in use). Both write a standalone image: no backing
 * file, no internal snapshots.
 *
 * <p>Never overwrites, never deletes what it cannot prove it wrote: every target must be under the allowed roots and
 * must not exist; each disk is written to {@code <target>.partial-<owner uid>} (the uid of the clone/backup/restore
 * object) and then hard-linked to the target ({@code link(2)} fails if the target exists, unlike {@code rename(2)},
 * which replaces it) before the partial names are removed. Cleanup ({@link #removePartials}) removes only the
 * partial files of that owner, and a target only while it is still the same inode as the owner's partial file.
 */
public final class DiskCopier {
    /** {@code VIR_DOMAIN_JOB_NONE}, {@code VIR_DOMAIN_JOB_COMPLETED} (virDomainJobType; not in libvirt-java 0.5.4). */
    private static final int JOB_NONE = 0;
    private static final int JOB_COMPLETED = 3;
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(DiskCopier.class);

    /** One file to copy: {@code source} must be a disk of the domain; {@code target} is created. */
    public record Copy(String source, String target, String format) {
    }

    /**
     * How the copy was made: {@code backup-api} or {@code qemu-img}; {@code freeze}: the guest's filesystems around the
     * start of the backup job (null for a stopped domain).
     */
    public record Copied(String method, long bytes, io.virtfleet.api.v1alpha1.FilesystemFreeze freeze) {
        public Copied(String method, long bytes) {
            this(method, bytes, null);
        }
    }

    /** A copy that could not be made; nothing was left behind. */
    public static final class CopyException extends Exception {
        public CopyException(String message) {
            super(message);
        }
    }

    private final LibvirtConnection libvirt;
    private final PathPolicy paths;
    private final Duration timeout;

    private final io.virtfleet.agent.guest.FilesystemFreezer freezer;

    public DiskCopier(LibvirtConnection libvirt, PathPolicy paths, Duration timeout) {
        this.libvirt = libvirt;
        this.freezer = new io.virtfleet.agent.guest.FilesystemFreezer(libvirt);
        this.paths = paths;
        this.timeout = timeout;
    }

    /**
     * Target device (vda, ...) of each file-backed disk of a domain XML, by source path; empty when the XML does not
     * parse. Pure.
     */
    public static Map<String, String> devicesBySource(String domainXml) {
        Map<String, String> out = new LinkedHashMap<>();
        DomainDef def;
        try {
            def = DomainDocument.parse(domainXml).def();
        } catch (DomainDocument.InvalidXmlException | IllegalArgumentException e) {
            return out;
        }
        for (DiskDef disk : def.devices == null ? List.<DiskDef>of() : def.devices.disks) {
            if (disk.source != null && disk.source.file != null && disk.target != null && disk.target.dev != null) {
                out.put(disk.source.file, disk.target.dev);
            }
        }
        return out;
    }

    /** The push-mode backup request for these devices (device -> target file, format). Pure. */
    public static String backupXml(Map<String, Copy> byDevice) {
        StringBuilder b = new StringBuilder("<domainbackup mode='push'><disks>");
        byDevice.forEach((dev, c) -> b.append("<disk name='").append(dev).append("' type='file'><target file='")
                .append(xmlEscape(c.target())).append("'/><driver type='").append(c.format()).append("'/></disk>"));
        return b.append("</disks></domainbackup>").toString();
    }

    /** Why the targets cannot be written (empty: fine): outside the allowed roots, or already occupied. */
    public List<String> targetProblems(List<Copy> copies) {
        List<String> out = new ArrayList<>();
        for (Copy c : copies) {
            Optional<String> p = paths.check(c.target());
            if (p.isPresent()) {
                out.add(p.get());
            } else if (Files.exists(Path.of(c.target()), java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                out.add("path " + c.target() + " is already occupied (nothing is overwritten)");
            }
            if (!"qcow2".equals(c.format()) && !"raw".equals(c.format())) {
                out.add("format " + c.format() + " of " + c.source() + " cannot be copied");
            }
        }
        return out;
    }

    /** Where {@code owner}'s copy is written before it is linked into place. */
    public static Path partial(Copy c, String owner) {
        return Path.of(c.target() + ".partial-" + owner);
    }

    /**
     * Copies the disks of the domain {@code uuid} for the object {@code owner} (its uid); on any failure removes the
     * partial files it wrote and throws.
     */
    public Copied copy(String uuid, List<Copy> copies, String owner) throws CopyException, LibvirtConnection.UnavailableException, LibvirtCallException {
        List<String> problems = targetProblems(copies);
        problems.addAll(partialProblems(copies, owner));
        if (!problems.isEmpty()) {
            throw new CopyException(String.join("; ", problems));
        }
        boolean done = false;
        try {
            Copied c = libvirt.call("backup", conn -> {
                Domain d = conn.domainLookupByUUIDString(uuid);
                boolean active = d.isActive() == 1;
                Map<String, String> devs = devicesBySource(d.getXMLDesc(active ? 0 : org.libvirt.Domain.XMLFlags.INACTIVE));
                Map<String, Copy> byDevice = new LinkedHashMap<>();
                for (Copy cp : copies) {
                    String dev = devs.get(cp.source());
                    if (dev == null) {
                        throw new RuntimeCopy("the domain has no disk " + cp.source());
                    }
                    byDevice.put(dev, new Copy(cp.source(), partial(cp, owner).toString(), cp.format()));
                }
                if (!active) {
                    return null; // qemu-img below, outside the libvirt call
                }
                // The job copies the disks as they were when it began: the guest's filesystems are frozen only for
                // its start, and thawed before the copy runs.
                io.virtfleet.agent.guest.FilesystemFreezer.Frozen<Boolean> begun;
                try {
                    begun = freezer.around(uuid, () -> {
                        d.backupBegin(backupXml(byDevice), null, 0);
                        return Boolean.TRUE;
                    });
                } catch (LibvirtConnection.UnavailableException e) {
                    throw new RuntimeCopy("libvirt went away while starting the copy: " + e.getMessage());
                }
                awaitBackup(d);
                return new Copied("backup-api", 0, begun.freeze());
            });
            if (c == null) {
                for (Copy cp : copies) {
                    qemuImgConvert(cp, partial(cp, owner).toString());
                }
                c = new Copied("qemu-img", 0);
            }
            long bytes = 0;
            for (Copy cp : copies) {
                if (!Files.isRegularFile(partial(cp, owner), java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    throw new CopyException("the copy " + cp.target() + " was not written");
                }
                bytes += Files.size(partial(cp, owner));
            }
            publish(copies, owner);
            done = true;
            return new Copied(c.method(), bytes, c.freeze());
        } catch (RuntimeCopy e) {
            throw new CopyException(e.getMessage());
        } catch (IOException e) {
            throw new CopyException("cannot read the copies: " + e.getMessage());
        } finally {
            if (!done) {
                removePartials(copies, owner);
            }
        }
    }

    /** Partial files of this owner left from an earlier attempt: cleaned up by its recovery, never reused. */
    private static List<String> partialProblems(List<Copy> copies, String owner) {
        List<String> out = new ArrayList<>();
        for (Copy c : copies) {
            if (Files.exists(partial(c, owner), java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                out.add("path " + partial(c, owner) + " is already occupied (nothing is overwritten)");
            }
        }
        return out;
    }

    /**
     * Links each finished partial file to its target (fails, replacing nothing, if a target appeared meanwhile), then
     * drops the partial names. On failure the targets linked so far are still the partials' inodes, so
     * {@link #removePartials} removes them.
     */
    static void publish(List<Copy> copies, String owner) throws CopyException {
        for (Copy c : copies) {
            try {
                Files.createLink(Path.of(c.target()), partial(c, owner));
            } catch (java.nio.file.FileAlreadyExistsException e) {
                throw new CopyException("path " + c.target() + " is already occupied (nothing is overwritten)");
            } catch (IOException | UnsupportedOperationException e) {
                throw new CopyException("cannot link the copy to " + c.target() + ": " + e.getMessage());
            }
        }
        for (Copy c : copies) {
            try {
                Files.delete(partial(c, owner));
            } catch (IOException e) {
                throw new CopyException("cannot remove the partial name " + partial(c, owner) + ": " + e.getMessage());
            }
        }
    }

    /**
     * Removes what {@code owner} wrote for these copies (best effort): its partial files, and a target only while it
     * is the very same file (inode) as the owner's partial file (linked by {@link #publish} just before a failure or
     * a restart). Anything else, including a target whose partial name is already gone, is left alone: nothing proves
     * this owner wrote it. Returns the targets left in place that may be this owner's (published, then interrupted).
     */
    public static List<String> removePartials(List<Copy> copies, String owner) {
        List<String> leftAlone = new ArrayList<>();
        for (Copy c : copies) {
            Path part = partial(c, owner);
            Path target = Path.of(c.target());
            try {
                Object partKey = regularFileKey(part);
                if (partKey != null) {
                    if (partKey.equals(regularFileKey(target))) {
                        Files.delete(target);
                    }
                    Files.delete(part);
                } else if (Files.exists(target, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    leftAlone.add(c.target());
                }
            } catch (IOException e) {
                LOG.warn("cannot remove the partial copy {}: {}", part, e.getMessage());
            }
        }
        return leftAlone;
    }

    /** The file key (device+inode) of a regular file, not following links; null if it is anything else. */
    private static Object regularFileKey(Path p) {
        try {
            var a = Files.readAttributes(p, java.nio.file.attribute.BasicFileAttributes.class,
                    java.nio.file.LinkOption.NOFOLLOW_LINKS);
            return a.isRegularFile() ? a.fileKey() : null;
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * Aborts the domain's job if it is a backup job (the push-mode copy of an interrupted clone/backup, which QEMU
     * keeps writing after the agent restarts); any other job (a migration) is left alone. True if one was aborted.
     */
    public boolean abortBackupJob(String uuid) throws LibvirtConnection.UnavailableException,
            LibvirtCallException {
        return libvirt.call(conn -> {
            Domain d = conn.domainLookupByUUIDString(uuid);
            if (d.isActive() != 1 || d.getJobInfo().getType() == JOB_NONE) {
                return false;
            }
            DomainJobStats st = d.getJobStats(0);
            if (st == null || st.stats == null) {
                return false;
            }
            for (org.libvirt.TypedParameter tp : st.stats) {
                if ("operation".equals(tp.field) && String.valueOf(org.libvirt.Domain.JobOperation.BACKUP).equals(tp.getValueAsString())) {
                    d.abortJob();
                    return true;
                }
            }
            return false;
        });
    }

    /** The domain's persistent definition and its current genid (live when it runs), for a backup. */
    public record Definition(String xml, String genid) {
    }

    public Definition definition(String uuid) throws LibvirtConnection.UnavailableException,
            LibvirtCallException {
        return libvirt.call(conn -> {
            Domain d = conn.domainLookupByUUIDString(uuid);
            String inactive = d.getXMLDesc(org.libvirt.Domain.XMLFlags.INACTIVE);
            String genid = SnapshotOps.genidOf(d.isActive() == 1 ? d.getXMLDesc(0) : inactive);
            return new Definition(inactive, genid);
        });
    }

    /**
     * Copies standalone image files (a backup's, back to a VM's disk paths) byte for byte for the object {@code owner}:
     * no domain uses them, and they have no backing file. Same rules as {@link #copy}: targets allowed and free,
     * written as partial files then linked; on failure removes only its partial files. Every source must be allowed
     * by the host's path policy and, with symlinks resolved, inside {@code sourceDir} (the backup's own directory):
     * the agent runs as root, and a plan naming /etc/shadow or another tenant's disk must not be copied.
     */
    public long copyFiles(List<Copy> copies, String owner, String sourceDir) throws CopyException {
        List<String> problems = targetProblems(copies);
        problems.addAll(partialProblems(copies, owner));
        for (Copy c : copies) {
            Optional<String> bad = paths.checkUnder(c.source(), sourceDir);
            if (bad.isPresent()) {
                problems.add("the backup file " + bad.get());
            } else if (!Files.isRegularFile(Path.of(c.source()), java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                problems.add("the backup file " + c.source() + " is missing");
            }
        }
        if (!problems.isEmpty()) {
            throw new CopyException(String.join("; ", problems));
        }
        long bytes = 0;
        boolean done = false;
        try {
            for (Copy c : copies) {
                Path t = partial(c, owner);
                Files.createDirectories(t.getParent());
                Files.copy(Path.of(c.source()), t); // no REPLACE_EXISTING: never overwrites
                bytes += Files.size(t);
            }
            publish(copies, owner);
            done = true;
            return bytes;
        } catch (java.nio.file.FileAlreadyExistsException e) {
            throw new CopyException("path " + e.getMessage() + " is already occupied (nothing is overwritten)");
        } catch (IOException e) {
            throw new CopyException("cannot copy: " + e);
        } finally {
            if (!done) {
                removePartials(copies, owner);
            }
        }
    }

    private void awaitBackup(Domain d) throws LibvirtException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (d.getJobInfo().getType() != JOB_NONE) {
            if (System.nanoTime() > deadline) {
                d.abortJob();
                throw new RuntimeCopy("the backup job did not finish within " + timeout.toSeconds() + " s (aborted)");
            }
            sleep(100);
        }
        DomainJobStats st = d.getJobStats(org.libvirt.Domain.DomainGetJobStatsFlags.COMPLETED);
        if (st == null || st.type != JOB_COMPLETED) {
            throw new RuntimeCopy("the libvirt backup job failed (job type " + (st == null ? "unknown" : st.type)
                    + "); see the libvirtd log");
        }
    }

    /**
     * Copies a stopped domain's disk with {@code qemu-img convert}. The source format is always given ({@code -f}):
     * without it qemu-img probes the content, and a guest on a raw disk can write a qcow2 header whose backing file is
     * any host file (/etc/shadow, another tenant's disk) that this root process would then copy into the target. A
     * qcow2 source with a backing file is refused for the same reason (the guest cannot set it, but whoever placed
     * the file could), unless it is a base in the host's image cache ({@link BackingFiles}).
     */
    void qemuImgConvert(Copy c, String target) throws CopyException {
        if (!"qcow2".equals(c.format()) && !"raw".equals(c.format())) {
            throw new CopyException("format " + c.format() + " of " + c.source() + " cannot be copied");
        }
        if ("qcow2".equals(c.format())) {
            String info = qemuImg(List.of("info", "--output=json", "-f", "qcow2", c.source()), c.source());
            Optional<String> backing = BackingFiles.inInfoJson(info);
            // An overlay on a base of the host's image cache is the one backed disk virtfleet makes; convert reads
            // through it and writes a standalone copy. Any other backing file is refused.
            String problem = BackingFiles.problem(c.source(), backing,
                    ImageCache.rootFor(paths.roots().stream().map(Path::toString).toList()));
            if (problem != null) {
                throw new CopyException(problem + "; only standalone images and overlays on cached bases are copied");
            }
        }
        qemuImg(List.of("convert", "-f", c.format(), "-O", c.format(), c.source(), target), c.source());
    }

    private String qemuImg(List<String> args, String source) throws CopyException {
        List<String> cmd = new ArrayList<>();
        cmd.add(HostProgram.path("qemu-img")); // deploy/images/stage-rootfs ships /usr/bin/qemu-img
        cmd.addAll(args);
        String what = "qemu-img " + args.get(0) + " " + source;
        HostProgram.Outcome r;
        try {
            r = HostProgram.run(cmd, timeout, what);
        } catch (java.io.InterruptedIOException e) {
            throw new CopyException("interrupted while copying " + source);
        } catch (IOException e) {
            // A timeout names the command; anything else is a failed start.
            throw new CopyException(e.getMessage().startsWith(what) ? e.getMessage()
                    : "cannot run qemu-img (is it installed on the host?): " + e.getMessage());
        }
        if (r.exitCode() != 0) {
            throw new CopyException(what + " failed: " + r.output());
        }
        return r.output();
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RuntimeCopy("interrupted while waiting for the backup job");
        }
    }

    private static String xmlEscape(String s) {
        return s.replace("&", "&amp;").replace("'", "&apos;").replace("<", "&lt;");
    }

    private static final class RuntimeCopy extends RuntimeException {
        RuntimeCopy(String message) {
            super(message);
        }
    }
}
