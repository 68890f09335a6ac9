package io.virtfleet.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.Quantity;

import java.util.ArrayList;
import java.util.List;

/**
 * What the owner of a VM declares. Absent fields mean "virtfleet's default" and are resolved at render time, never
 * written back: a GitOps repository must see exactly what it applied.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "self.hypervisor != 'openvz' || (has(self.os) && has(self.os.template))",
        message = "os.template is required for hypervisor openvz (it names the filesystem template)",
        fieldPath = ".os")
@ValidationRule(value = "!(has(self.nodeName) && has(self.hostSelector))",
        message = "set either nodeName or hostSelector, not both", fieldPath = ".nodeName")
public class VirtualMachineSpec {
    /**
     * Schema rules that only repeat the operator's syntax checks (VirtualMachineValidator), so the apiserver refuses
     * such input with a field path before anything is stored. Semantic checks (multicast MACs, paths, platform rules)
     * stay in the operator, which also sees manifests that bypass the apiserver ({@code virtfleet validate}).
     */
    static final String GUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}";
    static final String DNS_LABEL = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
    static final String MAC = "^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$";
    static final int MAX_TEXT = 4096;

    @JsonPropertyDescription("When virtfleet keeps the VM running: Always (default), Halted, Manual, RerunOnFailure or Once.")
    public RunStrategy runStrategy;

    @JsonPropertyDescription("libvirt driver family: kvm, qemu (software emulation), xen or openvz.")
    public Hypervisor hypervisor;

    @JsonPropertyDescription("Labels a Host must carry to be chosen for this VM.")
    public LabelSelector hostSelector;

    @JsonPropertyDescription("Pins the VM to the Host of this name; scheduling is skipped.")
    @Size(max = 253)
    public String nodeName;

    @JsonPropertyDescription("Firmware identity and boot: SMBIOS UUID, direct kernel boot.")
    public Firmware firmware;

    @JsonPropertyDescription("VM generation ID: auto (default; virtfleet manages it), none (no genid device), or an "
            + "explicit GUID used as the initial value.")
    @Pattern("^(auto|none|" + GUID + ")$")
    public String genid;

    @JsonPropertyDescription("Virtual CPU topology and model.")
    public Cpu cpu;

    @JsonPropertyDescription("Guest memory as a Kubernetes quantity, e.g. 2Gi.")
    public Quantity memory;

    @JsonPropertyDescription("Machine type, e.g. q35 (default for kvm/qemu) or pc.")
    @Size(max = 64)
    public String machine;

    @JsonPropertyDescription("Disks and cdroms, in boot order. Each has a unique name that identifies it for hot-plug.")
    @Size(max = 64)
    public List<Disk> disks = new ArrayList<>();

    @JsonPropertyDescription("Network interfaces. Each has a unique name that identifies it for hot-plug.")
    @Size(max = 32)
    public List<NetworkInterface> interfaces = new ArrayList<>();

    @JsonPropertyDescription("Remote display: spice (default for kvm/qemu), vnc or none.")
    public String graphics;

    @JsonPropertyDescription("Operating system: libosinfo variant for kvm/qemu, filesystem template for openvz.")
    public OperatingSystem os;

    @JsonPropertyDescription("cloud-init NoCloud data source (KubeVirt's cloudInitNoCloud shape): the VM's host writes "
            + "a cidata seed (meta-data, user-data, network-config) and attaches it as a read-only disk named cidata. "
            + "Content from a Secret is read by that host's agent only and never copied into another object.")
    public CloudInit cloudInit;

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class Firmware {
        @JsonPropertyDescription("SMBIOS UUID of the domain. When absent virtfleet derives a stable one from the VM's "
                + "namespace and name and shows it in status.uuid.")
        @Pattern("^" + GUID + "$")
        public String uuid;

        @JsonPropertyDescription("Boot a kernel and initrd directly instead of from a disk.")
        public KernelBoot kernelBoot;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class KernelBoot {
        @JsonPropertyDescription("Absolute path of the kernel image on the host, under an allowed root.")
        @Size(max = MAX_TEXT)
        public String kernel;
        @JsonPropertyDescription("Absolute path of the initrd on the host, under an allowed root.")
        @Size(max = MAX_TEXT)
        public String initrd;
        @JsonPropertyDescription("Kernel command line.")
        @Size(max = MAX_TEXT)
        public String cmdline;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class Cpu {
        @JsonPropertyDescription("Number of virtual CPUs (>= 1).")
        @Min(1)
        @Max(4096)
        public Integer cores;
        @JsonPropertyDescription("CPU model: host-passthrough (default for kvm), host-model, or a named libvirt model.")
        public String model;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class Disk {
        @JsonPropertyDescription("Unique name of the disk within the VM; kept in libvirt as the device alias ua-<name>.")
        @Size(max = 63)
        @Pattern(DNS_LABEL)
        public String name;
        @JsonPropertyDescription("The host file behind the disk.")
        public Volume volume;
        @JsonPropertyDescription("Bus: virtio (default for disks), sata (default for cdroms), scsi, usb or ide.")
        public String bus;
        @JsonPropertyDescription("Target device name in the guest, e.g. vdb. Allocated by libvirt when absent and "
                + "reported in status.devices.")
        public String target;
        @JsonPropertyDescription("A cdrom drive; its volume is the inserted media (absent: empty drive).")
        public Boolean cdrom;
        @JsonPropertyDescription("Attach read-only.")
        public Boolean readOnly;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    @ValidationRule(value = "!(has(self.image) && has(self.size))",
            message = "set either image or size, not both", fieldPath = ".size")
    public static class Volume {
        @JsonPropertyDescription("Absolute, normalized path on the host, under one of the Host's allowed disk roots.")
        @Size(max = MAX_TEXT)
        public String path;
        @JsonPropertyDescription("Image format: qcow2 or raw. Defaults to qcow2 for .qcow2 files and for disks made "
                + "from an image, raw otherwise.")
        public String format;
        @JsonPropertyDescription("Create the disk at path from this image when the file does not exist: the host "
                + "downloads the image once into its image cache (checksum verified) and path becomes a qcow2 overlay "
                + "on the cached base. Exclusive with size.")
        public Image image;
        @JsonPropertyDescription("Create a blank disk of this size at path when the file does not exist (qemu-img "
                + "create), e.g. 10Gi. Exclusive with image.")
        public Quantity size;
    }

    /** An image a host downloads into its cache; mirrors KubeVirt's DataVolume http source plus a mandatory checksum. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class Image {
        @JsonPropertyDescription("Where the image comes from: an https:// or http:// URL, or file:///PATH under one of "
                + "the Host's allowed disk roots. Redirects are followed only to https:// and http://.")
        @Required
        @Size(max = MAX_TEXT)
        @Pattern("^(https?|file)://")
        public String url;
        @JsonPropertyDescription("Hex SHA-256 of the image file (required: every download is verified against it, and "
                + "the cache is keyed by it).")
        @Required
        @Pattern("^[0-9a-fA-F]{64}$")
        public String sha256;
        @JsonPropertyDescription("Format of the image file: qcow2 (default) or raw. Compressed images are not accepted.")
        public String format;
    }

    /** cloud-init NoCloud sources, the shape of KubeVirt's cloudInitNoCloud volume. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @ValidationRule(value = "!(has(self.userData) && has(self.userDataSecretRef))",
            message = "set either userData or userDataSecretRef, not both", fieldPath = ".userData")
    @ValidationRule(value = "!(has(self.networkData) && has(self.networkDataSecretRef))",
            message = "set either networkData or networkDataSecretRef, not both", fieldPath = ".networkData")
    public static class CloudInit {
        /** Inline data is copied to every object that carries the VM's spec; larger data belongs in a Secret. */
        public static final int MAX_INLINE_BYTES = 2048;
        /** Network configuration inline; sized like KubeVirt's, room for a reasonable number of interfaces and routes. */
        public static final int MAX_INLINE_NETWORK_BYTES = 16384;

        @JsonPropertyDescription("cloud-config (or a script) inline, at most 2048 bytes; use userDataSecretRef for "
                + "larger or secret data.")
        @Size(max = MAX_INLINE_BYTES)
        public String userData;
        @JsonPropertyDescription("Secret in the VM's namespace whose key userdata (or userData) holds the user data.")
        public SecretRef userDataSecretRef;
        @JsonPropertyDescription("Network configuration (version 1 or 2) inline, at most 16384 bytes.")
        @Size(max = MAX_INLINE_NETWORK_BYTES)
        public String networkData;
        @JsonPropertyDescription("Secret in the VM's namespace whose key networkdata (or networkData) holds the "
                + "network configuration.")
        public SecretRef networkDataSecretRef;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class SecretRef {
        @JsonPropertyDescription("Name of the Secret.")
        @Required
        @Size(max = 253)
        public String name;
        @JsonPropertyDescription("Must be absent or the VM's own namespace: a VM never reads another namespace's Secret.")
        @Size(max = 63)
        public String namespace;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class NetworkInterface {
        @JsonPropertyDescription("Unique name of the interface within the VM; kept in libvirt as the alias ua-<name>.")
        @Size(max = 63)
        @Pattern(DNS_LABEL)
        public String name;
        @JsonPropertyDescription("libvirt network to connect to (exclusive with bridge).")
        public String network;
        @JsonPropertyDescription("Host bridge to connect to (exclusive with network).")
        public String bridge;
        @JsonPropertyDescription("NIC model, e.g. virtio (default for kvm/qemu), e1000e, netfront.")
        public String model;
        @JsonPropertyDescription("Unicast MAC address, e.g. 52:54:00:6b:3c:58. Allocated by libvirt when absent and "
                + "reported in status.devices.")
        @Pattern(MAC)
        public String macAddress;
        @JsonPropertyDescription("Host-side device name (tap name; for xen the vifname). Allocated when absent.")
        public String target;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class OperatingSystem {
        @JsonPropertyDescription("OpenVZ filesystem template, e.g. debian-12-x86_64.")
        @Size(max = 255)
        public String template;
        @JsonPropertyDescription("libosinfo short id or URI of the guest OS, e.g. debian12 or http://debian.org/debian/12.")
        @Size(max = 255)
        public String variant;
    }
}
