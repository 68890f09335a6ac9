package io.virtfleet.e2e.cloud;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Quantity;
import io.virtfleet.agent.AgentConfig;
import io.virtfleet.api.v1alpha1.Host;
import io.virtfleet.api.v1alpha1.HostImageCache;
import io.virtfleet.api.v1alpha1.HostImageCacheStatus;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.api.v1alpha1.VirtualMachineSpec;
import io.virtfleet.e2e.support.Fleet;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The bounded image cache on the real stack: two images served by a loopback HTTP server of the test (bytes of their
 * own, so nothing is cached from an earlier run), a Host whose {@code spec.imageCache.maxSize} fits one of them, one
 * VM on each. While both VMs exist the cache stays over its limit and says so in {@code Host.status.imageCache}; both
 * bases stay (in use). Deleting the first VM lets the agent evict its base: the file goes, an {@code ImageEvicted}
 * Event names it, the status records it, and the second VM's base and the VM itself are untouched.
 *
 * <p>The host's agent gets an allowed root of its own as its first root, so its image cache is a directory no other
 * host or test class uses (the machine's /var/lib/virtfleet/image-cache is shared by every other fleet's agents); its
 * cache keeper runs every 2 s with a 1 s grace period instead of minutes.
 */
class ImageCacheEvictionTest {
    static Fleet fleet;
    static String host;
    static Path ownRoot;
    static Path cacheDir;
    static ServedImages http;
    static final Map<String, Path> images = new ConcurrentHashMap<>();
    static final Map<String, String> shas = new ConcurrentHashMap<>();
    static final Map<String, AtomicInteger> downloads = new ConcurrentHashMap<>();
    static long imageBytes;

    @BeforeAll
    static void start() throws Exception {
        http = new ServedImages();
        for (String name : List.of("one", "two")) {
            // The test guest's data filesystem as a raw image plus one sector naming this run and image.
            Path image = Files.createTempFile("vf-e2e-evict-" + name + "-", ".raw");
            ImageChecks.run("qemu-img", "convert", "-f", "qcow2", "-O", "raw",
                    Fleet.TEST_GUEST.resolve("data.qcow2").toString(), image.toString());
            images.put(name, image);
            String sha = ServedImages.markAndHash(image, "virtfleet e2e eviction " + name + " " + UUID.randomUUID());
            shas.put(name, sha);
            downloads.put(name, new AtomicInteger());
            imageBytes = Files.size(image);
            http.serve("/images/" + name + ".raw", image, downloads.get(name));
        }
        http.start();
        fleet = Fleet.startWithAgentConfig(c -> {
            Path root = Path.of("/var/lib/virtfleet/e2e-cache-" + c.host());
            return c.withAllowedRoots(List.of(root.toString(), "/var/lib/virtfleet"))
                    .withImages(new AgentConfig.Images(32L << 30, Duration.ofSeconds(2), Duration.ofSeconds(1)));
        }, "a");
        host = fleet.host("a");
        ownRoot = Path.of("/var/lib/virtfleet/e2e-cache-" + host);
        cacheDir = ownRoot.resolve("image-cache");
        // Room for one image and a half: the second VM's download brings the cache over its limit.
        fleet.client().resources(Host.class).withName(host).edit(h -> {
            h.getSpec().imageCache = new HostImageCache(new Quantity(Long.toString(imageBytes * 3 / 2)));
            return h;
        });
    }

    @AfterAll
    static void stop() throws IOException {
        if (fleet != null) {
            fleet.close();
        }
        if (http != null) {
            http.stop(0);
        }
        for (Path p : images.values()) {
            Files.deleteIfExists(p);
        }
        if (ownRoot != null && Files.exists(ownRoot)) {
            try (Stream<Path> all = Files.walk(ownRoot)) {
                for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    static String url(String image) {
        return http.url("/images/" + image + ".raw");
    }

    static Path base(String image) {
        return cacheDir.resolve(shas.get(image) + ".raw");
    }

    /** The test guest with its data disk an overlay on the image. */
    static VirtualMachine vmOf(String name, String image) {
        VirtualMachine vm = fleet.testGuest(name);
        vm.getSpec().nodeName = host;
        VirtualMachineSpec.Disk data = vm.getSpec().disks.get(0);
        data.volume = new VirtualMachineSpec.Volume();
        data.volume.path = Fleet.IMAGES.resolve("e2e-" + fleet.namespace() + "-" + name + "-data.qcow2").toString();
        data.volume.image = new VirtualMachineSpec.Image();
        data.volume.image.url = url(image);
        data.volume.image.sha256 = shas.get(image);
        data.volume.image.format = "raw";
        return vm;
    }

    static HostImageCacheStatus awaitCacheStatus(String what, java.util.function.Predicate<HostImageCacheStatus> p) {
        HostImageCacheStatus[] last = new HostImageCacheStatus[1];
        try {
            Awaitility.await().alias(what).atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(250))
                    .until(() -> {
                        Host h = fleet.client().resources(Host.class).withName(host).get();
                        last[0] = h == null || h.getStatus() == null ? null : h.getStatus().imageCache;
                        return last[0] != null && p.test(last[0]);
                    });
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError(what + ": Host status.imageCache is "
                    + fleet.client().getKubernetesSerialization().asJson(last[0]), e);
        }
        return last[0];
    }

    static List<Event> hostEvents(String reason) {
        return fleet.client().v1().events().inNamespace("default").list().getItems().stream()
                .filter(e -> e.getInvolvedObject() != null && host.equals(e.getInvolvedObject().getName())
                        && "Host".equals(e.getInvolvedObject().getKind()) && reason.equals(e.getReason()))
                .toList();
    }

    @Test
    void theBaseOfADeletedVmIsEvictedOnceOverTheLimitAndABaseInUseNeverIs() {
        String one = shas.get("one") + ".raw";
        String two = shas.get("two") + ".raw";
        long limit = imageBytes * 3 / 2;

        fleet.apply(vmOf("evict-one", "one"));
        fleet.awaitReady("evict-one");
        assertThat(base("one")).isRegularFile();
        HostImageCacheStatus s1 = awaitCacheStatus("one base, under the limit", s -> Integer.valueOf(1).equals(s.bases)
                && Long.valueOf(limit).equals(s.limitBytes) && Boolean.FALSE.equals(s.overLimit));
        assertThat(s1.path).isEqualTo(cacheDir.toString());
        assertThat(s1.usedBytes).isEqualTo(imageBytes);
        assertThat(s1.basesInUse).isEqualTo(1);

        // The second image brings the cache over its limit; both bases are in use, so both stay, visibly.
        fleet.apply(vmOf("evict-two", "two"));
        fleet.awaitReady("evict-two");
        HostImageCacheStatus s2 = awaitCacheStatus("over the limit with two bases in use",
                s -> Integer.valueOf(2).equals(s.bases) && Boolean.TRUE.equals(s.overLimit));
        assertThat(s2.basesInUse).isEqualTo(2);
        assertThat(s2.message).contains("over the limit").contains("2 in use").contains(one).contains(two);
        assertThat(base("one")).as("in use by evict-one: never evicted").isRegularFile();
        assertThat(base("two")).isRegularFile();
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> !hostEvents("ImageCacheOverLimit").isEmpty());
        assertThat(hostEvents("ImageEvicted")).isEmpty();

        // Without its VM the first base is unused: after the grace period the next check deletes it.
        fleet.delete("evict-one");
        fleet.awaitDeleted("evict-one");
        Awaitility.await().alias("base one evicted").atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(250)).until(() -> !Files.exists(base("one")));
        HostImageCacheStatus s3 = awaitCacheStatus("one base left, evicted recorded",
                s -> Integer.valueOf(1).equals(s.bases) && s.lastEvicted != null && s.lastEvicted.contains(one));
        assertThat(s3.overLimit).isFalse();
        assertThat(s3.usedBytes).isEqualTo(imageBytes);
        assertThat(s3.lastEvictionTime).isNotNull();
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> !hostEvents("ImageEvicted").isEmpty());
        List<Event> evicted = hostEvents("ImageEvicted");
        assertThat(evicted).hasSize(1);
        assertThat(evicted.get(0).getType()).isEqualTo("Normal");
        assertThat(evicted.get(0).getMessage()).contains(one).contains(cacheDir.toString())
                .contains("no disk on this host uses it");

        // The base still in use, its VM and its download count are untouched.
        assertThat(base("two")).isRegularFile();
        assertThat(fleet.guest(fleet.get("evict-two")).state()).isEqualTo("running");
        assertThat(downloads.get("one").get()).isEqualTo(1);
        assertThat(downloads.get("two").get()).isEqualTo(1);
    }
}
