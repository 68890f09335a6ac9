package io.virtfleet.agent.provision;

import io.virtfleet.agent.cloudinit.NoCloudSeed;
import io.virtfleet.agent.cloudinit.SeedImage;
import io.virtfleet.agent.image.DiskPlans;
import io.virtfleet.agent.image.DiskProvisioner;
import io.virtfleet.agent.image.ImageCache;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.DomainSpec;
import io.virtfleet.api.v1alpha1.ImageDownload;
import io.virtfleet.api.v1alpha1.VirtualMachineSpec;
import io.virtfleet.reconcilers.render.CloudInitSeeds;
import io.virtfleet.reconcilers.render.CreatedDisks;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * The host files a Domain needs before libvirt may define or start it: disks made from images (a qcow2 overlay on a
 * base in the host's {@link ImageCache}), blank disks, and the cloud-init seed its XML attaches
 * ({@link CloudInitSeeds}). What to create is planned by {@link DiskPlans} (pure); this class observes which files
 * exist, carries the plan out and reports.
 *
 * <p>Downloads run on a thread of their own, never in a sync pass: a pass that finds an image still downloading
 * reports its progress and comes back ({@link Prepared#retryAfter}); the finished download enqueues the Domain at once
 * ({@code wake}). A failed download is remembered for {@link #FAILED_RETRY} so a wrong checksum does not download the
 * image again on every pass.
 */
public final class DomainFiles implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DomainFiles.class);
    public static final Duration PROGRESS_INTERVAL = Duration.ofSeconds(2);
    public static final Duration FAILED_RETRY = Duration.ofSeconds(60);

    /** The outcome of {@link #prepare}: ready (with what it created), waiting for downloads, or failed. */
    public record Prepared(boolean ready, List<String> created, List<ImageDownload> downloads, String error,
                           Duration retryAfter) {
        static Prepared readyWith(List<String> created) {
            return new Prepared(true, List.copyOf(created), List.of(), null, null);
        }

        static Prepared waiting(List<ImageDownload> downloads) {
            return new Prepared(false, List.of(), List.copyOf(downloads), null, PROGRESS_INTERVAL);
        }

        static Prepared failed(String error, Duration retryAfter) {
            return new Prepared(false, List.of(), List.of(), error, retryAfter);
        }

        public static final Prepared NOTHING = new Prepared(true, List.of(), List.of(), null, null);
    }

    /** Reads the content of a Secret's key for the seed (the agent of the VM's host is the only reader). */
    public interface SecretSource extends AutoCloseable {
        /** The value of the first of {@code keys} present, or an error naming what is missing. */
        byte[] read(String namespace, String name, List<String> keys) throws SecretException;

        /** Releases what reading needs (a Kubernetes client of its own); nothing by default. */
        @Override
        default void close() {
        }
    }

    public static final class SecretException extends Exception {
        public SecretException(String message) {
            super(message);
        }
    }

    private final ImageCache cache;
    private final DiskProvisioner provisioner;
    private final SeedImage seeds;
    private final List<String> allowedRoots;
    private final SecretSource secrets;
    private final Clock clock;
    private final Consumer<String> wake;
    private final ExecutorService downloads;
    private final Map<String, Download> inFlight = new ConcurrentHashMap<>();
    /** Hash of the seed files last written per domain UUID: an unchanged seed is not rewritten on every pass. */
    private final Map<String, String> seedWritten = new ConcurrentHashMap<>();

    private static final class Download {
        final String url;
        final AtomicLong bytes = new AtomicLong();
        final AtomicLong total = new AtomicLong(-1);
        final Set<String> waiting = ConcurrentHashMap.newKeySet();
        volatile CompletableFuture<Path> future;
        volatile Instant failedAt;

        Download(String url) {
            this.url = url;
        }
    }

    public DomainFiles(ImageCache cache, List<String> allowedRoots, SecretSource secrets, Clock clock,
                       Consumer<String> wake) {
        this(cache, allowedRoots, secrets, clock, wake, Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "image-download");
            t.setDaemon(true);
            return t;
        }));
    }

    /** As the public constructor, with the executor downloads run on (tests hold a download back with it). */
    DomainFiles(ImageCache cache, List<String> allowedRoots, SecretSource secrets, Clock clock,
                Consumer<String> wake, ExecutorService downloads) {
        this.cache = cache;
        this.provisioner = new DiskProvisioner(cache, Duration.ofMinutes(2));
        this.seeds = new SeedImage(Duration.ofMinutes(1));
        this.allowedRoots = List.copyOf(allowedRoots);
        this.secrets = secrets;
        this.clock = clock;
        this.wake = wake;
        this.downloads = downloads;
    }

    public ImageCache cache() {
        return cache;
    }

    /** Whether the Domain needs any file made by this class (disks from images or blank, a seed). */
    public static boolean needed(DomainSpec spec) {
        return spec != null && (spec.cloudInit != null
                || spec.disks != null && spec.disks.stream().anyMatch(CreatedDisks::created));
    }

    /**
     * Makes sure every file the Domain needs exists. Never throws: problems come back as {@link Prepared#error},
     * naming the VM's field.
     */
    public Prepared prepare(Domain d, List<String> qcow2Files) {
        DomainSpec spec = d.getSpec();
        if (!needed(spec)) {
            String problem = backing(qcow2Files);
            return problem == null ? Prepared.NOTHING : Prepared.failed(problem, FAILED_RETRY);
        }
        String uuid = spec.uuid.toLowerCase(Locale.ROOT);
        List<VirtualMachineSpec.Disk> disks = spec.disks == null ? List.of() : spec.disks;
        Set<String> existing = new HashSet<>();
        Set<String> cached = new HashSet<>();
        for (VirtualMachineSpec.Disk disk : disks) {
            if (!CreatedDisks.created(disk) || disk.volume.path == null) {
                continue;
            }
            if (Files.exists(Path.of(disk.volume.path))) {
                existing.add(disk.volume.path);
            }
            if (disk.volume.image != null) {
                String format = disk.volume.image.format == null ? "qcow2" : disk.volume.image.format;
                if (Files.isRegularFile(cache.basePath(disk.volume.image.sha256, format))) {
                    String name = DiskPlans.baseName(disk.volume.image.sha256, format);
                    cached.add(name);
                    cache.used(name); // the cache keeper's eviction keeps a base used after it looked
                }
            }
        }
        List<DiskPlans.Step> steps = DiskPlans.plan(disks, existing, cached);
        List<ImageDownload> progress = new ArrayList<>();
        for (DiskPlans.Step s : steps) {
            if (s instanceof DiskPlans.Fetch f) {
                String problem = fetch(uuid, f, disks, progress);
                if (problem != null) {
                    return Prepared.failed(problem, FAILED_RETRY);
                }
            }
        }
        if (!progress.isEmpty()) {
            return Prepared.waiting(progress);
        }
        List<String> created = new ArrayList<>();
        for (DiskPlans.Step s : steps) {
            if (s instanceof DiskPlans.Fetch) {
                continue;
            }
            String disk = s instanceof DiskPlans.Overlay o ? o.disk() : ((DiskPlans.Blank) s).disk();
            String path = s instanceof DiskPlans.Overlay o ? o.path() : ((DiskPlans.Blank) s).path();
            try {
                provisioner.apply(List.of(s), ImageCache.Progress.NONE);
                created.add(path);
                LOG.info("{}/{}: created disk {} at {} ({})", d.getMetadata().getNamespace(),
                        d.getMetadata().getName(), disk, path, s instanceof DiskPlans.Overlay o
                                ? "qcow2 overlay on cached base " + cache.basePath(o.sha256(), o.baseFormat())
                                : "blank");
            } catch (ImageCache.ImageException e) {
                if (s instanceof DiskPlans.Overlay o
                        && !Files.isRegularFile(cache.basePath(o.sha256(), o.baseFormat()))) {
                    // Evicted between this pass's look and the overlay: the next pass downloads it again.
                    LOG.info("{}/{}: the base of disk {} left the image cache before its overlay was made; again in {}",
                            d.getMetadata().getNamespace(), d.getMetadata().getName(), disk, PROGRESS_INTERVAL);
                    return new Prepared(false, created, List.of(), null, PROGRESS_INTERVAL);
                }
                return new Prepared(false, created, List.of(), field(disks, disk, "volume") + ": " + e.getMessage(),
                        FAILED_RETRY);
            }
        }
        String backed = backing(qcow2Files);
        if (backed != null) {
            return new Prepared(false, created, List.of(), backed, FAILED_RETRY);
        }
        if (spec.cloudInit != null) {
            String problem = seed(d, uuid);
            if (problem != null) {
                return new Prepared(false, created, List.of(), problem, FAILED_RETRY);
            }
        }
        return Prepared.readyWith(created);
    }

    /**
     * QEMU opens the backing file a qcow2 header names with the privileges of the process: a disk whose header
     * names anything but a base in this host's image cache ({@code /etc/shadow}, another tenant's disk) is refused
     * before libvirt sees it. Files that do not exist yet are libvirt's to report.
     */
    private String backing(List<String> qcow2Files) {
        for (String f : qcow2Files) {
            if (Files.isRegularFile(Path.of(f))) {
                String problem = provisioner.backingProblem(f);
                if (problem != null) {
                    return problem;
                }
            }
        }
        return null;
    }

    /** Starts or follows the download; null while it runs or when done, else the error (naming the field). */
    private String fetch(String uuid, DiskPlans.Fetch f, List<VirtualMachineSpec.Disk> disks,
                         List<ImageDownload> progress) {
        String key = DiskPlans.baseName(f.sha256(), f.format());
        Download dl = inFlight.computeIfAbsent(key, k -> new Download(f.url()));
        synchronized (dl) {
            if (dl.future != null && dl.future.isCompletedExceptionally()) {
                if (dl.failedAt == null) {
                    dl.failedAt = clock.instant();
                }
                if (clock.instant().isBefore(dl.failedAt.plus(FAILED_RETRY))) {
                    return failed(disks, f, dl);
                }
                dl.future = null; // retried after the back-off
            }
            if (dl.future == null) {
                start(key, f, dl);
            }
            dl.waiting.add(uuid);
            if (dl.future.isDone()) {
                if (dl.future.isCompletedExceptionally()) {
                    if (dl.failedAt == null) {
                        dl.failedAt = clock.instant();
                    }
                    return failed(disks, f, dl);
                }
                return null;
            }
        }
        for (VirtualMachineSpec.Disk disk : disks) {
            if (disk.volume != null && disk.volume.image != null
                    && f.sha256().equalsIgnoreCase(disk.volume.image.sha256)) {
                ImageDownload p = new ImageDownload();
                p.disk = disk.name;
                p.url = f.url();
                p.bytes = dl.bytes.get();
                p.totalBytes = dl.total.get() >= 0 ? dl.total.get() : null;
                progress.add(p);
            }
        }
        return null;
    }

    private void start(String key, DiskPlans.Fetch f, Download dl) {
        dl.bytes.set(0);
        dl.total.set(-1);
        dl.failedAt = null;
        dl.future = CompletableFuture.supplyAsync(() -> {
            try {
                return cache.ensure(f.url(), f.sha256(), f.format(), (b, t) -> {
                    dl.bytes.set(b);
                    if (t >= 0) {
                        dl.total.set(t);
                    }
                });
            } catch (ImageCache.ImageException e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        }, downloads);
        dl.future.whenComplete((p, e) -> {
            synchronized (dl) {
                if (e != null) {
                    if (dl.failedAt == null) {
                        dl.failedAt = clock.instant();
                    }
                    LOG.warn("image {} ({}): {}", f.url(), key, failure(dl));
                } else {
                    LOG.info("image {} cached as {}", f.url(), p);
                    // Only failures are remembered; a cached base is found in the cache from now on.
                    inFlight.remove(key, dl);
                }
            }
            // Domains waiting for it sync again now, not at their next progress poll.
            List<String> waiting = List.copyOf(dl.waiting);
            dl.waiting.clear();
            waiting.forEach(wake);
        });
    }

    private static String failed(List<VirtualMachineSpec.Disk> disks, DiskPlans.Fetch f, Download dl) {
        return field(disks, diskOfImage(disks, f.sha256()), "volume.image." + failedField(dl)) + ": " + failure(dl);
    }

    private static String failure(Download dl) {
        try {
            dl.future.join();
            return "";
        } catch (java.util.concurrent.CompletionException e) {
            Throwable c = e.getCause();
            while (c instanceof java.util.concurrent.CompletionException && c.getCause() != null) {
                c = c.getCause();
            }
            return c == null ? String.valueOf(e.getMessage()) : c.getMessage();
        } catch (java.util.concurrent.CancellationException e) {
            return "the download was cancelled";
        }
    }

    /** The image field a failure is about: a checksum mismatch is sha256's, the rest (fetch, size, redirect) url's. */
    private static String failedField(Download dl) {
        return failure(dl).contains("SHA-256") ? "sha256" : "url";
    }

    private static String diskOfImage(List<VirtualMachineSpec.Disk> disks, String sha256) {
        for (VirtualMachineSpec.Disk disk : disks) {
            if (disk.volume != null && disk.volume.image != null && sha256.equalsIgnoreCase(disk.volume.image.sha256)) {
                return disk.name;
            }
        }
        return null;
    }

    /** {@code spec.disks[i].<sub>} of the disk named {@code name} (indices as in the VM: the Domain carries them all). */
    static String field(List<VirtualMachineSpec.Disk> disks, String name, String sub) {
        for (int i = 0; i < disks.size(); i++) {
            if (disks.get(i).name != null && disks.get(i).name.equals(name)) {
                return "spec.disks[" + i + "]." + sub;
            }
        }
        return "spec.disks." + sub;
    }

    /** Writes the seed when its content changed (or is not on disk); null when done, else the error. */
    private String seed(Domain d, String uuid) {
        VirtualMachineSpec.CloudInit ci = d.getSpec().cloudInit;
        String ns = d.getMetadata().getNamespace();
        String userData;
        String networkData;
        try {
            userData = ci.userDataSecretRef != null
                    ? secret("spec.cloudInit.userDataSecretRef", ns, ci.userDataSecretRef,
                    List.of("userdata", "userData"))
                    : ci.userData;
            networkData = ci.networkDataSecretRef != null
                    ? secret("spec.cloudInit.networkDataSecretRef", ns, ci.networkDataSecretRef,
                    List.of("networkdata", "networkData"))
                    : ci.networkData;
        } catch (SecretException e) {
            return e.getMessage();
        }
        Map<String, byte[]> files;
        try {
            files = NoCloudSeed.files(uuid, d.getMetadata().getName(), userData, networkData);
        } catch (IllegalArgumentException e) {
            return "spec.cloudInit: " + e.getMessage();
        }
        String hash = hash(files);
        Path iso = seedPath(uuid);
        if (hash.equals(seedWritten.get(uuid)) && Files.isRegularFile(iso)) {
            return null;
        }
        try {
            seeds.write(iso, files);
        } catch (IOException e) {
            return "spec.cloudInit: cannot write the cidata seed " + iso + ": " + e.getMessage();
        }
        seedWritten.put(uuid, hash);
        // The path only: the seed may hold a Secret's content, which never goes into a log line.
        LOG.info("{}/{}: wrote the cloud-init seed {} (instance-id {})", ns, d.getMetadata().getName(), iso, uuid);
        return null;
    }

    private String secret(String field, String namespace, VirtualMachineSpec.SecretRef ref, List<String> keys)
            throws SecretException {
        if (ref.namespace != null && !ref.namespace.equals(namespace)) {
            // The operator refuses this already; the agent never reads another namespace's Secret, whatever it is told.
            throw new SecretException(field + ".namespace: a VM reads Secrets of its own namespace only");
        }
        if (secrets == null) {
            throw new SecretException(field + ": this agent reads no Secrets");
        }
        try {
            byte[] v = secrets.read(namespace, ref.name, keys);
            if (v.length > 1024 * 1024) {
                throw new SecretException(field + ": the Secret's data is over 1 MiB");
            }
            return new String(v, StandardCharsets.UTF_8);
        } catch (SecretException e) {
            throw new SecretException(field + ": " + e.getMessage());
        }
    }

    private static String hash(Map<String, byte[]> files) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (Map.Entry<String, byte[]> f : new LinkedHashMap<>(files).entrySet()) {
                md.update(f.getKey().getBytes(StandardCharsets.UTF_8));
                md.update((byte) 0);
                md.update(Long.toString(f.getValue().length).getBytes(StandardCharsets.UTF_8));
                md.update((byte) 0);
                md.update(f.getValue());
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The status line while images download, e.g. {@code the image of disk root (12 of 300 MiB)}. Pure. */
    public static String describe(List<ImageDownload> downloads) {
        List<String> parts = new ArrayList<>();
        for (ImageDownload p : downloads) {
            long mib = (p.bytes == null ? 0 : p.bytes) >> 20;
            parts.add("disk " + p.disk + " (" + mib + (p.totalBytes != null ? " of " + (p.totalBytes >> 20) : "")
                    + " MiB)");
        }
        return "the image download of " + String.join(", ", parts);
    }

    /** {@code recorded} plus {@code created}, each path once, in order; null when both are empty. Pure. */
    public static List<String> record(List<String> recorded, List<String> created) {
        java.util.LinkedHashSet<String> all = new java.util.LinkedHashSet<>();
        if (recorded != null) {
            all.addAll(recorded);
        }
        all.addAll(created);
        return all.isEmpty() ? null : List.copyOf(all);
    }

    public Path seedPath(String uuid) {
        return Path.of(CloudInitSeeds.path(allowedRoots, uuid.toLowerCase(Locale.ROOT)));
    }

    /**
     * After the libvirt domain is gone: removes the seed and the disks this host recorded as created for the Domain
     * ({@code status.createdDisks}), never a base in the image cache (other VMs' overlays read it). Returns what
     * could not be removed (logged by the caller), empty when all went.
     */
    public List<String> remove(Domain d) {
        List<String> left = new ArrayList<>();
        String uuid = d.getSpec() == null || d.getSpec().uuid == null ? null : d.getSpec().uuid.toLowerCase(Locale.ROOT);
        List<String> created = d.getStatus() == null || d.getStatus().createdDisks == null ? List.of()
                : d.getStatus().createdDisks;
        for (String path : created) {
            if (io.virtfleet.reconcilers.validation.DiskPaths.isUnder(path, cache.root().toString())) {
                continue;
            }
            try {
                if (Files.deleteIfExists(Path.of(path))) {
                    LOG.info("{}/{}: removed disk {} (created by this host)", d.getMetadata().getNamespace(),
                            d.getMetadata().getName(), path);
                }
            } catch (IOException e) {
                left.add(path + ": " + e.getMessage());
            }
        }
        if (uuid != null) {
            seedWritten.remove(uuid);
            try {
                Files.deleteIfExists(seedPath(uuid));
            } catch (IOException e) {
                left.add(seedPath(uuid) + ": " + e.getMessage());
            }
        }
        return left;
    }

    @Override
    public void close() {
        downloads.shutdownNow();
        if (secrets != null) {
            secrets.close();
        }
    }
}
