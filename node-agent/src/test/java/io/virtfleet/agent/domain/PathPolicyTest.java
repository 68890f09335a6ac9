package io.virtfleet.agent.domain;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PathPolicyTest {
    @TempDir
    Path tmp;

    @Test
    void allowsFilesUnderARootExistingOrNot() throws Exception {
        Path root = Files.createDirectories(tmp.resolve("root"));
        Files.writeString(root.resolve("a.qcow2"), "");
        PathPolicy p = new PathPolicy(List.of(root.toString()));
        assertThat(p.check(root + "/a.qcow2")).isEmpty();
        assertThat(p.check(root + "/new/dir/b.qcow2")).isEmpty();
    }

    @Test
    void refusesTheRootItselfAndSiblingsWithTheSamePrefix() throws Exception {
        Path root = Files.createDirectories(tmp.resolve("root"));
        Files.createDirectories(tmp.resolve("root2"));
        PathPolicy p = new PathPolicy(List.of(root.toString()));
        assertThat(p.check(root.toString())).isPresent();
        assertThat(p.check(tmp + "/root2/x")).get().asString().contains("outside the allowed roots");
    }

    @Test
    void resolvesSymlinksOfFilesAndOfDirectories() throws Exception {
        Path root = Files.createDirectories(tmp.resolve("root"));
        Path outside = Files.createDirectories(tmp.resolve("outside"));
        Files.createSymbolicLink(root.resolve("dirlink"), outside);
        Files.createSymbolicLink(root.resolve("dangling"), outside.resolve("nothing-yet"));
        PathPolicy p = new PathPolicy(List.of(root.toString()));
        assertThat(p.check(root + "/dirlink/x.qcow2")).get().asString().contains("resolves to " + outside);
        assertThat(p.check(root + "/dangling")).get().asString().contains("resolves to " + outside);
    }

    @Test
    void aRootThatIsASymlinkIsComparedByItsRealPath() throws Exception {
        Path real = Files.createDirectories(tmp.resolve("real"));
        Path link = Files.createSymbolicLink(tmp.resolve("link"), real);
        PathPolicy p = new PathPolicy(List.of(link.toString()));
        assertThat(p.check(link + "/img.qcow2")).isEmpty();
        assertThat(p.check(real + "/img.qcow2")).isEmpty();
    }

    @Test
    void symlinkLoopsAreRefusedNotFatal() throws Exception {
        Path root = Files.createDirectories(tmp.resolve("root"));
        Files.createSymbolicLink(root.resolve("a"), root.resolve("b"));
        Files.createSymbolicLink(root.resolve("b"), root.resolve("a"));
        PathPolicy p = new PathPolicy(List.of(root.toString()));
        assertThat(p.check(root + "/a")).get().asString().contains("cannot be resolved");
    }

    @Test
    void refusesRelativeUnnormalizedAndEmptyPaths() throws Exception {
        PathPolicy p = new PathPolicy(List.of(tmp.toString()));
        assertThat(p.check("x.qcow2")).get().asString().contains("not absolute");
        assertThat(p.check(tmp + "/a/../b")).get().asString().contains("not normalized");
        assertThat(p.check(tmp + "//b")).get().asString().contains("not normalized");
        assertThat(p.check("")).isPresent();
    }

    @Test
    void rootsMustBeAbsoluteAndPresent() {
        assertThatThrownBy(() -> new PathPolicy(List.of())).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new PathPolicy(List.of("rel"))).isInstanceOf(IllegalArgumentException.class);
    }
}
