package io.virtfleet.agent.image;

import com.sun.net.httpserver.HttpServer;
import io.virtfleet.api.v1alpha1.VirtualMachineSpec;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The image cache against a loopback HTTP server of the test's own and the host's real qemu-img: images made with
 * qemu-img, overlays and blank disks created on them and read back with qemu-img info.
 */
class ImageCacheTest {
    static final Duration T = Duration.ofSeconds(30);

    @TempDir
    Path dir;
    HttpServer server;
    final Map<String, byte[]> files = new ConcurrentHashMap<>();
    final Map<String, String> redirects = new ConcurrentHashMap<>();
    final Map<String, AtomicInteger> hits = new ConcurrentHashMap<>();
    volatile CountDownLatch hold = new CountDownLatch(0);

    @BeforeEach
    void serve() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(Executors.newFixedThreadPool(4));
        server.createContext("/", ex -> {
            String p = ex.getRequestURI().getPath();
            hits.computeIfAbsent(p, k -> new AtomicInteger()).incrementAndGet();
            try {
                hold.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (redirects.containsKey(p)) {
                ex.getResponseHeaders().add("Location", redirects.get(p));
                ex.sendResponseHeaders(302, -1);
            } else if (files.containsKey(p)) {
                byte[] b = files.get(p);
                ex.sendResponseHeaders(200, b.length);
                try (OutputStream o = ex.getResponseBody()) {
                    o.write(b);
                }
            } else {
                ex.sendResponseHeaders(404, -1);
            }
            ex.close();
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    String url(String path) {
        return "http://127.0.0.1:" + server.getAddress().getPort() + path;
    }

    ImageCache cache(long max) {
        return new ImageCache(dir.resolve("cache"), List.of(dir.toString()), max, T);
    }

    /** A real qcow2 image with some data in it, made by qemu-img. */
    byte[] qcow2(String name, String backing) throws IOException {
        Path p = dir.resolve(name);
        List<String> args = new ArrayList<>(List.of("create", "-q", "-f", "qcow2"));
        if (backing != null) {
            args.addAll(List.of("-b", backing, "-F", "raw"));
        }
        args.addAll(List.of(p.toString(), "16M"));
        new QemuImg(T).run(args);
        return Files.readAllBytes(p);
    }

    static String sha(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    @Test
    void concurrentVmsOfOneImageShareOneDownloadAndGetOverlaysOnTheVerifiedBase() throws Exception {
        byte[] image = qcow2("debian.qcow2", null);
        files.put("/debian.qcow2", image);
        String sha = sha(image);
        ImageCache cache = cache(1L << 30);
        hold = new CountDownLatch(1); // every caller is waiting before the one download is answered
        ExecutorService pool = Executors.newFixedThreadPool(4);
        List<Future<Path>> results = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            results.add(pool.submit(() -> cache.ensure(url("/debian.qcow2"), sha.toUpperCase(), "qcow2",
                    ImageCache.Progress.NONE)));
        }
        Thread.sleep(300);
        hold.countDown();
        for (Future<Path> f : results) {
            assertThat(f.get()).isEqualTo(cache.basePath(sha, "qcow2"));
        }
        pool.shutdown();
        assertThat(hits.get("/debian.qcow2").get()).isEqualTo(1);
        assertThat(cache.downloads()).isEqualTo(1);
        assertThat(sha(Files.readAllBytes(cache.basePath(sha, "qcow2")))).isEqualTo(sha);
        assertThat(cache.root().resolve(".partial")).isEmptyDirectory();

        // Two VMs' disks: one plan, overlays whose backing file is the base and is accepted as safe.
        DiskProvisioner provisioner = new DiskProvisioner(cache, T);
        List<VirtualMachineSpec.Disk> disks = List.of(DiskPlansTest.imageDisk("a", dir.resolve("vm/a.qcow2").toString()),
                DiskPlansTest.blank("b", dir.resolve("vm/b.qcow2").toString(), "64Mi"));
        disks.get(0).volume.image.url = url("/debian.qcow2");
        disks.get(0).volume.image.sha256 = sha;
        List<DiskPlans.Step> steps = DiskPlans.plan(disks, Set.of(), Set.of(sha + ".qcow2"));
        provisioner.apply(steps, ImageCache.Progress.NONE);
        assertThat(hits.get("/debian.qcow2").get()).as("cached: not downloaded again").isEqualTo(1);
        Optional<String> backing = new QemuImg(T).backingFile(dir.resolve("vm/a.qcow2").toString(), "qcow2");
        assertThat(backing).contains(cache.basePath(sha, "qcow2").toString());
        assertThat(BackingFiles.problem("a", backing, cache.root().toString())).isNull();
        assertThat(new QemuImg(T).run(List.of("info", "--output=json", "-f", "qcow2",
                dir.resolve("vm/b.qcow2").toString()))).contains("\"virtual-size\": " + (64L << 20));
        assertThat(new QemuImg(T).backingFile(dir.resolve("vm/b.qcow2").toString(), "qcow2")).isEmpty();
    }

    @Test
    void aWrongChecksumCachesNothingAndNamesTheField() throws Exception {
        files.put("/debian.qcow2", qcow2("debian.qcow2", null));
        ImageCache cache = cache(1L << 30);
        String wrong = "0".repeat(64);
        assertThatThrownBy(() -> cache.ensure(url("/debian.qcow2"), wrong, "qcow2", ImageCache.Progress.NONE))
                .hasMessageContaining("volume.image.sha256").hasMessageContaining("nothing was cached");
        assertThat(cache.basePath(wrong, "qcow2")).doesNotExist();
        assertThat(cache.root().resolve(".partial")).isEmptyDirectory();
    }

    @Test
    void hostileSources() throws Exception {
        byte[] image = qcow2("debian.qcow2", null);
        String sha = sha(image);
        files.put("/debian.qcow2", image);
        redirects.put("/to-etc", "file:///etc/passwd");
        redirects.put("/loop", "/loop");
        ImageCache cache = cache(1L << 30);
        assertThatThrownBy(() -> cache.ensure(url("/to-etc"), sha, "qcow2", ImageCache.Progress.NONE))
                .hasMessageContaining("redirects to file:///etc/passwd").hasMessageContaining("unsupported scheme");
        assertThatThrownBy(() -> cache.ensure(url("/loop"), sha, "qcow2", ImageCache.Progress.NONE))
                .hasMessageContaining("more than 5 redirects");
        assertThatThrownBy(() -> cache(1024).ensure(url("/debian.qcow2"), sha, "qcow2", ImageCache.Progress.NONE))
                .hasMessageContaining("is " + image.length + " bytes, over this host's image size limit of 1024 bytes "
                        + "(1 KiB, the agent's --max-image-size)").hasMessageContaining("nothing was downloaded");
        assertThatThrownBy(() -> cache.ensure("file:///etc/shadow", sha, "qcow2", ImageCache.Progress.NONE))
                .hasMessageContaining("not under an allowed disk root");
        // A qcow2 whose header names a host file as its backing file: verified checksum or not, never cached.
        byte[] evil = qcow2("evil.qcow2", "/etc/shadow");
        files.put("/evil.qcow2", evil);
        assertThatThrownBy(() -> cache.ensure(url("/evil.qcow2"), sha(evil), "qcow2", ImageCache.Progress.NONE))
                .hasMessageContaining("backing file (/etc/shadow)");
        // A symlink under the allowed root that leads out of it.
        Files.createSymbolicLink(dir.resolve("link"), Path.of("/etc"));
        assertThatThrownBy(() -> cache.ensure("file://" + dir.resolve("link/hostname"), sha, "raw",
                ImageCache.Progress.NONE)).hasMessageContaining("outside the allowed roots");
        assertThat(cache.root().toFile().list()).containsOnly(".partial");
    }

    /**
     * A server that announces no length (chunked) and sends more than the limit: the download stops at the limit, the
     * message names the limit and where it is set, and the partial file is gone; a file: URL over the limit is refused
     * from its size alone.
     */
    @Test
    void anImageOverTheSizeLimitFailsNamingTheLimitAndLeavesNoPartialFile() throws Exception {
        server.createContext("/endless", ex -> {
            ex.sendResponseHeaders(200, 0); // chunked: no Content-Length
            try (OutputStream o = ex.getResponseBody()) {
                byte[] chunk = new byte[64 << 10];
                for (int i = 0; i < 64; i++) { // 4 MiB, over the 1 MiB limit
                    o.write(chunk);
                }
            } catch (IOException stopped) {
                // the client stopped reading at its limit
            }
        });
        ImageCache cache = cache(1L << 20);
        assertThat(cache.maxBytes()).isEqualTo(1L << 20);
        assertThatThrownBy(() -> cache.ensure(url("/endless"), "a".repeat(64), "raw", ImageCache.Progress.NONE))
                .hasMessageContaining("image " + url("/endless") + " is over this host's image size limit of "
                        + (1L << 20) + " bytes (1 MiB, the agent's --max-image-size)")
                .hasMessageContaining("the download was stopped and its partial file removed");
        assertThat(cache.root().resolve(".partial")).isEmptyDirectory();
        assertThat(cache.bases()).isEmpty();

        Path big = dir.resolve("big.raw");
        Files.write(big, new byte[(1 << 20) + 1]);
        assertThatThrownBy(() -> cache.ensure("file://" + big, "b".repeat(64), "raw", ImageCache.Progress.NONE))
                .hasMessageContaining("is " + ((1 << 20) + 1) + " bytes, over this host's image size limit of "
                        + (1L << 20) + " bytes");
        assertThat(cache.root().resolve(".partial")).isEmptyDirectory();
        assertThatThrownBy(() -> cache(0)).hasMessageContaining("--max-image-size must be positive");
    }

    /** Bases are listed with their size and last use; partial files and other names are not bases. */
    @Test
    void basesAreTheVerifiedFilesWithSizeAndLastUse() throws Exception {
        byte[] image = "just bytes".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        Path local = dir.resolve("img.raw");
        Files.write(local, image);
        ImageCache cache = cache(1L << 30);
        Path base = cache.ensure("file://" + local, sha(image), "raw", ImageCache.Progress.NONE);
        Files.writeString(cache.root().resolve("README"), "not a base");
        Files.writeString(cache.root().resolve(".partial").resolve(sha(image) + ".raw.7"), "partial");
        List<CacheEviction.Base> bases = cache.bases();
        assertThat(bases).hasSize(1);
        assertThat(bases.get(0).name()).isEqualTo(base.getFileName().toString());
        assertThat(bases.get(0).bytes()).isEqualTo(image.length);
        assertThat(bases.get(0).lastUsed()).isEqualTo(cache.lastUsed(base.getFileName().toString()));
        assertThat(cache.evict(base.getFileName().toString(), java.time.Instant.now())).isTrue();
        assertThat(base).doesNotExist();
        assertThat(cache.bases()).isEmpty();
    }

    @Test
    void aFileUrlUnderAnAllowedRootIsCopiedAndReportsProgress() throws Exception {
        byte[] image = qcow2("local.qcow2", null);
        List<Long> seen = new ArrayList<>();
        ImageCache cache = cache(1L << 30);
        Path base = cache.ensure("file://" + dir.resolve("local.qcow2"), sha(image), "qcow2",
                (bytes, total) -> seen.add(bytes));
        assertThat(Files.readAllBytes(base)).isEqualTo(image);
        assertThat(seen).startsWith(0L).endsWith((long) image.length);
    }
}
