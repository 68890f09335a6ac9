package io.virtfleet.agent.snapshot;

import io.virtfleet.agent.libvirt.LibvirtCallException;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.virtfleet.agent.domain.DomainLocks;
import io.virtfleet.agent.libvirt.LibvirtConnection;
import io.virtfleet.agent.loop.Result;
import io.virtfleet.agent.loop.WorkLoop;
import io.virtfleet.api.v1alpha1.ApiGroup;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.VirtualMachineBackup;
import io.virtfleet.api.v1alpha1.VirtualMachineBackupStatus;
import io.virtfleet.api.v1alpha1.VirtualMachineClone;
import io.virtfleet.api.v1alpha1.VirtualMachineCloneStatus;
import io.virtfleet.api.v1alpha1.VirtualMachineRestore;
import io.virtfleet.api.v1alpha1.VirtualMachineRestoreStatus;
import io.virtfleet.api.v1alpha1.VirtualMachineSnapshot;
import io.virtfleet.api.v1alpha1.VirtualMachineSnapshotStatus;
import io.virtfleet.reconcilers.genid.GenidPolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Executes this host's VirtualMachineSnapshots, VirtualMachineRestores (from a snapshot, or the disk copies of a
 * restore from a backup), VirtualMachineBackups and the disk copies of VirtualMachineClones ({@link DiskCopier}): the
 * operator validates them and labels them
 * {@code virtfleet.io/host=<host>}; this controller watches objects with its host's label, takes/reverts/deletes the
 * libvirt snapshot ({@link SnapshotOps}) and writes their status. A snapshot carries the finalizer
 * {@value #FINALIZER} while a libvirt snapshot exists for it; deleting the object deletes the libvirt snapshot.
 * The requests are keys of one {@link WorkLoop} with one worker: snapshot work on a host is serialized.
 */
public final class SnapshotController implements AutoCloseable {
    public static final String FINALIZER = "virtfleet.io/agent-snapshot";
    private static final Logger LOG = LoggerFactory.getLogger(SnapshotController.class);

    private final KubernetesClient client;
    private final String host;
    private final SnapshotOps ops;
    private final DiskCopier copier;
    private final io.virtfleet.agent.guest.FilesystemFreezer freezer;
    private final io.virtfleet.agent.domain.PathPolicy paths;
    private final io.virtfleet.agent.AgentMetrics metrics;
    private final ScheduledExecutorService scheduler;
    private final WorkLoop loop;
    private final DomainLocks locks;
    private final List<SharedIndexInformer<?>> informers = new ArrayList<>();

    public SnapshotController(KubernetesClient client, LibvirtConnection libvirt, String host,
                              io.virtfleet.agent.domain.PathPolicy paths) {
        this(client, libvirt, host, paths, new DomainLocks());
    }

    /** @param locks the Domain controller's per-domain locks: a revert and a sync pass never interleave */
    public SnapshotController(KubernetesClient client, LibvirtConnection libvirt, String host,
                              io.virtfleet.agent.domain.PathPolicy paths, DomainLocks locks) {
        this.locks = locks;
        this.client = client;
        this.host = host;
        this.ops = new SnapshotOps(libvirt);
        this.copier = new DiskCopier(libvirt, paths, Duration.ofMinutes(30));
        this.freezer = new io.virtfleet.agent.guest.FilesystemFreezer(libvirt);
        this.paths = paths;
        this.metrics = libvirt.metrics();
        this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "agent-" + host + "-requests-timer");
            t.setDaemon(true);
            return t;
        });
        // One worker: a host's snapshot, restore, clone and backup work is serialized (a domain has one libvirt job
        // at a time, and disk copies compete for the same disks).
        this.loop = new WorkLoop("agent-" + host + "-requests", 1, scheduler, this::reconcile, key -> key);
    }

    public void start() {
        loop.start();
        informers.add(client.resources(VirtualMachineSnapshot.class).inAnyNamespace()
                .withLabel(ApiGroup.HOST_LABEL, host).inform(handler(), 30_000));
        informers.add(client.resources(VirtualMachineRestore.class).inAnyNamespace()
                .withLabel(ApiGroup.HOST_LABEL, host).inform(handler(), 30_000));
        informers.add(client.resources(VirtualMachineClone.class).inAnyNamespace()
                .withLabel(ApiGroup.HOST_LABEL, host).inform(handler(), 30_000));
        informers.add(client.resources(VirtualMachineBackup.class).inAnyNamespace()
                .withLabel(ApiGroup.HOST_LABEL, host).inform(handler(), 30_000));
    }

    /** The work-queue key of a request: {@code Kind/namespace/name}. */
    static String key(HasMetadata o) {
        return o.getKind() + "/" + o.getMetadata().getNamespace() + "/" + o.getMetadata().getName();
    }

    private <T extends HasMetadata> ResourceEventHandler<T> handler() {
        return new ResourceEventHandler<>() {
            @Override
            public void onAdd(T o) {
                loop.add(key(o));
            }

            @Override
            public void onUpdate(T old, T o) {
                loop.add(key(o));
            }

            @Override
            public void onDelete(T o, boolean unknown) {
            }
        };
    }

    /** One pass for one request, by its kind. */
    private Result reconcile(String key) {
        String[] k = key.split("/", 3);
        return switch (k[0]) {
            case "VirtualMachineSnapshot" -> snapshot(k[1], k[2]);
            case "VirtualMachineRestore" -> restore(k[1], k[2]);
            case "VirtualMachineClone" -> cloneDisks(k[1], k[2]);
            case "VirtualMachineBackup" -> backup(k[1], k[2]);
            default -> throw new IllegalArgumentException("unknown request kind in key " + key);
        };
    }

    private Result snapshot(String ns, String name) {
        var res = client.resources(VirtualMachineSnapshot.class).inNamespace(ns).withName(name);
        VirtualMachineSnapshot s = res.get();
        if (s == null) {
            return Result.DONE;
        }
        VirtualMachineSnapshotStatus st = s.getStatus();
        boolean ours = s.getMetadata().getFinalizers() != null && s.getMetadata().getFinalizers().contains(FINALIZER);
        if (s.getMetadata().getDeletionTimestamp() != null) {
            if (ours) {
                try {
                    if (st != null && st.vmUuid != null) {
                        ops.delete(st.vmUuid, st.snapshotName != null ? st.snapshotName : name);
                    }
                } catch (LibvirtConnection.UnavailableException | LibvirtCallException e) {
                    LOG.warn("cannot delete libvirt snapshot {} of {}: {}", name, ns, e.getMessage());
                    return Result.RETRY;
                }
                res.edit(x -> {
                    x.getMetadata().getFinalizers().remove(FINALIZER);
                    return x;
                });
            }
            return Result.DONE;
        }
        if (st != null && (VirtualMachineSnapshotStatus.PHASE_SUCCEEDED.equals(st.phase)
                || VirtualMachineSnapshotStatus.PHASE_FAILED.equals(st.phase))) {
            return Result.DONE;
        }
        Domain d = domainHere(ns, s.getSpec().vmName);
        if (d == null) {
            writeSnapshot(ns, name, failed("the VM " + s.getSpec().vmName + " has no domain on host " + host));
            return Result.DONE;
        }
        if (!ours) {
            s = res.edit(x -> {
                x.getMetadata().getFinalizers().add(FINALIZER);
                return x;
            });
        }
        VirtualMachineSnapshotStatus out = new VirtualMachineSnapshotStatus();
        out.host = host;
        out.vmUuid = d.getSpec().uuid;
        out.snapshotName = name;
        try {
            SnapshotOps.Taken t;
            String uuid = d.getSpec().uuid;
            String uid = s.getMetadata().getUid();
            try (DomainLocks.Held held = locks.hold(uuid)) {
                // The request's uid: a retry after this agent died between libvirt's snapshot and the status
                // write finds the snapshot it took and reports it, instead of Failed with the snapshot left behind.
                // A running guest's filesystems are frozen for the snapshot and thawed after it (FilesystemFreezer).
                var frozen = freezer.around(uuid, () -> ops.create(uuid, name, uid));
                t = frozen.value();
                out.filesystemFreeze = frozen.freeze();
            }
            out.phase = VirtualMachineSnapshotStatus.PHASE_SUCCEEDED;
            out.readyToUse = true;
            out.creationTime = Instant.ofEpochSecond(t.creationTime()).toString();
            out.vmState = t.state();
            out.genid = t.genid();
            out.size = t.size();
        } catch (SnapshotOps.SnapshotException e) {
            out = failed(e.getMessage());
            out.host = host;
            out.vmUuid = null; // nothing to delete
        } catch (LibvirtConnection.UnavailableException e) {
            // libvirtd is down or restarting: nothing was done, so the request stays pending and is retried with
            // backoff (found by the fault-injection driver, e2e/RELIABILITY.md).
            LOG.warn("snapshot {}/{}: libvirt unavailable ({}); trying again later", ns, name, e.getMessage());
            return Result.RETRY;
        } catch (LibvirtCallException e) {
            out = failed("libvirt: " + (e.getMessage()));
            out.host = host;
        }
        writeSnapshot(ns, name, out);
        LOG.info("snapshot {}/{} of {}: {}", ns, name, s.getSpec().vmName, out.phase);
        return Result.DONE;
    }

    private Result restore(String ns, String name) {
        var res = client.resources(VirtualMachineRestore.class).inNamespace(ns).withName(name);
        VirtualMachineRestore r = res.get();
        if (r != null && r.getSpec() != null && r.getSpec().backupName != null) {
            return restoreFromBackup(ns, name, r);
        }
        if (r == null || r.getMetadata().getDeletionTimestamp() != null || r.getStatus() != null
                && r.getStatus().phase != null && !"Pending".equals(r.getStatus().phase)) {
            return Result.DONE;
        }
        VirtualMachineSnapshot snap = client.resources(VirtualMachineSnapshot.class).inNamespace(ns)
                .withName(r.getSpec().snapshotName).get();
        VirtualMachineRestoreStatus recorded = r.getStatus() != null ? r.getStatus() : new VirtualMachineRestoreStatus();
        // The operator chose the restore's generation ID, recorded it here and pinned it in the Domain before handing
        // the restore over. Revert only once the Domain carries it, so every redefine that follows the revert (from
        // the Domain spec) carries the restore's genid and never the one before it.
        GenidPolicy.Stamp planned = GenidPolicy.Stamp.of(recorded.genid, recorded.genidGeneration);
        String problem = null;
        if (snap == null || snap.getStatus() == null || !Boolean.TRUE.equals(snap.getStatus().readyToUse)
                || !host.equals(snap.getStatus().host)) {
            problem = "snapshot " + r.getSpec().snapshotName + " is not ready on host " + host;
        } else if (recorded.genid != null && planned == null) {
            problem = "status.genid: '" + recorded.genid + "' is not a GUID";
        }
        if (problem == null && planned != null) {
            Domain d = client.resources(Domain.class).inNamespace(ns).withName(r.getSpec().vmName).get();
            long pinned = d == null || d.getSpec() == null || d.getSpec().genidGeneration == null ? 0L
                    : d.getSpec().genidGeneration;
            if (pinned < planned.generation()) {
                LOG.info("restore {}/{}: waiting for Domain {} to carry generation ID {} (genidGeneration {}, it "
                        + "has {})", ns, name, r.getSpec().vmName, planned.genid(), planned.generation(), pinned);
                return Result.after(Duration.ofSeconds(1));
            }
        }
        String phase;
        String error = null;
        SnapshotOps.Reverted rv = null;
        if (problem != null) {
            phase = VirtualMachineRestoreStatus.PHASE_FAILED;
            error = problem;
        } else {
            try {
                String vmUuid = snap.getStatus().vmUuid;
                try (DomainLocks.Held held = locks.hold(vmUuid)) {
                    rv = ops.revert(vmUuid, snap.getStatus().snapshotName, planned);
                    // A snapshot taken with frozen filesystems holds a guest that was frozen in its memory state:
                    // reverted to a running domain, the guest resumes frozen until its agent is told to thaw.
                    if (snap.getStatus().filesystemFreeze != null
                            && !io.virtfleet.api.v1alpha1.FilesystemFreeze.NO_GUEST_AGENT.equals(
                                    snap.getStatus().filesystemFreeze.state)
                            && "Running".equalsIgnoreCase(rv.state())) {
                        String thawError = freezer.thaw(vmUuid);
                        if (thawError != null) {
                            LOG.warn("restore {}/{}: the reverted guest's filesystems may still be frozen: {}", ns,
                                    name, thawError);
                        }
                    }
                }
                phase = VirtualMachineRestoreStatus.PHASE_SUCCEEDED;
                if (rv.genid() != null && !rv.genid().equals(rv.previousGenid())) {
                    metrics.genidChanged();
                }
            } catch (SnapshotOps.SnapshotException e) {
                phase = VirtualMachineRestoreStatus.PHASE_FAILED;
                error = e.getMessage();
            } catch (LibvirtConnection.UnavailableException e) {
                // As for a snapshot: libvirtd is away, nothing was reverted; try again shortly.
                LOG.warn("restore {}/{}: libvirt unavailable ({}); trying again later", ns, name, e.getMessage());
                return Result.RETRY;
            } catch (LibvirtCallException e) {
                phase = VirtualMachineRestoreStatus.PHASE_FAILED;
                error = "libvirt: " + (e.getMessage());
            }
        }
        String outPhase = phase;
        String outError = error;
        SnapshotOps.Reverted done = rv;
        String restored = Instant.now().toString();
        // Only the agent's fields: the genid the operator recorded stays, unless libvirt chose the new one itself.
        editUnlessFinished(res, st -> st.phase, x -> {
            if (x.getStatus() == null) {
                x.setStatus(new VirtualMachineRestoreStatus());
            }
            VirtualMachineRestoreStatus st = x.getStatus();
            st.phase = outPhase;
            st.error = outError;
            st.complete = VirtualMachineRestoreStatus.PHASE_SUCCEEDED.equals(outPhase);
            if (done != null) {
                st.genid = done.genid();
                st.genidGeneration = done.genidGeneration();
                if (st.previousGenid == null) {
                    st.previousGenid = done.previousGenid();
                }
                st.restoreTime = restored;
            }
            x.setStatus(st);
        });
        LOG.info("restore {}/{} of {} to {}: {} (genid {} -> {}, genidGeneration {})", ns, name, r.getSpec().vmName,
                r.getSpec().snapshotName, phase, recorded.previousGenid != null ? recorded.previousGenid
                        : rv != null ? rv.previousGenid() : null, rv != null ? rv.genid() : null,
                rv != null ? rv.genidGeneration() : null);
        return Result.DONE;
    }

    /**
     * Copies the clone's disks (status.disks, planned by the operator) while the status says Pending: CopyingDisks
     * while it works, then DisksReady (the operator creates the new VM) or Failed. A clone found in CopyingDisks was
     * interrupted (agent restart): a push-mode backup job still running on the source is aborted, then only this
     * clone's partial files ({@link DiskCopier#removePartials}) are removed.
     */
    private Result cloneDisks(String ns, String name) {
        var res = client.resources(VirtualMachineClone.class).inNamespace(ns).withName(name);
        VirtualMachineClone c = res.get();
        if (c == null || c.getMetadata().getDeletionTimestamp() != null || c.getStatus() == null
                || c.getStatus().disks == null) {
            return Result.DONE;
        }
        VirtualMachineCloneStatus st = c.getStatus();
        List<DiskCopier.Copy> copies = copies(st.disks, Map.Entry::getValue);
        String uid = c.getMetadata().getUid();
        if (VirtualMachineCloneStatus.PHASE_COPYING_DISKS.equals(st.phase)) {
            if (!abortInterruptedJob(ns, c.getSpec().source)) {
                return Result.RETRY; // libvirt unavailable: the copy may still be running
            }
            List<String> left = DiskCopier.removePartials(copies, uid);
            writeClone(ns, name, VirtualMachineCloneStatus.PHASE_FAILED, null,
                    "the copy was interrupted (agent restart); its partial copies were removed"
                            + (left.isEmpty() ? "" : ", " + left + " left in place") + ": create the clone again");
            return Result.DONE;
        }
        if (!VirtualMachineCloneStatus.PHASE_PENDING.equals(st.phase)) {
            return Result.DONE;
        }
        Domain d = domainHere(ns, c.getSpec().source);
        if (d == null) {
            writeClone(ns, name, VirtualMachineCloneStatus.PHASE_FAILED, null,
                    "spec.source: the VM " + c.getSpec().source + " has no domain on host " + host);
            return Result.DONE;
        }
        List<String> problems = copier.targetProblems(copies);
        if (!problems.isEmpty()) {
            writeClone(ns, name, VirtualMachineCloneStatus.PHASE_FAILED, null, "spec.target: " + String.join("; ",
                    problems));
            return Result.DONE;
        }
        writeClone(ns, name, VirtualMachineCloneStatus.PHASE_COPYING_DISKS, null, null);
        try {
            DiskCopier.Copied done = copier.copy(d.getSpec().uuid, copies, uid);
            writeClone(ns, name, VirtualMachineCloneStatus.PHASE_DISKS_READY, done.method(), null, done.freeze());
            LOG.info("clone {}/{}: {} disk(s) of {} copied with {} ({} bytes)", ns, name, copies.size(),
                    c.getSpec().source, done.method(), done.bytes());
        } catch (DiskCopier.CopyException e) {
            writeClone(ns, name, VirtualMachineCloneStatus.PHASE_FAILED, null, e.getMessage());
        } catch (LibvirtConnection.UnavailableException | LibvirtCallException e) {
            writeClone(ns, name, VirtualMachineCloneStatus.PHASE_FAILED, null, "libvirt: "
                    + (e.getMessage()));
        }
        return Result.DONE;
    }

    /**
     * Takes a backup planned by the operator (status Pending: location, disks, vmSpec): creates the directory (it must
     * not exist: {@link BackupDirectory}), copies the disks ({@link DiskCopier#copy}), writes {@code domain.xml} and
     * {@code vm.json}; then Succeeded + readyToUse, or Failed with what it provably wrote removed. Found InProgress:
     * interrupted; its backup job is aborted, then cleaned the same way, Failed.
     */
    private Result backup(String ns, String name) {
        var res = client.resources(VirtualMachineBackup.class).inNamespace(ns).withName(name);
        VirtualMachineBackup b = res.get();
        if (b == null || b.getMetadata().getDeletionTimestamp() != null || b.getStatus() == null
                || b.getStatus().disks == null || b.getStatus().location == null) {
            return Result.DONE;
        }
        VirtualMachineBackupStatus st = b.getStatus();
        Path dir = Path.of(st.location);
        List<DiskCopier.Copy> copies = copies(st.disks, Map.Entry::getValue);
        String uid = b.getMetadata().getUid();
        if (VirtualMachineBackupStatus.PHASE_IN_PROGRESS.equals(st.phase)) {
            if (!abortInterruptedJob(ns, b.getSpec().vmName)) {
                return Result.RETRY; // libvirt unavailable: the copy may still be running
            }
            String left = removeBackup(dir, copies, uid);
            writeBackup(ns, name, s -> fail(s, "the backup was interrupted (agent restart); its partial files were "
                    + "removed" + (left.isEmpty() ? "" : " (" + left + ")") + ": create it again"));
            return Result.DONE;
        }
        if (!VirtualMachineBackupStatus.PHASE_PENDING.equals(st.phase)) {
            return Result.DONE;
        }
        Domain d = domainHere(ns, b.getSpec().vmName);
        if (d == null) {
            writeBackup(ns, name, s -> fail(s, "spec.vmName: the VM " + b.getSpec().vmName + " has no domain on host "
                    + host));
            return Result.DONE;
        }
        java.util.Optional<String> bad = paths.check(st.location);
        if (bad.isPresent() || Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            writeBackup(ns, name, s -> fail(s, "spec.destination: " + bad.orElse(st.location
                    + " already exists (a backup never overwrites)")));
            return Result.DONE;
        }
        String started = Instant.now().toString();
        writeBackup(ns, name, s -> {
            s.phase = VirtualMachineBackupStatus.PHASE_IN_PROGRESS;
            s.creationTime = started;
        });
        try {
            BackupDirectory.create(dir, uid);
        } catch (java.nio.file.FileAlreadyExistsException e) {
            writeBackup(ns, name, s -> fail(s, "spec.destination: " + st.location
                    + " already exists (a backup never overwrites)"));
            return Result.DONE;
        } catch (java.io.IOException e) {
            writeBackup(ns, name, s -> fail(s, "spec.destination: cannot create " + st.location + ": "
                    + e.getMessage()));
            return Result.DONE;
        }
        try {
            DiskCopier.Copied done = copier.copy(d.getSpec().uuid, copies, uid);
            DiskCopier.Definition def = copier.definition(d.getSpec().uuid);
            BackupDirectory.writeNew(dir.resolve(io.virtfleet.reconcilers.copy.BackupPlans.DOMAIN_XML), def.xml());
            BackupDirectory.writeNew(dir.resolve(io.virtfleet.reconcilers.copy.BackupPlans.VM_JSON), st.vmSpec);
            writeBackup(ns, name, s -> {
                s.phase = VirtualMachineBackupStatus.PHASE_SUCCEEDED;
                s.readyToUse = true;
                s.copyMethod = done.method();
                s.filesystemFreeze = done.freeze();
                s.size = done.bytes();
                s.genid = def.genid();
                s.error = null;
            });
            LOG.info("backup {}/{} of {} to {}: {} bytes with {}", ns, name, b.getSpec().vmName, dir, done.bytes(),
                    done.method());
        } catch (DiskCopier.CopyException | java.io.IOException e) {
            removeBackup(dir, copies, uid);
            writeBackup(ns, name, s -> fail(s, e.getMessage()));
        } catch (LibvirtConnection.UnavailableException | LibvirtCallException e) {
            removeBackup(dir, copies, uid);
            writeBackup(ns, name, s -> fail(s, "libvirt: " + (e.getMessage())));
        }
        return Result.DONE;
    }

    private static void fail(VirtualMachineBackupStatus s, String error) {
        s.phase = VirtualMachineBackupStatus.PHASE_FAILED;
        s.readyToUse = false;
        s.error = error;
    }

    /** Removes what this backup provably wrote ({@link BackupDirectory#remove}); describes what was left. */
    private static String removeBackup(Path dir, List<DiskCopier.Copy> copies, String uid) {
        try {
            return BackupDirectory.remove(dir, copies, uid);
        } catch (java.io.IOException e) {
            LOG.warn("cannot remove the partial backup {}: {}", dir, e.getMessage());
            return "cannot remove " + dir + ": " + e.getMessage();
        }
    }

    /**
     * After an agent restart: aborts the push-mode backup job an interrupted clone/backup of {@code vmName} may have
     * left running (QEMU would keep writing the partial files). False if libvirt cannot be asked (retry later).
     */
    private boolean abortInterruptedJob(String ns, String vmName) {
        Domain d = domainHere(ns, vmName);
        if (d == null) {
            return true; // no domain here: no job either
        }
        try {
            if (copier.abortBackupJob(d.getSpec().uuid)) {
                LOG.info("aborted the interrupted backup job of {}/{}", ns, vmName);
            }
            return true;
        } catch (LibvirtCallException e) {
            return true; // libvirt answered: the domain is gone (or has no job), nothing runs
        } catch (LibvirtConnection.UnavailableException e) {
            LOG.warn("cannot check the backup job of {}/{}: {}", ns, vmName, e.getMessage());
            return false;
        }
    }

    private void writeBackup(String ns, String name, Consumer<VirtualMachineBackupStatus> edit) {
        editUnlessFinished(client.resources(VirtualMachineBackup.class).inNamespace(ns).withName(name), st -> st.phase,
                x -> {
                    VirtualMachineBackupStatus s = x.getStatus() == null ? new VirtualMachineBackupStatus()
                            : x.getStatus();
                    s.host = host;
                    edit.accept(s);
                    x.setStatus(s);
                });
    }

    /**
     * The disk part of a restore from a backup (status Pending with disks: file in the backup -> disk path): copies
     * the files back (never over an existing file), then DisksReady; the operator recreates the VM.
     */
    private Result restoreFromBackup(String ns, String name, VirtualMachineRestore r) {
        VirtualMachineRestoreStatus st = r.getStatus();
        if (r.getMetadata().getDeletionTimestamp() != null || st == null || st.disks == null) {
            return Result.DONE;
        }
        List<DiskCopier.Copy> copies = copies(st.disks, Map.Entry::getKey);
        String uid = r.getMetadata().getUid();
        if (VirtualMachineRestoreStatus.PHASE_COPYING_DISKS.equals(st.phase)) {
            List<String> left = DiskCopier.removePartials(copies, uid);
            writeRestore(ns, name, VirtualMachineRestoreStatus.PHASE_FAILED, "the copy was interrupted (agent "
                    + "restart); its partial disks were removed" + (left.isEmpty() ? "" : ", " + left
                    + " left in place") + ": create the restore again");
            return Result.DONE;
        }
        if (!VirtualMachineRestoreStatus.PHASE_PENDING.equals(st.phase)) {
            return Result.DONE;
        }
        VirtualMachineBackup backup = client.resources(VirtualMachineBackup.class).inNamespace(ns)
                .withName(r.getSpec().backupName).get();
        if (backup == null || backup.getStatus() == null || backup.getStatus().location == null
                || !host.equals(backup.getStatus().host)) {
            writeRestore(ns, name, VirtualMachineRestoreStatus.PHASE_FAILED, "spec.backupName: the backup "
                    + r.getSpec().backupName + " is not stored on host " + host);
            return Result.DONE;
        }
        List<String> problems = copier.targetProblems(copies);
        if (!problems.isEmpty()) {
            writeRestore(ns, name, VirtualMachineRestoreStatus.PHASE_FAILED, "spec.vmName: "
                    + String.join("; ", problems));
            return Result.DONE;
        }
        writeRestore(ns, name, VirtualMachineRestoreStatus.PHASE_COPYING_DISKS, null);
        try {
            long bytes = copier.copyFiles(copies, uid, backup.getStatus().location);
            writeRestore(ns, name, VirtualMachineRestoreStatus.PHASE_DISKS_READY, null);
            LOG.info("restore {}/{} from backup {}: {} disk(s), {} bytes copied back", ns, name,
                    r.getSpec().backupName, copies.size(), bytes);
        } catch (DiskCopier.CopyException e) {
            writeRestore(ns, name, VirtualMachineRestoreStatus.PHASE_FAILED, e.getMessage());
        }
        return Result.DONE;
    }

    private void writeRestore(String ns, String name, String phase, String error) {
        editUnlessFinished(client.resources(VirtualMachineRestore.class).inNamespace(ns).withName(name),
                st -> st.phase, x -> {
                    if (x.getStatus() == null) {
                        x.setStatus(new VirtualMachineRestoreStatus());
                    }
                    VirtualMachineRestoreStatus s = x.getStatus();
                    s.phase = phase;
                    s.error = error;
                    if (VirtualMachineRestoreStatus.PHASE_FAILED.equals(phase)) {
                        s.complete = false;
                    }
                });
    }

    /** The copy keeps the source's format; the operator names qcow2 copies *.qcow2 and raw ones *.img. */
    private static String format(String target) {
        return target.endsWith(".qcow2") ? "qcow2" : "raw";
    }

    /** One copy per entry of {@code disks} (from -> to), in the {@link #format} of the entry's file {@code named}. */
    private static List<DiskCopier.Copy> copies(Map<String, String> disks,
                                                Function<Map.Entry<String, String>, String> named) {
        List<DiskCopier.Copy> copies = new ArrayList<>();
        for (Map.Entry<String, String> e : disks.entrySet()) {
            copies.add(new DiskCopier.Copy(e.getKey(), e.getValue(), format(named.apply(e))));
        }
        return copies;
    }

    /** The VM's Domain when it is on this host and has its UUID, else null. */
    private Domain domainHere(String ns, String vmName) {
        Domain d = client.resources(Domain.class).inNamespace(ns).withName(vmName).get();
        return d == null || d.getSpec() == null || !host.equals(d.getSpec().host) || d.getSpec().uuid == null
                ? null : d;
    }

    private void writeClone(String ns, String name, String phase, String method, String error) {
        writeClone(ns, name, phase, method, error, null);
    }

    private void writeClone(String ns, String name, String phase, String method, String error,
                            io.virtfleet.api.v1alpha1.FilesystemFreeze freeze) {
        editUnlessFinished(client.resources(VirtualMachineClone.class).inNamespace(ns).withName(name), st -> st.phase,
                x -> {
                    if (x.getStatus() == null) {
                        x.setStatus(new VirtualMachineCloneStatus());
                    }
                    VirtualMachineCloneStatus s = x.getStatus();
                    s.phase = phase;
                    s.host = host;
                    if (method != null) {
                        s.copyMethod = method;
                    }
                    if (freeze != null) {
                        s.filesystemFreeze = freeze;
                    }
                    s.error = error;
                });
    }

    private static VirtualMachineSnapshotStatus failed(String error) {
        VirtualMachineSnapshotStatus st = new VirtualMachineSnapshotStatus();
        st.phase = VirtualMachineSnapshotStatus.PHASE_FAILED;
        st.readyToUse = false;
        st.error = error;
        return st;
    }

    private void writeSnapshot(String ns, String name, VirtualMachineSnapshotStatus st) {
        editUnlessFinished(client.resources(VirtualMachineSnapshot.class).inNamespace(ns).withName(name),
                status -> status.phase, x -> x.setStatus(st));
    }

    /**
     * Edits the object's status with {@code edit} unless the status says it has {@link #finished} meanwhile: the
     * operator gave it up (its deadline), and it stays as the operator says.
     */
    private static <S, T extends CustomResource<?, S>> void editUnlessFinished(Resource<T> res,
                                                                           Function<S, String> phase,
                                                                           Consumer<T> edit) {
        res.editStatus(x -> {
            if (x.getStatus() != null && finished(phase.apply(x.getStatus()))) {
                return x;
            }
            edit.accept(x);
            return x;
        });
    }

    /**
     * Succeeded or Failed: a request's end, which the agent never overwrites (the operator gives up a request past its
     * deadline while the agent may still be at it).
     */
    static boolean finished(String phase) {
        return "Succeeded".equals(phase) || "Failed".equals(phase);
    }

    @Override
    public void close() {
        informers.forEach(SharedIndexInformer::close);
        loop.close();
        scheduler.shutdownNow();
    }
}
