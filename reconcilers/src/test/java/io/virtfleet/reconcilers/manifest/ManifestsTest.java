package io.virtfleet.reconcilers.manifest;

import io.virtfleet.api.v1alpha1.Hypervisor;
import io.virtfleet.api.v1alpha1.RunStrategy;
import io.virtfleet.reconcilers.validation.FieldError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

class ManifestsTest {
    static final String HEAD = """
            apiVersion: virtfleet.io/v1alpha1
            kind: VirtualMachine
            metadata: {name: vm-1, namespace: default}
            """;

    @Test
    void readsAMultiDocumentStream() {
        List<ManifestDocument> docs = Manifests.parse("""
                apiVersion: v1
                kind: Namespace
                metadata: {name: vms}
                ---
                apiVersion: virtfleet.io/v1alpha1
                kind: VirtualMachine
                metadata: {name: web-1, namespace: vms}
                spec:
                  runStrategy: Halted
                  hypervisor: kvm
                  memory: 2Gi
                  disks:
                  - {name: root, volume: {path: /var/lib/virtfleet/images/web-1.qcow2}, bus: virtio}
                ---
                ---
                apiVersion: kubevirt.io/v1
                kind: VirtualMachine
                metadata: {name: kubevirt-vm}
                spec: {running: true}
                ---
                apiVersion: virtfleet.io/v1alpha1
                kind: VirtualMachine
                metadata: {name: web-2}
                spec: {hypervisor: qemu, memory: 1Gi}
                """);
        assertThat(docs).extracting(ManifestDocument::index, ManifestDocument::kind, ManifestDocument::skipped)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple(1, "Namespace", true),
                        org.assertj.core.groups.Tuple.tuple(2, "VirtualMachine", false),
                        org.assertj.core.groups.Tuple.tuple(3, "VirtualMachine", true),
                        org.assertj.core.groups.Tuple.tuple(4, "VirtualMachine", false));
        ManifestDocument web1 = docs.get(1);
        assertThat(web1.ok()).isTrue();
        assertThat(web1.vm().getMetadata().getNamespace()).isEqualTo("vms");
        assertThat(web1.vm().getSpec().hypervisor).isEqualTo(Hypervisor.KVM);
        assertThat(web1.vm().getSpec().runStrategy).isEqualTo(RunStrategy.Halted);
        assertThat(web1.vm().getSpec().memory.toString()).isEqualTo("2Gi");
        assertThat(web1.vm().getSpec().disks.get(0).volume.path).isEqualTo("/var/lib/virtfleet/images/web-1.qcow2");
        assertThat(docs.get(3).vm().getSpec().hypervisor).isEqualTo(Hypervisor.QEMU);
    }

    record Case(String name, String yaml, List<String> expected) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Case> errors() {
        return Stream.of(
                new Case("unknown enum value", HEAD + "spec: {hypervisor: vmware, memory: 1Gi}",
                        List.of("spec.hypervisor: unknown value \"vmware\", expected one of kvm, qemu, xen, openvz")),
                new Case("unknown runStrategy", HEAD + "spec: {hypervisor: kvm, runStrategy: Sometimes}",
                        List.of("spec.runStrategy: unknown value \"Sometimes\", expected one of Always, Halted, Manual, "
                                + "RerunOnFailure, Once")),
                new Case("unknown field", HEAD + """
                        spec:
                          hypervisor: kvm
                          disks:
                          - {name: root, sise: 10Gi}
                        """, List.of("spec.disks[0].sise: unknown field")),
                new Case("unknown top-level spec field", HEAD + "spec: {hypervisor: kvm, running: true}",
                        List.of("spec.running: unknown field")),
                new Case("bad type: string for an integer", HEAD + "spec: {cpu: {cores: two}}",
                        List.of("spec.cpu.cores: expected an integer, got \"two\"")),
                new Case("bad type: decimal for an integer", HEAD + "spec: {cpu: {cores: 1.5}}",
                        List.of("spec.cpu.cores: expected an integer, got 1.5")),
                new Case("bad type: scalar for a list", HEAD + "spec: {disks: root}",
                        List.of("spec.disks: expected a list, got a string")),
                new Case("bad type: list for an object", HEAD + "spec: {cpu: [1, 2]}",
                        List.of("spec.cpu: expected an object, got a list")),
                new Case("mapping carries on after a list where an object belongs",
                        HEAD + "spec: {cpu: [1, [2]], genid: {a: b}, graphics: vnc, sise: 1}",
                        List.of("spec.cpu: expected an object, got a list",
                                "spec.genid: expected a string, got an object",
                                "spec.sise: unknown field")),
                new Case("bad type: object for a string", HEAD + "spec: {genid: {auto: true}}",
                        List.of("spec.genid: expected a string, got an object")),
                new Case("every problem, not just the first", HEAD + """
                        spec:
                          hypervisor: vmware
                          cpu: {cores: two}
                          interfaces:
                          - {name: lan, netwrok: default}
                        """, List.of(
                        "spec.hypervisor: unknown value \"vmware\", expected one of kvm, qemu, xen, openvz",
                        "spec.cpu.cores: expected an integer, got \"two\"",
                        "spec.interfaces[0].netwrok: unknown field")),
                new Case("missing kind", "apiVersion: virtfleet.io/v1alpha1\nmetadata: {name: x}\n",
                        List.of("kind: required")),
                new Case("wrong version of our group", "apiVersion: virtfleet.io/v1\nkind: VirtualMachine\n",
                        List.of("apiVersion: unsupported version \"virtfleet.io/v1\" (expected virtfleet.io/v1alpha1)")),
                new Case("not a mapping", "- a\n- b\n",
                        List.of(": a manifest document must be a mapping, not ARRAY")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("errors")
    void mappingProblemsBecomeFieldErrors(Case c) {
        List<ManifestDocument> docs = Manifests.parse(c.yaml());
        assertThat(docs).hasSize(1);
        assertThat(docs.get(0).vm()).isNull();
        assertThat(docs.get(0).errors()).extracting(FieldError::toString).containsExactlyElementsOf(c.expected());
    }

    @Test
    void syntaxErrorsAreReportedNotThrown() {
        List<ManifestDocument> docs = Manifests.parse(HEAD + "spec: {hypervisor: kvm\n---\nkind: Other\n");
        assertThat(docs).hasSize(1);
        assertThat(docs.get(0).errors()).singleElement().satisfies(e -> {
            assertThat(e.field()).isEmpty();
            assertThat(e.message()).startsWith("YAML syntax error at line");
        });
    }

    @Test
    void duplicateKeysAreErrors() {
        List<ManifestDocument> docs = Manifests.parse(HEAD + "spec: {hypervisor: kvm, hypervisor: xen}\n");
        assertThat(docs).singleElement().satisfies(d -> assertThat(d.errors()).singleElement()
                .satisfies(e -> assertThat(e.message()).contains("hypervisor")));
    }

    @Test
    void hostileInputIsBounded() {
        assertThat(Manifests.parse(null)).isEmpty();
        assertThat(Manifests.parse("")).isEmpty();
        assertThat(Manifests.parse("x".repeat(Manifests.MAX_INPUT_CHARS + 1))).singleElement()
                .satisfies(d -> assertThat(d.errors()).singleElement()
                        .satisfies(e -> assertThat(e.message()).startsWith("manifest too large")));
        String aliases = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                + "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                + "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
                + "g: [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n";
        assertThat(Manifests.parse(aliases)).singleElement().satisfies(d -> assertThat(d.ok()).isFalse());
        assertThat(Manifests.parse("[".repeat(10_000))).singleElement()
                .satisfies(d -> assertThat(d.errors()).isNotEmpty());
    }

    @Test
    void everyKindOfTheCrdsIsKnown() throws java.io.IOException {
        java.util.Set<String> kinds = new java.util.TreeSet<>();
        try (var files = java.nio.file.Files.list(java.nio.file.Path.of("..", "crds"))) {
            for (java.nio.file.Path f : files.filter(p -> p.toString().endsWith(".yaml")).toList()) {
                String yaml = java.nio.file.Files.readString(f);
                java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?m)^    kind: (\\w+)$").matcher(yaml);
                assertThat(m.find()).as(f + " names its kind").isTrue();
                kinds.add(m.group(1));
            }
        }
        assertThat(kinds).isNotEmpty();
        assertThat(Manifests.KINDS.keySet()).as("Manifests.KINDS lists every CRD, or validate calls it a typo")
                .containsExactlyInAnyOrderElementsOf(kinds);
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource(nullValues = "-", value = {
            "virtfleet.io/v1alpha1, VirtualMachin, error",
            "virtfleet.io/v1alpha1, Widget, error",
            "-, VirtualMachne, error",
            "virtfleet.i0/v1alpha1, VirtualMachine, error",
            "virtfleet.io/v1alpha1, VirtualMachineSnapshot, ok",
            "kubevirt.io/v1, VirtualMachine, skipped",
            "kubevirt.io/v1, VirtualMachineInstance, skipped",
            "v1, ConfigMap, skipped",
            "-, Service, skipped",
    })
    void nearMissesOfOurKindsAreErrorsOtherApisAreSkipped(String apiVersion, String kind, String outcome) {
        String yaml = (apiVersion == null ? "" : "apiVersion: " + apiVersion + "\n") + "kind: " + kind
                + "\nmetadata: {name: x}\n" + (kind.equals("VirtualMachineSnapshot") ? "spec: {vmName: web}\n" : "");
        ManifestDocument d = Manifests.parse(yaml).get(0);
        switch (outcome) {
            case "error" -> assertThat(d.errors()).as(d.toString()).isNotEmpty();
            case "ok" -> assertThat(d.ok()).as(d.toString()).isTrue();
            default -> assertThat(d.skipped()).as(d.toString()).isTrue();
        }
    }
}
