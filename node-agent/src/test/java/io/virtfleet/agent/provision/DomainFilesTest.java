package io.virtfleet.agent.provision;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.virtfleet.agent.image.DiskPlans;
import io.virtfleet.agent.image.ImageCache;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.DomainSpec;
import io.virtfleet.api.v1alpha1.DomainStatus;
import io.virtfleet.api.v1alpha1.ImageDownload;
import io.virtfleet.api.v1alpha1.VirtualMachineSpec;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link DomainFiles} with the host's real qemu-img and genisoimage in a temporary allowed root: a file:// image
 * becomes an overlay, a blank disk is made, the seed is written; a wrong checksum names the field and creates
 * nothing; removal takes what was recorded and never the cached base.
 */
class DomainFilesTest {
    static final String UUID = "6ed55b3a-f903-5948-be95-8caa32dc2c3a";

    @TempDir
    Path root;
    DomainFiles files;
    final Set<String> woken = ConcurrentHashMap.newKeySet();

    DomainFiles files(DomainFiles.SecretSource secrets) {
        List<String> roots = List.of(root.toString());
        ImageCache cache = new ImageCache(Path.of(ImageCache.rootFor(roots)), roots, 1 << 30, Duration.ofSeconds(30));
        files = new DomainFiles(cache, roots, secrets, Clock.systemUTC(), woken::add, gatedDownloads);
        return files;
    }

    /** When set, downloads submitted from then on wait until it opens: a download a test holds back. */
    volatile CountDownLatch heldGate;
    final ExecutorService gatedDownloads = new AbstractExecutorService() {
        final ExecutorService pool = Executors.newCachedThreadPool();

        @Override
        public void execute(Runnable task) {
            CountDownLatch gate = heldGate;
            pool.execute(() -> {
                try {
                    if (gate != null) {
                        gate.await();
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                task.run();
            });
        }

        @Override
        public void shutdown() {
            pool.shutdown();
        }

        @Override
        public List<Runnable> shutdownNow() {
            return pool.shutdownNow();
        }

        @Override
        public boolean isShutdown() {
            return pool.isShutdown();
        }

        @Override
        public boolean isTerminated() {
            return pool.isTerminated();
        }

        @Override
        public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
            return pool.awaitTermination(timeout, unit);
        }
    };

    @AfterEach
    void close() {
        if (files != null) {
            files.close();
        }
    }

    Domain domain(String sha) throws Exception {
        Path image = root.resolve("src.raw");
        if (!Files.exists(image)) {
            Files.write(image, new byte[1 << 20]);
        }
        VirtualMachineSpec.Disk root0 = new VirtualMachineSpec.Disk();
        root0.name = "root";
        root0.volume = new VirtualMachineSpec.Volume();
        root0.volume.path = root.resolve("vm-root.qcow2").toString();
        root0.volume.image = new VirtualMachineSpec.Image();
        root0.volume.image.url = "file://" + image;
        root0.volume.image.sha256 = sha == null ? sha256(Files.readAllBytes(image)) : sha;
        root0.volume.image.format = "raw";
        VirtualMachineSpec.Disk blank = new VirtualMachineSpec.Disk();
        blank.name = "scratch";
        blank.volume = new VirtualMachineSpec.Volume();
        blank.volume.path = root.resolve("vm-scratch.qcow2").toString();
        blank.volume.size = new Quantity("8Mi");
        Domain d = new Domain();
        d.setMetadata(new ObjectMetaBuilder().withName("web-1").withNamespace("team-a").build());
        d.setSpec(new DomainSpec());
        d.getSpec().uuid = UUID;
        d.getSpec().disks = List.of(root0, blank);
        d.getSpec().cloudInit = new VirtualMachineSpec.CloudInit();
        d.getSpec().cloudInit.userDataSecretRef = new VirtualMachineSpec.SecretRef();
        d.getSpec().cloudInit.userDataSecretRef.name = "web-1-user";
        return d;
    }

    DomainFiles.Prepared settle(DomainFiles f, Domain d) {
        DomainFiles.Prepared[] last = new DomainFiles.Prepared[1];
        Awaitility.await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).until(() -> {
            last[0] = f.prepare(d, List.of());
            return last[0].ready() || last[0].error() != null;
        });
        return last[0];
    }

    @Test
    void disksAndSeedAreMadeOnceAndRemovedWithoutTheBase() throws Exception {
        DomainFiles f = files((ns, name, keys) -> {
            assertThat(ns).isEqualTo("team-a");
            assertThat(name).isEqualTo("web-1-user");
            return "#cloud-config\nhostname: web-1\n".getBytes(StandardCharsets.UTF_8);
        });
        Domain d = domain(null);
        heldGate = new CountDownLatch(1); // the download is held back until the first pass has returned
        DomainFiles.Prepared first = f.prepare(d, List.of());
        assertThat(first.ready()).as("the download runs off the pass").isFalse();
        heldGate.countDown();
        DomainFiles.Prepared done = settle(f, d);
        assertThat(done.error()).isNull();
        assertThat(done.created()).containsExactly(root.resolve("vm-root.qcow2").toString(),
                root.resolve("vm-scratch.qcow2").toString());
        assertThat(woken).contains(UUID);
        Path seed = root.resolve("cloud-init/" + UUID + ".iso");
        assertThat(seed).isRegularFile();
        assertThat(Files.getPosixFilePermissions(seed)).hasSize(2); // rw------- (0600: it may hold a Secret)

        // A second pass: everything exists, nothing is created again.
        DomainFiles.Prepared again = f.prepare(d, List.of(root.resolve("vm-root.qcow2").toString()));
        assertThat(again.ready()).isTrue();
        assertThat(again.created()).isEmpty();

        d.setStatus(new DomainStatus());
        d.getStatus().createdDisks = done.created();
        assertThat(f.remove(d)).isEmpty();
        assertThat(root.resolve("vm-root.qcow2")).doesNotExist();
        assertThat(root.resolve("vm-scratch.qcow2")).doesNotExist();
        assertThat(seed).doesNotExist();
        assertThat(f.cache().basePath(d.getSpec().disks.get(0).volume.image.sha256, "raw")).isRegularFile();
    }

    /**
     * The cache keeper evicts a base while a pass is about to make an overlay on it (the pass found it cached, then
     * waits for the base's lock the eviction holds): the pass is not a failure, it comes back soon and downloads the
     * base again.
     */
    @Test
    void aBaseEvictedJustBeforeItsOverlayIsMadeIsFetchedAgainNotAFailure() throws Exception {
        DomainFiles f = files((ns, name, keys) -> "#cloud-config\n".getBytes(StandardCharsets.UTF_8));
        Domain d = domain(null);
        assertThat(settle(f, d).ready()).isTrue();
        Files.delete(root.resolve("vm-root.qcow2")); // the overlay is to be made again
        String base = DiskPlans.baseName(d.getSpec().disks.get(0).volume.image.sha256, "raw");
        ExecutorService pass = Executors.newSingleThreadExecutor();
        try {
            java.util.concurrent.Future<DomainFiles.Prepared> p;
            try (ImageCache.Held evicting = f.cache().hold(base)) {
                p = pass.submit(() -> f.prepare(d, List.of()));
                Thread.sleep(300); // the pass found the base and waits for its lock
                assertThat(p.isDone()).isFalse();
                Files.delete(f.cache().root().resolve(base));
            }
            DomainFiles.Prepared r = p.get(30, TimeUnit.SECONDS);
            assertThat(r.ready()).isFalse();
            assertThat(r.error()).isNull();
            assertThat(r.retryAfter()).isEqualTo(DomainFiles.PROGRESS_INTERVAL);
        } finally {
            pass.shutdownNow();
        }
        DomainFiles.Prepared again = settle(f, d);
        assertThat(again.error()).isNull();
        assertThat(again.created()).containsExactly(root.resolve("vm-root.qcow2").toString());
        assertThat(f.cache().root().resolve(base)).isRegularFile();
    }

    @Test
    void aWrongChecksumNamesTheFieldAndCreatesNothing() throws Exception {
        DomainFiles f = files((ns, name, keys) -> new byte[0]);
        Domain d = domain("0".repeat(64));
        DomainFiles.Prepared p = settle(f, d);
        assertThat(p.ready()).isFalse();
        assertThat(p.error()).startsWith("spec.disks[0].volume.image.sha256: image file://").contains("0".repeat(64));
        assertThat(root.resolve("vm-root.qcow2")).doesNotExist();
        assertThat(root.resolve("vm-scratch.qcow2")).doesNotExist();
        // Remembered: the next pass reports it without reading the image again.
        assertThat(f.prepare(d, List.of()).error()).isEqualTo(p.error());
    }

    @Test
    void aSecretThatCannotBeReadIsAFieldNamedErrorWithoutItsContent() throws Exception {
        DomainFiles f = files((ns, name, keys) -> {
            throw new DomainFiles.SecretException("Secret team-a/web-1-user does not exist");
        });
        DomainFiles.Prepared p = settle(f, domain(null));
        assertThat(p.error()).isEqualTo("spec.cloudInit.userDataSecretRef: Secret team-a/web-1-user does not exist");
        assertThat(root.resolve("cloud-init/" + UUID + ".iso")).doesNotExist();
    }

    @Test
    void aQcow2BackedOutsideTheCacheIsRefused() throws Exception {
        DomainFiles f = files(null);
        Path evil = root.resolve("evil.qcow2");
        Process p = new ProcessBuilder("qemu-img", "create", "-q", "-f", "qcow2", "-u", "-b", "/etc/shadow", "-F",
                "raw", evil.toString(), "1M").inheritIO().start();
        assertThat(p.waitFor()).isZero();
        Domain d = new Domain();
        d.setMetadata(new ObjectMetaBuilder().withName("x").withNamespace("team-a").build());
        d.setSpec(new DomainSpec());
        d.getSpec().uuid = UUID;
        assertThat(f.prepare(d, List.of(evil.toString())).error())
                .contains("has a backing file outside the image cache (/etc/shadow)");
        assertThat(f.prepare(d, List.of(root.resolve("missing.qcow2").toString())).ready()).isTrue();
    }

    @Test
    void statusHelpersArePure() {
        ImageDownload a = new ImageDownload();
        a.disk = "root";
        a.bytes = 12L << 20;
        a.totalBytes = 300L << 20;
        ImageDownload b = new ImageDownload();
        b.disk = "data";
        b.bytes = 0L;
        assertThat(DomainFiles.describe(List.of(a, b)))
                .isEqualTo("the image download of disk root (12 of 300 MiB), disk data (0 MiB)");
        assertThat(DomainFiles.record(null, List.of())).isNull();
        assertThat(DomainFiles.record(List.of("/a"), List.of("/b", "/a"))).containsExactly("/a", "/b");
        VirtualMachineSpec.Disk x = new VirtualMachineSpec.Disk();
        x.name = "x";
        VirtualMachineSpec.Disk y = new VirtualMachineSpec.Disk();
        y.name = "y";
        assertThat(DomainFiles.field(List.of(x, y), "y", "volume.image.url")).isEqualTo("spec.disks[1].volume.image.url");
    }

    static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }
}
