package io.virtfleet.e2e.deploy;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.virtfleet.cli.Virtfleet;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Deployment and the DaemonSet start {@code virtfleet operator ...} and {@code virtfleet agent ...}; the
 * subcommand and every flag they pass must exist, else the pods crash-loop on a real cluster while every other test
 * stays green. A renamed or removed subcommand fails here, naming the manifest that still uses the old name.
 */
class CliFlagsContractTest {

    /** The containers of deploy/base that run virtfleet's own images, as "kind/name container" → the container. */
    private record Started(String where, Container container) {
    }

    @Test
    void everySubcommandAndFlagTheManifestsPassExists() {
        CommandLine cli = Virtfleet.commandLine();
        List<Started> started = started(DeployFiles.render());
        assertThat(started).extracting(s -> s.container().getArgs().get(0))
                .as("virtfleet subcommands that deploy/base starts").containsExactlyInAnyOrder("operator", "agent");
        for (Started s : started) {
            List<String> args = s.container().getArgs();
            String subcommand = args.get(0);
            CommandLine sub = cli.getSubcommands().get(subcommand);
            assertThat(sub).as(s.where() + " runs `virtfleet " + subcommand + "`, which virtfleet does not have "
                    + "(its subcommands: " + cli.getSubcommands().keySet() + ")").isNotNull();
            for (String arg : args.subList(1, args.size())) {
                assertThat(arg).as("args of " + s.where()).startsWith("--");
                String name = arg.contains("=") ? arg.substring(0, arg.indexOf('=')) : arg;
                assertThat(sub.getCommandSpec().findOption(name))
                        .as("`virtfleet " + subcommand + "` has no option " + name + " (passed by " + s.where() + ")")
                        .isNotNull();
            }
        }
    }

    private static List<Started> started(List<HasMetadata> objects) {
        List<Started> out = new ArrayList<>();
        for (HasMetadata o : objects) {
            PodTemplateSpec template = o instanceof Deployment d ? d.getSpec().getTemplate()
                    : o instanceof DaemonSet ds ? ds.getSpec().getTemplate() : null;
            if (template == null) {
                continue;
            }
            for (Container c : template.getSpec().getContainers()) {
                if (c.getImage() != null && c.getImage().startsWith("virtfleet-")) {
                    assertThat(c.getArgs()).as(o.getKind() + "/" + o.getMetadata().getName() + " container "
                            + c.getName() + ": virtfleet's image needs a subcommand as its first arg").isNotEmpty();
                    out.add(new Started(o.getKind() + "/" + o.getMetadata().getName() + " container " + c.getName(),
                            c));
                }
            }
        }
        return out;
    }
}
