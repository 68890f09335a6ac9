package io.virtfleet.reconcilers.validation;

import io.fabric8.kubernetes.api.model.Quantity;
import io.virtfleet.api.v1alpha1.Hypervisor;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.api.v1alpha1.VirtualMachineSpec;
import io.virtfleet.reconcilers.render.DiskFormats;
import io.virtfleet.reconcilers.testing.Vms;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static io.virtfleet.api.v1alpha1.Hypervisor.KVM;
import static io.virtfleet.api.v1alpha1.Hypervisor.OPENVZ;
import static io.virtfleet.api.v1alpha1.Hypervisor.XEN;
import static org.assertj.core.api.Assertions.assertThat;

/** volume.image, volume.size and spec.cloudInit: one broken field, exactly its error. */
class ImageAndCloudInitRulesTest {
    static final String SHA = "a".repeat(64);

    record Case(String rule, Hypervisor hypervisor, Consumer<VirtualMachine> breakIt, String expected) {
        @Override
        public String toString() {
            return rule;
        }
    }

    private static Case c(String rule, Consumer<VirtualMachine> breakIt, String expected) {
        return new Case(rule, KVM, breakIt, expected);
    }

    /** The baseline: a disk from an https image, with cloud-init user data inline and network data from a Secret. */
    static VirtualMachine cloudVm(Hypervisor h) {
        VirtualMachine vm = Vms.of(h);
        vm.getMetadata().setNamespace("team-a");
        if (h != OPENVZ) {
            VirtualMachineSpec.Disk d = vm.getSpec().disks.get(0);
            d.volume.image = image("https://images.example.org/debian-12.qcow2", SHA);
            VirtualMachineSpec.Disk data = Vms.disk("data", "/var/lib/virtfleet/images/vm-1-data.qcow2");
            data.volume.size = new Quantity("10Gi");
            vm.getSpec().disks.add(data);
        }
        VirtualMachineSpec.CloudInit ci = new VirtualMachineSpec.CloudInit();
        ci.userData = "#cloud-config\nhostname: web-1\n";
        ci.networkDataSecretRef = ref("web-1-net", null);
        vm.getSpec().cloudInit = ci;
        return vm;
    }

    static VirtualMachineSpec.Image image(String url, String sha) {
        VirtualMachineSpec.Image i = new VirtualMachineSpec.Image();
        i.url = url;
        i.sha256 = sha;
        return i;
    }

    static VirtualMachineSpec.SecretRef ref(String name, String namespace) {
        VirtualMachineSpec.SecretRef r = new VirtualMachineSpec.SecretRef();
        r.name = name;
        r.namespace = namespace;
        return r;
    }

    private static VirtualMachineSpec.Volume root(VirtualMachine vm) {
        return vm.getSpec().disks.get(0).volume;
    }

    private static VirtualMachineSpec.Volume data(VirtualMachine vm) {
        return vm.getSpec().disks.get(1).volume;
    }

    private static VirtualMachineSpec.CloudInit ci(VirtualMachine vm) {
        return vm.getSpec().cloudInit;
    }

    static Stream<Case> cases() {
        String p = "spec.disks[0].volume.image";
        return Stream.of(
                c("image url scheme", vm -> root(vm).image.url = "ftp://images.example.org/d.qcow2",
                        p + ".url: unsupported scheme \"ftp\" (expected one of https://, http://, file://)"),
                c("image url without scheme", vm -> root(vm).image.url = "/var/lib/virtfleet/d.qcow2",
                        p + ".url: unsupported scheme (none) (expected one of https://, http://, file://)"),
                c("image url required", vm -> root(vm).image.url = null,
                        p + ".url: required (https://, http:// or file:///PATH under an allowed disk root)"),
                c("image url syntax", vm -> root(vm).image.url = "https://exa mple.org/d.qcow2",
                        p + ".url: is not a URL (Illegal character in authority)"),
                c("image url credentials", vm -> root(vm).image.url = "https://u:secret@example.org/d.qcow2",
                        p + ".url: must not contain credentials (user:password@)"),
                c("file url outside the allowed roots", vm -> root(vm).image.url = "file:///etc/shadow",
                        p + ".url: file path \"/etc/shadow\" is not under an allowed disk root (/var/lib/virtfleet)"),
                c("file url with dot-dot", vm -> root(vm).image.url = "file:///var/lib/virtfleet/../../etc/shadow",
                        p + ".url: file path \"/var/lib/virtfleet/../../etc/shadow\" is not normalized (no \".\" or "
                                + "\"..\" segments, no \"//\", no trailing \"/\")"),
                c("file url with a host", vm -> root(vm).image.url = "file://evil/var/lib/virtfleet/d.qcow2",
                        p + ".url: a file URL is file:///ABSOLUTE-PATH (no host, query or fragment)"),
                c("http url without host", vm -> root(vm).image.url = "http:///d.qcow2",
                        p + ".url: an http URL needs a host"),
                c("checksum required", vm -> root(vm).image.sha256 = null,
                        p + ".sha256: required (the hex SHA-256 of the image file; every download is verified "
                                + "against it)"),
                c("checksum syntax", vm -> root(vm).image.sha256 = "abc",
                        p + ".sha256: \"abc\" is not a SHA-256 (64 hex digits)"),
                c("image format", vm -> root(vm).image.format = "qcow2.xz",
                        p + ".format: unsupported image format \"qcow2.xz\" (expected one of qcow2, raw; compressed "
                                + "images are not accepted)"),
                c("overlay is qcow2", vm -> root(vm).format = "raw",
                        "spec.disks[0].volume.format: a disk made from an image is a qcow2 overlay on the cached "
                                + "base, not raw (omit format or use qcow2)"),
                c("image and size exclusive", vm -> root(vm).size = new Quantity("1Gi"),
                        "spec.disks[0].volume.size: set either image or size, not both"),
                c("image only for writable disks", vm -> vm.getSpec().disks.get(0).readOnly = true,
                        p + ": only a writable disk is created from an image or as a blank disk (a read-only disk "
                                + "must already exist at path)"),
                c("blank size positive", vm -> data(vm).size = new Quantity("0"),
                        "spec.disks[1].volume.size: must be greater than 0"),
                c("blank size bounded", vm -> data(vm).size = new Quantity("65Ti"),
                        "spec.disks[1].volume.size: must be at most 64Ti"),
                c("blank disk not a cdrom", vm -> vm.getSpec().disks.get(1).cdrom = true,
                        "spec.disks[1].volume.size: only a writable disk is created from an image or as a blank disk "
                                + "(a cdrom's media must already exist at path)"),
                c("userData over the inline limit", vm -> ci(vm).userData = "#cloud-config\n" + "x".repeat(2048),
                        "spec.cloudInit.userData: too large (2062 bytes, at most 2048 inline); put it in a Secret "
                                + "and use userDataSecretRef"),
                c("userData counted in UTF-8 bytes", vm -> ci(vm).userData = "é".repeat(1025),
                        "spec.cloudInit.userData: too large (2050 bytes, at most 2048 inline); put it in a Secret "
                                + "and use userDataSecretRef"),
                c("userData without NUL", vm -> ci(vm).userData = "#cloud-config\n\0",
                        "spec.cloudInit.userData: contains a NUL character at position 14"),
                c("userData and its Secret exclusive", vm -> ci(vm).userDataSecretRef = ref("s", null),
                        "spec.cloudInit.userData: set either userData or userDataSecretRef, not both"),
                c("networkData and its Secret exclusive", vm -> ci(vm).networkData = "version: 2\n",
                        "spec.cloudInit.networkData: set either networkData or networkDataSecretRef, not both"),
                c("Secret of another namespace", vm -> ci(vm).networkDataSecretRef = ref("web-1-net", "kube-system"),
                        "spec.cloudInit.networkDataSecretRef.namespace: a VM reads Secrets of its own namespace only "
                                + "(\"team-a\", not \"kube-system\")"),
                c("Secret namespace without the VM's", vm -> {
                    vm.getMetadata().setNamespace(null);
                    ci(vm).networkDataSecretRef = ref("web-1-net", "team-b");
                }, "spec.cloudInit.networkDataSecretRef.namespace: a VM reads Secrets of its own namespace only; "
                        + "omit namespace (or set metadata.namespace to \"team-b\")"),
                c("the seed's drive name is taken", vm -> vm.getSpec().disks.get(1).name = "cidata",
                        "spec.disks[1].name: the name \"cidata\" is the cloud-init seed's drive when spec.cloudInit "
                                + "is set; name the disk differently"),
                c("Secret name required", vm -> ci(vm).networkDataSecretRef = ref(null, null),
                        "spec.cloudInit.networkDataSecretRef.name: required"),
                c("Secret name syntax", vm -> ci(vm).networkDataSecretRef = ref("../x", null),
                        "spec.cloudInit.networkDataSecretRef.name: \"../x\" is not a Secret name (a DNS subdomain)"),
                new Case("no cdrom for openvz", OPENVZ, vm -> { },
                        "spec.cloudInit: openvz containers have no disk for the cidata seed (no block devices); "
                                + "cloudInit is not supported"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void eachRuleReportsExactlyItsError(Case c) {
        VirtualMachine vm = cloudVm(c.hypervisor());
        List<FieldError> baseline = VirtualMachineValidator.validate(vm, ValidationContext.defaults());
        c.breakIt().accept(vm);
        if (c.hypervisor() != OPENVZ) {
            assertThat(baseline).as("baseline").isEmpty();
        }
        assertThat(VirtualMachineValidator.validate(vm, ValidationContext.defaults()))
                .extracting(FieldError::toString)
                .containsExactly(c.expected());
    }

    @Test
    void fileUrlsUnderAnAllowedRootAndSecretsOfTheOwnNamespaceAreAccepted() {
        VirtualMachine vm = cloudVm(KVM);
        root(vm).image.url = "file:///var/lib/virtfleet/cache/debian-12.qcow2";
        ci(vm).networkDataSecretRef = ref("web-1-net", "team-a");
        assertThat(VirtualMachineValidator.validate(vm, ValidationContext.defaults())).isEmpty();
        vm.getSpec().hypervisor = XEN;
        vm.getSpec().machine = "xenfv";
        assertThat(VirtualMachineValidator.validate(vm, ValidationContext.defaults())).isEmpty();
    }

    @Test
    void redirectsNeverLeadToFiles() {
        assertThat(ImageUrls.redirectProblem("file:///etc/shadow"))
                .isEqualTo("unsupported scheme \"file\" (expected one of https://, http://)");
        assertThat(ImageUrls.redirectProblem("https://mirror.example.org/d.qcow2")).isNull();
    }

    @Test
    void anImageDiskIsReadAsQcow2AndBlankSizesRoundUpToSectors() {
        VirtualMachine vm = cloudVm(KVM);
        root(vm).path = "/var/lib/virtfleet/images/vm-1.img";
        assertThat(DiskFormats.of(vm.getSpec().disks.get(0))).isEqualTo("qcow2");
        assertThat(DiskSizes.bytes(new Quantity("1000"))).isEqualTo(1024);
        assertThat(DiskSizes.bytes(new Quantity("10Gi"))).isEqualTo(10L << 30);
    }
}
