package io.virtfleet.e2e.support;

import java.nio.file.Path;

/** Manifests of VMs that boot the busybox test guest (scripts/build-test-guest), for tests that apply their own. */
public final class TestGuestVms {
    /** Where scripts/build-test-guest installs the guest's kernel and initrd. */
    public static final Path GUEST = Path.of("/var/lib/virtfleet/images/test-guest");

    private TestGuestVms() {
    }

    /** A running kernel-boot q35 VM of the test guest, 1 core, 256 MiB, no graphics, genid auto. */
    public static String runningYaml(String namespace, String name) {
        return """
                apiVersion: virtfleet.io/v1alpha1
                kind: VirtualMachine
                metadata: {name: %s, namespace: %s}
                spec:
                  runStrategy: Always
                  hypervisor: qemu
                  genid: auto
                  cpu: {cores: 1}
                  memory: 256Mi
                  machine: q35
                  graphics: none
                  firmware:
                    kernelBoot:
                      kernel: %s
                      initrd: %s
                      cmdline: console=ttyS0 quiet
                """.formatted(name, namespace, GUEST.resolve("vmlinuz"), GUEST.resolve("initrd.img"));
    }
}
