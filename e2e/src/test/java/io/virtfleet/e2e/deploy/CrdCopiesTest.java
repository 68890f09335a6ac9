package io.virtfleet.e2e.deploy;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * deploy/base/crds/ holds copies of the committed crds/*.yaml, because kustomize refuses files outside the
 * kustomization root. These copies must never go stale: a CRD changed in crds/ and not in deploy/ would install an
 * old schema on real clusters.
 */
class CrdCopiesTest {
    private static final String FIX = " (run deploy/sync-crds and list every copy in deploy/base/kustomization.yaml)";

    @Test
    void everyCommittedCrdIsCopiedByteForByte() throws IOException {
        Path crds = DeployFiles.repoRoot().resolve("crds");
        Path copies = DeployFiles.base().resolve("crds");
        List<String> committed = yamlNames(crds);
        assertThat(committed).as("committed CRDs in " + crds).isNotEmpty();
        assertThat(yamlNames(copies)).as("copies in " + copies + FIX).containsExactlyElementsOf(committed);
        for (String name : committed) {
            assertThat(Files.readString(copies.resolve(name)))
                    .as("deploy/base/crds/" + name + " is stale" + FIX)
                    .isEqualTo(Files.readString(crds.resolve(name)));
        }
    }

    @Test
    void kustomizationListsEveryCopy() throws IOException {
        String kustomization = Files.readString(DeployFiles.base().resolve("kustomization.yaml"));
        for (String name : yamlNames(DeployFiles.repoRoot().resolve("crds"))) {
            assertThat(kustomization).as("deploy/base/kustomization.yaml resources" + FIX)
                    .containsPattern("(?m)^- crds/" + java.util.regex.Pattern.quote(name) + "\\s*$");
        }
    }

    private static List<String> yamlNames(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".yaml")).sorted().toList();
        }
    }
}
