package io.virtfleet.e2e.cloud;

import io.fabric8.kubernetes.api.model.Condition;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.e2e.support.Fleet;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** What the classes of disks from images share: a command of this machine, the refusal of a wrong checksum. */
final class ImageChecks {
    private ImageChecks() {
    }

    /** Runs {@code cmd} (stderr with stdout), asserting it ends within 60 s with exit code 0; returns its output. */
    static String run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(String.join(" ", cmd) + ": " + out).isZero();
        return out;
    }

    /**
     * Applies {@code vm}, whose first disk's image has the checksum {@code wrong} where the served image's is
     * {@code sha256}: within {@code within} it gets a Failure naming the field and both checksums, and no libvirt
     * domain is defined for it on host a.
     */
    static void assertWrongChecksumRefused(Fleet fleet, VirtualMachine vm, String sha256, String wrong,
                                           Duration within) {
        String name = vm.getMetadata().getName();
        fleet.apply(vm);
        VirtualMachine failed = fleet.await(name, "Failure", within, v -> {
            Condition c = Fleet.conditionOf(v, "Failure");
            return c != null && "True".equals(c.getStatus());
        });
        assertThat(Fleet.conditionOf(failed, "Failure").getMessage())
                .contains("spec.disks[0].volume.image.sha256").contains(sha256).contains(wrong);
        assertThat(fleet.guest(fleet.domainName(fleet.host("a"), name)).isDefined()).isFalse();
    }
}
