package io.virtfleet.controlplane;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/** Finds the virtfleet repository root and its CRD files. */
public final class RepoRoot {
    private RepoRoot() {
    }

    /** Walks up from {@code start} to the first directory holding both {@code crds/} and {@code pom.xml}. */
    public static Optional<Path> find(Path start) {
        for (Path dir = start.toAbsolutePath().normalize(); dir != null; dir = dir.getParent()) {
            if (Files.isDirectory(dir.resolve("crds")) && Files.isRegularFile(dir.resolve("pom.xml"))) {
                return Optional.of(dir);
            }
        }
        return Optional.empty();
    }

    /** Like {@link #find(Path)} from the working directory, but throws when there is no repository above it. */
    public static Path require() {
        Path cwd = Path.of("").toAbsolutePath();
        return find(cwd).orElseThrow(() -> new IllegalStateException(
                "cannot find the virtfleet repository (a directory with crds/ and pom.xml) above " + cwd));
    }

    /**
     * The CRD manifests of a repository: the committed {@code crds/*.yaml} if there are any, else the ones the crds
     * module generates into {@code crds/target/classes/META-INF/fabric8/*.yml}. Sorted by file name.
     */
    public static List<Path> crdFiles(Path repoRoot) {
        Path crds = repoRoot.resolve("crds");
        List<Path> files = list(crds, ".yaml");
        if (files.isEmpty()) {
            files = list(crds.resolve("target/classes/META-INF/fabric8"), ".yml");
        }
        if (files.isEmpty()) {
            throw new IllegalStateException("no CRD files in " + crds + "/*.yaml nor in "
                    + crds.resolve("target/classes/META-INF/fabric8") + "/*.yml; build the crds module first");
        }
        return files;
    }

    /** All {@code *.yaml}/{@code *.yml} files directly in {@code dir}, sorted. */
    static List<Path> list(Path dir, String... suffixes) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            List<Path> out = new ArrayList<>();
            s.filter(Files::isRegularFile).filter(p -> {
                String n = p.getFileName().toString();
                for (String suffix : suffixes.length == 0 ? new String[] {".yaml", ".yml"} : suffixes) {
                    if (n.endsWith(suffix)) {
                        return true;
                    }
                }
                return false;
            }).sorted().forEach(out::add);
            return out;
        } catch (IOException e) {
            throw new IllegalStateException("cannot list " + dir, e);
        }
    }
}
