package io.virtfleet.e2e.deploy;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Deployment and the DaemonSet start {@code virtfleet operator ...} and {@code virtfleet agent ...}; every flag
 * they pass must exist, else the pods crash-loop on a real cluster while every other test stays green. Skipped
 * until the CLI has the subcommand.
 */
class CliFlagsContractTest {

    @ParameterizedTest
    @ValueSource(strings = {"operator", "agent"})
    void everyFlagTheManifestsPassExists(String subcommand) throws ReflectiveOperationException {
        CommandLine cli = cli();
        CommandLine sub = cli.getSubcommands().get(subcommand);
        Assumptions.assumeTrue(sub != null, "virtfleet has no '" + subcommand + "' subcommand yet");

        List<HasMetadata> objects = DeployFiles.render();
        Container c = subcommand.equals("operator")
                ? DeployFiles.find(objects, Deployment.class, "virtfleet-operator").getSpec().getTemplate().getSpec()
                        .getContainers().get(0)
                : DeployFiles.find(objects, DaemonSet.class, "virtfleet-agent").getSpec().getTemplate().getSpec()
                        .getContainers().get(0);
        assertThat(c.getArgs()).first().isEqualTo(subcommand);
        for (String arg : c.getArgs().subList(1, c.getArgs().size())) {
            assertThat(arg).as("manifest args of " + subcommand).startsWith("--");
            String name = arg.contains("=") ? arg.substring(0, arg.indexOf('=')) : arg;
            assertThat(sub.getCommandSpec().findOption(name))
                    .as("`virtfleet " + subcommand + "` has no option " + name + " (passed by deploy/base)").isNotNull();
        }
    }

    /** Virtfleet.commandLine() by reflection: the CLI module may not have its main class yet. */
    private static CommandLine cli() throws ReflectiveOperationException {
        Class<?> main;
        try {
            main = Class.forName("io.virtfleet.cli.Virtfleet");
        } catch (ClassNotFoundException e) {
            Assumptions.abort("io.virtfleet.cli.Virtfleet is not on the classpath");
            throw e;
        }
        return (CommandLine) main.getMethod("commandLine").invoke(null);
    }
}
