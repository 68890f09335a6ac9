package io.virtfleet.e2e.support;

import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.api.v1alpha1.VirtualMachineSpec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The cloud guest of scripts/build-cloud-guest: a Debian 12 qcow2 with systemd, cloud-init (NoCloud only) and
 * qemu-guest-agent, booted by direct kernel boot with the kernel and initramfs built beside it. Read from the
 * current.env the script installs, so a rebuilt image (a new SHA-256) is picked up without a code change.
 *
 * @param disk    the installed qcow2 (serve it to the agent, or use {@link #fileUrl()}; never boot it in place)
 * @param sha256  hex SHA-256 of {@code disk}, for {@code volume.image.sha256}
 * @param format  the disk's format, for {@code volume.image.format}
 * @param kernel  the kernel for {@code firmware.kernelBoot.kernel}
 * @param initrd  the initramfs for {@code firmware.kernelBoot.initrd}
 * @param cmdline the kernel command line (root by filesystem label, serial console)
 */
public record CloudGuest(Path disk, String sha256, String format, Path kernel, Path initrd, String cmdline) {
    /** Where scripts/build-cloud-guest installs the guest. */
    public static final Path DIR = Path.of("/var/lib/virtfleet/images/cloud-guest");

    /** The installed cloud guest; a clear error naming the script when it has not been built. */
    public static CloudGuest installed() {
        return read(DIR.resolve("current.env"));
    }

    static CloudGuest read(Path env) {
        if (!Files.isRegularFile(env)) {
            throw new IllegalStateException("the cloud guest is missing (" + env + "): run scripts/build-cloud-guest");
        }
        Map<String, String> values = new HashMap<>();
        try {
            for (String line : Files.readAllLines(env)) {
                int eq = line.indexOf('=');
                if (line.startsWith("#") || eq < 0) {
                    continue;
                }
                String value = line.substring(eq + 1);
                if (value.length() >= 2 && value.startsWith("'") && value.endsWith("'")) {
                    value = value.substring(1, value.length() - 1);
                }
                values.put(line.substring(0, eq), value);
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + env + ": " + e.getMessage(), e);
        }
        for (String key : List.of("CLOUD_GUEST_DISK", "CLOUD_GUEST_DISK_SHA256", "CLOUD_GUEST_DISK_FORMAT",
                "CLOUD_GUEST_KERNEL", "CLOUD_GUEST_INITRD", "CLOUD_GUEST_CMDLINE")) {
            if (values.getOrDefault(key, "").isEmpty()) {
                throw new IllegalStateException(env + " has no " + key + ": rebuild with scripts/build-cloud-guest");
            }
        }
        CloudGuest guest = new CloudGuest(Path.of(values.get("CLOUD_GUEST_DISK")), values.get("CLOUD_GUEST_DISK_SHA256"),
                values.get("CLOUD_GUEST_DISK_FORMAT"), Path.of(values.get("CLOUD_GUEST_KERNEL")),
                Path.of(values.get("CLOUD_GUEST_INITRD")), values.get("CLOUD_GUEST_CMDLINE"));
        for (Path p : List.of(guest.disk, guest.kernel, guest.initrd)) {
            if (!Files.isRegularFile(p)) {
                throw new IllegalStateException("the cloud guest's " + p + " is missing: run scripts/build-cloud-guest");
            }
        }
        return guest;
    }

    /** The installed disk as a {@code file://} URL (it lies under the default allowed root /var/lib/virtfleet). */
    public String fileUrl() {
        return "file://" + disk;
    }

    /**
     * A running q35 VM of this guest, 1 core, 512 MiB (cloud-init's Python needs more than the busybox guest's 256):
     * its root disk an overlay at {@code rootDisk} on the image at {@code imageUrl}, cloud-init given
     * {@code userData} (inline; null for none).
     */
    public VirtualMachine vm(String namespace, String name, String imageUrl, Path rootDisk, String userData) {
        return vm(namespace, name, "512Mi", imageUrl, sha256, format, rootDisk, userData);
    }

    /**
     * The same with {@code memory}, and the root disk's image another than the installed disk (a copy of it served
     * elsewhere, say): its SHA-256 and format as given.
     */
    public VirtualMachine vm(String namespace, String name, String memory, String imageUrl, String imageSha256,
                             String imageFormat, Path rootDisk, String userData) {
        VirtualMachine vm = Fleet.kernelBootVm(namespace, name, memory, kernel, initrd);
        VirtualMachineSpec spec = vm.getSpec();
        spec.firmware.kernelBoot.cmdline = cmdline;
        VirtualMachineSpec.Disk root = new VirtualMachineSpec.Disk();
        root.name = "root";
        root.bus = "virtio";
        root.volume = new VirtualMachineSpec.Volume();
        root.volume.path = rootDisk.toString();
        root.volume.image = new VirtualMachineSpec.Image();
        root.volume.image.url = imageUrl;
        root.volume.image.sha256 = imageSha256;
        root.volume.image.format = imageFormat;
        spec.disks.add(root);
        if (userData != null) {
            spec.cloudInit = new VirtualMachineSpec.CloudInit();
            spec.cloudInit.userData = userData;
        }
        return vm;
    }
}
