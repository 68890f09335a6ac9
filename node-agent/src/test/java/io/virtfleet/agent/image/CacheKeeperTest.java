package io.virtfleet.agent.image;

import io.virtfleet.agent.MutableClock;
import io.virtfleet.agent.TestEnv;
import io.virtfleet.agent.libvirt.LibvirtConnection;
import io.virtfleet.reconcilers.domain.xml.DomainDocument;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The cache keeper on real files in a temporary cache directory, with the in-use set observed from libvirt's test
 * driver ({@code test:///default}, libvirt's in-process mock hypervisor): a defined domain whose qcow2 disk is an
 * overlay made by qemu-img on a cached base keeps that base, whatever the limit. The clock is the test's.
 */
class CacheKeeperTest {
    static final Duration T = Duration.ofSeconds(30);
    static final Duration GRACE = Duration.ofMinutes(2);
    static final Instant NOW = Instant.parse("2026-06-01T12:00:00Z");
    @RegisterExtension
    static final TestEnv.LibvirtFixture LIBVIRT = TestEnv.LibvirtFixture.connected("test:///default");

    @TempDir
    Path dir;
    final MutableClock clock = new MutableClock(NOW);
    final List<CacheKeeper.Report> reports = new CopyOnWriteArrayList<>();
    final List<String> defined = new ArrayList<>();
    ImageCache cache;
    long limit;

    @BeforeEach
    void newCache() throws Exception {
        cache = new ImageCache(dir.resolve("image-cache"), List.of(dir.toString()), 1L << 30, T, clock);
        Files.createDirectories(cache.root());
    }

    @AfterEach
    void undefine() throws Exception {
        for (String uuid : defined) {
            LIBVIRT.connection().undefine(uuid, 0);
        }
    }

    /** What libvirt's domains read, as the agent observes it. */
    CacheKeeper.InUse fromLibvirt() {
        return () -> BackingChains.basesUsedBy(LIBVIRT.connection().listAll(), cache.root().toString(),
                BackingChains.qemuImg(T));
    }

    CacheKeeper keeper(CacheKeeper.InUse inUse, String sharedRoot) {
        return new CacheKeeper(cache, inUse, () -> limit, reports::add, clock, GRACE, sharedRoot);
    }

    /** A base of {@code mib} MiB made by qemu-img (qcow2) or as plain bytes (raw), last modified {@code ago}. */
    String base(String format, int mib, Duration ago) throws Exception {
        String name = UUID.randomUUID().toString().replace("-", "").repeat(2) + "." + format;
        Path p = cache.root().resolve(name);
        if (format.equals("qcow2")) {
            new QemuImg(T).run(List.of("create", "-q", "-f", "qcow2", "-o", "preallocation=full", p.toString(),
                    mib + "M"));
        } else {
            Files.write(p, new byte[mib << 20]);
        }
        Files.setLastModifiedTime(p, FileTime.from(NOW.minus(ago)));
        return name;
    }

    /** A 2 MiB raw base a day old (past the grace period) under a 1 MiB limit: evicted unless something keeps it. */
    String unusedBaseOverTheLimit() throws Exception {
        String b = base("raw", 2, Duration.ofDays(1));
        limit = 1L << 20;
        return b;
    }

    /** Defines a test-driver domain whose disk is a qcow2 overlay (made by qemu-img) on the base. */
    String vmOn(String base) throws Exception {
        Path overlay = dir.resolve("vm-" + UUID.randomUUID() + ".qcow2");
        new QemuImg(T).run(List.of("create", "-q", "-f", "qcow2", "-b", cache.root().resolve(base).toString(),
                "-F", base.endsWith(".raw") ? "raw" : "qcow2", overlay.toString()));
        String uuid = UUID.randomUUID().toString();
        LIBVIRT.connection().define("<domain type='test'><name>vfck-" + uuid.substring(0, 8) + "</name><uuid>" + uuid
                + "</uuid><memory unit='MiB'>64</memory><os><type>hvm</type></os><devices>"
                + "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='" + overlay
                + "'/><target dev='vda' bus='virtio'/></disk></devices></domain>");
        defined.add(uuid);
        return uuid;
    }

    @Test
    void evictsTheLeastRecentlyUsedUnusedBasesAndNeverOneALibvirtDomainReads() throws Exception {
        String used = base("qcow2", 4, Duration.ofDays(3)); // the oldest, but a defined domain's overlay reads it
        String old = base("raw", 4, Duration.ofDays(2));
        String newer = base("raw", 4, Duration.ofDays(1));
        vmOn(used);
        long onDisk = Files.size(cache.root().resolve(used)) + (8L << 20);
        limit = onDisk - 1; // one unused base must go: the older one

        CacheKeeper.Report r = keeper(fromLibvirt(), null).run();

        assertThat(r.inUse()).contains(used);
        assertThat(r.evicted()).extracting(CacheEviction.Base::name).containsExactly(old);
        assertThat(cache.root().resolve(old)).doesNotExist();
        assertThat(cache.root().resolve(used)).isRegularFile();
        assertThat(cache.root().resolve(newer)).isRegularFile();
        assertThat(r.overLimit()).isFalse();
        assertThat(r.bases()).extracting(CacheEviction.Base::name).containsExactlyInAnyOrder(used, newer);
        assertThat(r.message()).contains("evicted " + old);
        assertThat(reports).containsExactly(r);

        // Nothing fits now: the unused base goes too, the one in use stays and the report says why.
        limit = 1L << 20;
        CacheKeeper.Report r2 = keeper(fromLibvirt(), null).run();
        assertThat(r2.evicted()).extracting(CacheEviction.Base::name).containsExactly(newer);
        assertThat(r2.overLimit()).isTrue();
        assertThat(r2.message()).contains("over the limit by").contains("1 in use (" + used + ")");
        assertThat(cache.root().resolve(used)).isRegularFile();
    }

    @Test
    void aBaseJustDownloadedIsKeptForTheGracePeriodThenEvicted() throws Exception {
        String fresh = base("raw", 2, Duration.ofSeconds(30));
        limit = 1L << 20;
        CacheKeeper keeper = keeper(fromLibvirt(), null);
        CacheKeeper.Report r = keeper.run();
        assertThat(r.evicted()).isEmpty();
        assertThat(r.overLimit()).isTrue();
        assertThat(r.message()).contains("1 used within the last 120 s (" + fresh + ")");

        clock.set(NOW.plus(GRACE));
        assertThat(keeper.run().evicted()).extracting(CacheEviction.Base::name).containsExactly(fresh);
        assertThat(cache.root().resolve(fresh)).doesNotExist();
    }

    @Test
    void aBaseLastSeenInUseIsKeptForTheGracePeriodAfterItsLastVmWent() throws Exception {
        String b = base("raw", 2, Duration.ofDays(1));
        String uuid = vmOn(b);
        limit = 1L << 20;
        CacheKeeper keeper = keeper(fromLibvirt(), null);
        assertThat(keeper.run().evicted()).isEmpty();
        LIBVIRT.connection().undefine(uuid, 0);
        defined.remove(uuid);
        clock.set(NOW.plusSeconds(60));
        assertThat(keeper.run().evicted()).as("seen in use a minute ago").isEmpty();
        clock.set(NOW.plus(GRACE));
        assertThat(keeper.run().evicted()).extracting(CacheEviction.Base::name).containsExactly(b);
    }

    @Test
    void nothingIsEvictedWhenWhatIsInUseCannotBeSeen() throws Exception {
        String b = unusedBaseOverTheLimit();
        CacheKeeper.Report r = keeper(() -> {
            throw new LibvirtConnection.UnavailableException("libvirtd is not reachable");
        }, null).run();
        assertThat(r.evicted()).isEmpty();
        assertThat(r.problem()).contains("cannot tell which bases are in use (libvirtd is not reachable)");
        assertThat(r.overLimit()).isTrue();
        assertThat(cache.root().resolve(b)).isRegularFile();

        CacheKeeper.Report bad = new CacheKeeper(cache, Set::of, () -> {
            throw new IllegalArgumentException("spec.imageCache.maxSize: must be positive, not 0");
        }, reports::add, clock, GRACE, null).run();
        assertThat(bad.evicted()).isEmpty();
        assertThat(bad.message()).contains("nothing evicted: spec.imageCache.maxSize: must be positive");
        assertThat(cache.root().resolve(b)).isRegularFile();
    }

    @Test
    void aCacheOnSharedStorageIsNeverEvictedByOneHost() throws Exception {
        String b = unusedBaseOverTheLimit();
        CacheKeeper.Report r = keeper(Set::of, dir.toString()).run();
        assertThat(r.evicted()).isEmpty();
        assertThat(r.shared()).isTrue();
        assertThat(r.overLimit()).isTrue();
        assertThat(r.message()).contains("on shared storage (under the shared root " + dir + ")");
        assertThat(cache.root().resolve(b)).isRegularFile();
    }

    /**
     * An overlay made on a base while the keeper observes (a VM created during the run) is made under the base's
     * lock and notes the use: the planned deletion sees it and keeps the base.
     */
    @Test
    void aBaseAVmStartedUsingDuringTheRunIsNotDeleted() throws Exception {
        String b = unusedBaseOverTheLimit();
        CacheKeeper.Report r = keeper(() -> {
            clock.set(NOW.plusSeconds(1));
            new DiskProvisioner(cache, T).apply(List.of(new DiskPlans.Overlay("root",
                    dir.resolve("late.qcow2").toString(), b.substring(0, 64), "raw")), ImageCache.Progress.NONE);
            return Set.of(); // observed before the overlay existed
        }, null).run();
        assertThat(r.evicted()).isEmpty();
        assertThat(r.message()).contains("kept " + b + " (used since");
        assertThat(cache.root().resolve(b)).isRegularFile();
    }

    /** An eviction waits for a base's lock: while an overlay is being made it cannot delete the base. */
    @Test
    void evictionWaitsForTheLockAnOverlayIsMadeUnder() throws Exception {
        String b = base("raw", 1, Duration.ofDays(1));
        CountDownLatch held = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Thread maker = new Thread(() -> {
            try (ImageCache.Held h = cache.hold(b)) {
                held.countDown();
                release.await(10, TimeUnit.SECONDS);
                clock.set(NOW.plusSeconds(5));
                cache.used(b);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        maker.start();
        assertThat(held.await(10, TimeUnit.SECONDS)).isTrue();
        boolean[] deleted = new boolean[1];
        Thread evictor = new Thread(() -> {
            try {
                deleted[0] = cache.evict(b, NOW);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        evictor.start();
        evictor.join(300);
        assertThat(evictor.isAlive()).as("waits for the lock").isTrue();
        release.countDown();
        evictor.join(10_000);
        maker.join(10_000);
        assertThat(deleted[0]).isFalse();
        assertThat(cache.root().resolve(b)).isRegularFile();
    }

    /** A running domain's live XML names its chain in {@code <backingStore>}: bases found there, not elsewhere. */
    @Test
    void backingStoresOfALiveXmlNameTheBasesInUse() throws Exception {
        String root = cache.root().toString();
        String a = "a".repeat(64) + ".qcow2";
        String xml = "<domain type='kvm'><name>x</name><devices><disk type='file' device='disk'>"
                + "<driver name='qemu' type='raw'/><source file='/elsewhere/disk.img'/>"
                + "<backingStore type='file'><format type='qcow2'/><source file='/vm/snap.qcow2'/>"
                + "<backingStore type='file'><format type='qcow2'/><source file='" + root + "/" + a + "'/>"
                + "<backingStore/></backingStore></backingStore><target dev='vda'/></disk>"
                + "<disk type='file' device='cdrom'><source file='" + root + "/.partial/" + "b".repeat(64)
                + ".raw.1'/><target dev='sda'/></disk></devices></domain>";
        assertThat(BackingChains.basesIn(DomainDocument.parse(xml), root, f -> {
            throw new AssertionError("no qcow2 disk to read: " + f);
        })).containsExactly(a);
    }
}
