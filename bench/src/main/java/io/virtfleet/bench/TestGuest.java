package io.virtfleet.bench;

import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.reconcilers.manifest.ManifestDocument;
import io.virtfleet.reconcilers.manifest.Manifests;
import io.virtfleet.reconcilers.render.DomainRenderer;
import io.virtfleet.reconcilers.render.HostInfo;
import io.virtfleet.reconcilers.render.RenderOptions;

import java.util.List;
import java.util.UUID;

/**
 * VirtualMachines of the project's tiny test guest (scripts/build-test-guest: Debian cloud kernel + busybox initramfs,
 * direct kernel boot under TCG, no disk), as examples/demo.yaml but smaller.
 */
public final class TestGuest {
    public static final String DIR = "/var/lib/virtfleet/images/test-guest";
    public static final String ALLOWED_ROOT = "/var/lib/virtfleet";

    private TestGuest() {
    }

    public static String yaml(String namespace, String name, int memoryMiB) {
        return """
                apiVersion: virtfleet.io/v1alpha1
                kind: VirtualMachine
                metadata:
                  name: %s
                  namespace: %s
                spec:
                  runStrategy: Always
                  hypervisor: qemu
                  genid: auto
                  cpu: {cores: 1}
                  memory: %dMi
                  machine: q35
                  graphics: none
                  firmware:
                    kernelBoot:
                      kernel: %s/vmlinuz
                      initrd: %s/initrd.img
                      cmdline: console=ttyS0 quiet no_timer_check
                """.formatted(name, namespace, memoryMiB, DIR, DIR);
    }

    public static VirtualMachine vm(String namespace, String name, int memoryMiB) {
        List<ManifestDocument> docs = Manifests.parse(yaml(namespace, name, memoryMiB));
        ManifestDocument d = docs.get(0);
        if (!d.errors().isEmpty() || d.vm() == null) {
            throw new IllegalStateException("test guest manifest is invalid: " + d.errors());
        }
        return d.vm();
    }

    /**
     * The libvirt domain XML virtfleet's operator would render for this VM on a host like {@code host} (same
     * renderer, same host settings as the operator passes), with a fresh UUID.
     */
    public static String renderedXml(String namespace, String name, int memoryMiB, HostInfo host) {
        VirtualMachine vm = vm(namespace, name, memoryMiB);
        return DomainRenderer.render(vm, host, new RenderOptions(UUID.randomUUID().toString(), null)).xml();
    }

    /** {@link #renderedXml(String, String, int, HostInfo)} for a host with the agent's defaults. */
    public static String renderedXml(String namespace, String name, int memoryMiB, String host, String prefix) {
        return renderedXml(namespace, name, memoryMiB, new HostInfo(host, List.of(ALLOWED_ROOT), prefix, null, null));
    }

    /** The libvirt domain name virtfleet gives this VM. */
    public static String domainName(String prefix, String namespace, String name) {
        return io.virtfleet.reconcilers.render.DomainNames.domainName(prefix, namespace, name);
    }
}
