package io.virtfleet.agent.snapshot;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.virtfleet.agent.libvirt.LibvirtConnection;
import io.virtfleet.api.v1alpha1.ApiGroup;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.VirtualMachineRestore;
import io.virtfleet.api.v1alpha1.VirtualMachineRestoreStatus;
import io.virtfleet.api.v1alpha1.VirtualMachineSnapshot;
import io.virtfleet.api.v1alpha1.VirtualMachineSnapshotStatus;
import org.libvirt.LibvirtException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Executes this host's VirtualMachineSnapshots and VirtualMachineRestores: the operator validates them and labels them
 * {@code virtfleet.io/host=<host>}; this controller watches objects with its host's label, takes/reverts/deletes the
 * libvirt snapshot ({@link SnapshotOps}) and writes their status. A snapshot carries the finalizer
 * {@value #FINALIZER} while a libvirt snapshot exists for it; deleting the object deletes the libvirt snapshot.
 * One thread: snapshot work on a host is serialized.
 */
public final class SnapshotController implements AutoCloseable {
    public static final String FINALIZER = "virtfleet.io/agent-snapshot";
    private static final Logger LOG = LoggerFactory.getLogger(SnapshotController.class);

    private final KubernetesClient client;
    private final String host;
    private final SnapshotOps ops;
    private final io.virtfleet.agent.AgentMetrics metrics;
    private final ExecutorService worker;
    private final List<SharedIndexInformer<?>> informers = new ArrayList<>();

    public SnapshotController(KubernetesClient client, LibvirtConnection libvirt, String host) {
        this.client = client;
        this.host = host;
        this.ops = new SnapshotOps(libvirt);
        this.metrics = libvirt.metrics();
        this.worker = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "agent-" + host + "-snapshots");
            t.setDaemon(true);
            return t;
        });
    }

    public void start() {
        informers.add(client.resources(VirtualMachineSnapshot.class).inAnyNamespace()
                .withLabel(ApiGroup.HOST_LABEL, host).inform(handler(this::snapshot), 30_000));
        informers.add(client.resources(VirtualMachineRestore.class).inAnyNamespace()
                .withLabel(ApiGroup.HOST_LABEL, host).inform(handler(this::restore), 30_000));
    }

    private <T extends HasMetadata> ResourceEventHandler<T> handler(java.util.function.BiConsumer<String, String> work) {
        return new ResourceEventHandler<>() {
            @Override
            public void onAdd(T o) {
                submit(o);
            }

            @Override
            public void onUpdate(T old, T o) {
                submit(o);
            }

            @Override
            public void onDelete(T o, boolean unknown) {
            }

            private void submit(T o) {
                String ns = o.getMetadata().getNamespace();
                String name = o.getMetadata().getName();
                worker.execute(() -> {
                    try {
                        work.accept(ns, name);
                    } catch (RuntimeException e) {
                        LOG.warn("{} {}/{}: {}", o.getKind(), ns, name, e.getMessage(), e);
                    }
                });
            }
        };
    }

    private void snapshot(String ns, String name) {
        var res = client.resources(VirtualMachineSnapshot.class).inNamespace(ns).withName(name);
        VirtualMachineSnapshot s = res.get();
        if (s == null) {
            return;
        }
        VirtualMachineSnapshotStatus st = s.getStatus();
        boolean ours = s.getMetadata().getFinalizers() != null && s.getMetadata().getFinalizers().contains(FINALIZER);
        if (s.getMetadata().getDeletionTimestamp() != null) {
            if (ours) {
                try {
                    if (st != null && st.vmUuid != null) {
                        ops.delete(st.vmUuid, st.snapshotName != null ? st.snapshotName : name);
                    }
                } catch (LibvirtException | LibvirtConnection.UnavailableException
                         | io.virtfleet.agent.libvirt.LibvirtNative.LibvirtCallException e) {
                    LOG.warn("cannot delete libvirt snapshot {} of {}: {}", name, ns, e.getMessage());
                    return; // the periodic resync retries
                }
                res.edit(x -> {
                    x.getMetadata().getFinalizers().remove(FINALIZER);
                    return x;
                });
            }
            return;
        }
        if (st != null && (VirtualMachineSnapshotStatus.PHASE_SUCCEEDED.equals(st.phase)
                || VirtualMachineSnapshotStatus.PHASE_FAILED.equals(st.phase))) {
            return;
        }
        Domain d = client.resources(Domain.class).inNamespace(ns).withName(s.getSpec().vmName).get();
        if (d == null || d.getSpec() == null || !host.equals(d.getSpec().host) || d.getSpec().uuid == null) {
            writeSnapshot(ns, name, failed("the VM " + s.getSpec().vmName + " has no domain on host " + host));
            return;
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
            SnapshotOps.Taken t = ops.create(d.getSpec().uuid, name);
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
        } catch (LibvirtException | LibvirtConnection.UnavailableException
                 | io.virtfleet.agent.libvirt.LibvirtNative.LibvirtCallException e) {
            out = failed("libvirt: " + (e instanceof LibvirtException le ? LibvirtConnection.describe(le)
                    : e.getMessage()));
            out.host = host;
        }
        writeSnapshot(ns, name, out);
        LOG.info("snapshot {}/{} of {}: {}", ns, name, s.getSpec().vmName, out.phase);
    }

    private void restore(String ns, String name) {
        var res = client.resources(VirtualMachineRestore.class).inNamespace(ns).withName(name);
        VirtualMachineRestore r = res.get();
        if (r == null || r.getMetadata().getDeletionTimestamp() != null || r.getStatus() != null
                && r.getStatus().phase != null && !"Pending".equals(r.getStatus().phase)) {
            return;
        }
        VirtualMachineSnapshot snap = client.resources(VirtualMachineSnapshot.class).inNamespace(ns)
                .withName(r.getSpec().snapshotName).get();
        VirtualMachineRestoreStatus out = new VirtualMachineRestoreStatus();
        if (snap == null || snap.getStatus() == null || !Boolean.TRUE.equals(snap.getStatus().readyToUse)
                || !host.equals(snap.getStatus().host)) {
            out.phase = "Failed";
            out.complete = false;
            out.error = "snapshot " + r.getSpec().snapshotName + " is not ready on host " + host;
        } else {
            try {
                SnapshotOps.Reverted rv = ops.revert(snap.getStatus().vmUuid, snap.getStatus().snapshotName);
                out.phase = "Succeeded";
                out.complete = true;
                out.genid = rv.genid();
                out.previousGenid = rv.previousGenid();
                if (rv.genid() != null && !rv.genid().equals(rv.previousGenid())) {
                    metrics.genidChanged();
                }
                out.restoreTime = Instant.now().toString();
            } catch (SnapshotOps.SnapshotException e) {
                out.phase = "Failed";
                out.complete = false;
                out.error = e.getMessage();
            } catch (LibvirtException | LibvirtConnection.UnavailableException
                     | io.virtfleet.agent.libvirt.LibvirtNative.LibvirtCallException e) {
                out.phase = "Failed";
                out.complete = false;
                out.error = "libvirt: " + (e instanceof LibvirtException le ? LibvirtConnection.describe(le)
                        : e.getMessage());
            }
        }
        VirtualMachineRestoreStatus status = out;
        res.editStatus(x -> {
            x.setStatus(status);
            return x;
        });
        LOG.info("restore {}/{} of {} to {}: {} (genid {} -> {})", ns, name, r.getSpec().vmName,
                r.getSpec().snapshotName, out.phase, out.previousGenid, out.genid);
    }

    private static VirtualMachineSnapshotStatus failed(String error) {
        VirtualMachineSnapshotStatus st = new VirtualMachineSnapshotStatus();
        st.phase = VirtualMachineSnapshotStatus.PHASE_FAILED;
        st.readyToUse = false;
        st.error = error;
        return st;
    }

    private void writeSnapshot(String ns, String name, VirtualMachineSnapshotStatus st) {
        client.resources(VirtualMachineSnapshot.class).inNamespace(ns).withName(name).editStatus(x -> {
            x.setStatus(st);
            return x;
        });
    }

    @Override
    public void close() {
        informers.forEach(SharedIndexInformer::close);
        worker.shutdownNow();
        try {
            worker.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
