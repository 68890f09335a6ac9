package io.virtfleet.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** What a user sees from ./virtfleet: exit codes, one line per error naming the field, never a stack trace. */
class CliTest {
    private static final Path EXAMPLES = Path.of("..", "examples");

    record Run(int exitCode, String out, String err) {
    }

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = Virtfleet.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({
            "bad-genid.yaml, spec.genid",
            "bad-mac.yaml, spec.interfaces[0].macAddress",
            "dotdot-disk-path.yaml, spec.disks[0].volume.path",
            "hostile-disk-name.yaml, spec.disks[0].name",
            "multicast-mac.yaml, spec.interfaces[0].macAddress",
            "duplicate-names.yaml, spec.disks[1].name",
            "unknown-hypervisor.yaml, spec.hypervisor",
            "zero-memory.yaml, spec.memory",
            "openvz-disk-bus.yaml, spec.disks[0].bus",
    })
    void everyMalformedManifestFailsWithOneLineNamingTheField(String file, String field) {
        Path manifest = EXAMPLES.resolve("invalid").resolve(file);
        Run run = run("validate", "--quiet", manifest.toString());

        assertThat(run.exitCode()).as(run.out() + run.err()).isEqualTo(1);
        assertThat(run.out().lines().toList()).as(run.out())
                .singleElement().asString()
                .startsWith(manifest + ":doc 1: " + field + ": ");
        assertThat(run.out() + run.err()).doesNotContain("Exception").doesNotContain("\tat ");
    }

    /** `--help` of every command, down to `vm port-forward` and `host drain`, ends with examples. */
    @Test
    void everyCommandsHelpHasExamples() {
        java.util.List<String> without = new java.util.ArrayList<>();
        java.util.ArrayDeque<CommandLine> todo = new java.util.ArrayDeque<>(java.util.List.of(Virtfleet.commandLine()));
        int seen = 0;
        while (!todo.isEmpty()) {
            CommandLine c = todo.pop();
            if (c.getCommandSpec().userObject() instanceof CommandLine.HelpCommand) {
                continue;
            }
            seen++;
            if (!c.getUsageMessage().contains("Examples:")) {
                without.add(c.getCommandSpec().qualifiedName());
            }
            todo.addAll(c.getSubcommands().values());
        }
        assertThat(seen).as("commands").isGreaterThan(25);
        assertThat(without).as("commands whose --help has no examples").isEmpty();
    }

    @Test
    void everyValidExampleValidatesAndRenders() throws IOException {
        try (Stream<Path> files = Files.list(EXAMPLES)) {
            for (Path example : files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
                Run validate = run("validate", example.toString());
                assertThat(validate.exitCode()).as(example + ": " + validate.out()).isZero();

                Run render = run("render", example.toString());
                assertThat(render.exitCode()).as(example + ": " + render.err()).isZero();
                assertThat(render.out()).as(example.toString()).startsWith("<domain").contains("</domain>");
            }
        }
    }

    @Test
    void renderRefusesAVmForAnotherDriver() {
        Run run = run("render", "--host-driver", "xen", EXAMPLES.resolve("web.yaml").toString());
        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).contains("spec.hypervisor").doesNotContain("Exception");
    }

    @Test
    void unknownHostDriverIsAUsageError() {
        Run run = run("render", "--host-driver", "vmware", EXAMPLES.resolve("web.yaml").toString());
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("vmware").doesNotContain("\tat ");
    }

    @Test
    void missingFileIsOneLineNotAStackTrace() {
        Run run = run("validate", "no/such/file.yaml");
        assertThat(run.exitCode()).isEqualTo(ExitCodes.FAILURE);
        assertThat(run.err().lines().toList()).singleElement().asString()
                .contains("no such file: no/such/file.yaml");
    }

    @Test
    void everyCommandHasHelp() {
        for (String command : new String[] {"render", "validate"}) {
            Run run = run(command, "--help");
            assertThat(run.exitCode()).isZero();
            assertThat(run.out()).contains("Usage: virtfleet " + command);
        }
        assertThat(run("--help").out()).contains("render").contains("validate");
    }
}
