package io.virtfleet.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static io.virtfleet.cli.CliTest.run;
import static org.assertj.core.api.Assertions.assertThat;

/** The user-facing commands (vm, host, completion) without a cluster: help, completion, refusals before any request. */
class UserCommandsTest {
    static List<List<String>> leaves(CommandLine cl, List<String> path) {
        List<List<String>> out = new ArrayList<>();
        if (cl.getSubcommands().isEmpty()) {
            out.add(path);
        }
        cl.getSubcommands().forEach((name, sub) -> {
            if (sub.getCommandName().equals(name)) { // skip aliases
                List<String> p = new ArrayList<>(path);
                p.add(name);
                out.addAll(leaves(sub, p));
            }
        });
        return out;
    }

    @Test
    void everyVmAndHostCommandHasHelpWithExamples() {
        CommandLine root = Virtfleet.commandLine();
        List<List<String>> commands = new ArrayList<>();
        for (String group : List.of("vm", "host")) {
            commands.add(List.of(group));
            commands.addAll(leaves(root.getSubcommands().get(group), List.of(group)));
        }
        commands.add(List.of("completion"));
        assertThat(commands).extracting(c -> String.join(" ", c)).contains("vm start", "vm stop", "vm restart",
                "vm pause", "vm unpause", "vm list", "vm snapshot", "vm restore", "vm clone", "vm backup",
                "vm migrate", "host list", "host cordon", "host uncordon", "host drain");
        for (List<String> c : commands) {
            List<String> args = new ArrayList<>(c);
            args.add("--help");
            CliTest.Run run = run(args.toArray(String[]::new));
            assertThat(run.exitCode()).as(String.join(" ", c)).isZero();
            assertThat(run.out()).as(String.join(" ", c)).contains("Usage: virtfleet " + String.join(" ", c))
                    .contains("Examples:");
            if (c.size() > 1 && !c.get(1).equals("completion")) {
                assertThat(run.out()).as(String.join(" ", c)).contains("--kubeconfig").contains("--context")
                        .contains("-n, --namespace");
            }
        }
    }

    @Test
    void completionCoversTheCommandsAndTheirOptions() {
        CliTest.Run run = run("completion");
        assertThat(run.exitCode()).isZero();
        assertThat(run.out()).startsWith("#!/usr/bin/env bash").contains("complete -F")
                .contains("_picocli_virtfleet_vm_restart").contains("_picocli_virtfleet_host_cordon")
                .contains("--kubeconfig");
    }

    @Test
    void aMissingKubeconfigIsOneLineAndExit2() {
        CliTest.Run run = run("vm", "start", "web-1", "--kubeconfig", Path.of("no", "such", "kubeconfig").toString());
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err().lines().toList()).singleElement().asString()
                .isEqualTo("virtfleet vm start: error: --kubeconfig no/such/kubeconfig: no such file");
    }

    @Test
    void aBadTimeoutIsAUsageError() {
        CliTest.Run run = run("vm", "restart", "web-1", "--timeout", "soon");
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("'soon' is not a duration").doesNotContain("\tat ");
    }

    @Test
    void restoreNeedsExactlyOneSource() {
        CliTest.Run run = run("vm", "restore", "web-1", "--snapshot", "a", "--backup", "b");
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("mutually exclusive");
    }
}
