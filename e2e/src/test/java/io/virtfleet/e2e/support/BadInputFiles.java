package io.virtfleet.e2e.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The files of the bad-input catalogue ({@code src/test/resources/bad-input/NN-name.yaml}) and their {@code # key:
 * value} headers. Most cases need only the catalogue's own fleet ({@code BadInputCatalogTest}); a case whose header
 * says {@code # given: <precondition>} needs a state only another fleet can make, and is run by the test class that
 * makes it ({@link #GIVEN}).
 */
public final class BadInputFiles {
    /** Preconditions a case may name in {@code # given:}, and the test class that provides each and runs its cases. */
    public static final Map<String, String> GIVEN = Map.of(
            "migration-in-flight", "io.virtfleet.e2e.migration.LiveMigrationTest");

    private BadInputFiles() {
    }

    /** The catalogue's case files, sorted by name. */
    public static List<String> names() {
        try (Stream<Path> files = Files.list(dir())) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".yaml")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The case files whose {@code # given:} is {@code given}. */
    public static List<String> given(String given) {
        return names().stream().filter(n -> given.equals(header(read(n)).get("given"))).toList();
    }

    public static String read(String file) {
        try {
            return Files.readString(dir().resolve(file));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The leading {@code # key: value} lines (lower-case keys; other comment lines are prose). */
    public static Map<String, String> header(String raw) {
        Map<String, String> header = new LinkedHashMap<>();
        for (String line : raw.split("\n")) {
            if (!line.startsWith("#")) {
                break;
            }
            int colon = line.indexOf(':');
            String key = colon < 0 ? "" : line.substring(1, colon).strip();
            if (key.matches("[a-z]+")) {
                header.put(key, line.substring(colon + 1).strip());
            }
        }
        return header;
    }

    private static Path dir() {
        try {
            return Path.of(BadInputFiles.class.getResource("/bad-input").toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
