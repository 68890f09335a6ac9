package io.virtfleet.cli;

import picocli.AutoComplete;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** Prints picocli's bash/zsh completion script for every command and option. */
@Command(name = "completion", mixinStandardHelpOptions = true,
        description = {"Prints a shell completion script for virtfleet (bash; zsh after `autoload -U bashcompinit && "
                + "bashcompinit`)."},
        footerHeading = "%nExamples:%n",
        footer = {"  source <(./virtfleet completion)                      # this shell",
                "  ./virtfleet completion > /etc/bash_completion.d/virtfleet   # every new shell"})
final class CompletionCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        String script = AutoComplete.bash("virtfleet", spec.root().commandLine());
        spec.commandLine().getOut().print(script);
        spec.commandLine().getOut().flush();
    }
}
