package io.virtfleet.reconcilers.examples;

import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.reconcilers.manifest.ManifestDocument;
import io.virtfleet.reconcilers.manifest.Manifests;
import io.virtfleet.reconcilers.render.DomainRenderer;
import io.virtfleet.reconcilers.render.DomainXml;
import io.virtfleet.reconcilers.render.HostInfo;
import io.virtfleet.reconcilers.render.Identity;
import io.virtfleet.reconcilers.render.RenderOptions;
import io.virtfleet.reconcilers.testing.LibvirtSchema;
import io.virtfleet.reconcilers.validation.FieldError;
import io.virtfleet.reconcilers.validation.ValidationContext;
import io.virtfleet.reconcilers.validation.VirtualMachineValidator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every manifest in examples/ is a valid VirtualMachine in namespace default that renders to schema-valid domain XML;
 * every manifest in examples/invalid/ yields exactly the errors its "# expect:" lines state, no more.
 */
class ExamplesTest {
    static final Path EXAMPLES = Path.of("..", "examples");
    static final String EXPECT = "# expect: ";

    static Stream<Path> valid() throws IOException {
        try (Stream<Path> s = Files.list(EXAMPLES)) {
            return s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList().stream();
        }
    }

    static Stream<Path> invalid() throws IOException {
        try (Stream<Path> s = Files.list(EXAMPLES.resolve("invalid"))) {
            return s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList().stream();
        }
    }

    @Test
    void theExamplesAreThere() throws IOException {
        assertThat(valid().map(p -> p.getFileName().toString()))
                .contains("web.yaml", "qemu.yaml", "xen.yaml", "openvz.yaml", "seed-004.yaml");
        assertThat(invalid().count()).isGreaterThanOrEqualTo(7);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("valid")
    void validExampleRendersToSchemaValidXml(Path file) throws IOException {
        List<VirtualMachine> vms = new ArrayList<>();
        for (ManifestDocument d : Manifests.parse(Files.readString(file))) {
            assertThat(d.errors()).as("%s document %d", file, d.index()).isEmpty();
            if (d.vm() != null) {
                vms.add(d.vm());
            }
        }
        assertThat(vms).as(file.toString()).isNotEmpty();
        for (VirtualMachine vm : vms) {
            assertThat(vm.getMetadata().getNamespace()).isEqualTo("default");
            assertThat(VirtualMachineValidator.validate(vm, ValidationContext.defaults())).isEmpty();
            DomainXml out = DomainRenderer.render(vm, HostInfo.defaults("node-a"),
                    new RenderOptions(Identity.uuidFor(vm), null));
            LibvirtSchema.assertValid(out.xml());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalid")
    void invalidExampleYieldsExactlyItsExpectedErrors(Path file) throws IOException {
        String yaml = Files.readString(file);
        List<String> expected = yaml.lines().filter(l -> l.startsWith(EXPECT))
                .map(l -> l.substring(EXPECT.length())).toList();
        assertThat(expected).as("%s states its expected errors", file).isNotEmpty();
        List<String> actual = new ArrayList<>();
        for (ManifestDocument d : Manifests.parse(yaml)) {
            d.errors().forEach(e -> actual.add(e.toString()));
            if (d.vm() != null) {
                assertThat(d.vm().getMetadata().getNamespace()).isEqualTo("default");
                VirtualMachineValidator.validate(d.vm(), ValidationContext.defaults())
                        .forEach(e -> actual.add(e.toString()));
            }
        }
        assertThat(actual).containsExactlyElementsOf(expected);
    }

    @Test
    void errorsPrintAsFieldColonMessage() {
        assertThat(new FieldError("spec.memory", "must be greater than 0")).hasToString(
                "spec.memory: must be greater than 0");
    }
}
