package io.virtfleet.agent.domain;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PathPolicyTest {
    @TempDir
    Path tmp;
    /** The allowed root of most cases, and the policy allowing it alone. */
    Path root;
    PathPolicy p;

    @BeforeEach
    void oneRoot() throws IOException {
        root = Files.createDirectories(tmp.resolve("root"));
        p = new PathPolicy(List.of(root.toString()));
    }

    @Test
    void allowsFilesUnderARootExistingOrNot() throws Exception {
        Files.writeString(root.resolve("a.qcow2"), "");
        assertThat(p.check(root + "/a.qcow2")).isEmpty();
        assertThat(p.check(root + "/new/dir/b.qcow2")).isEmpty();
    }

    @Test
    void refusesTheRootItselfAndSiblingsWithTheSamePrefix() throws Exception {
        Files.createDirectories(tmp.resolve("root2"));
        assertThat(p.check(root.toString())).isPresent();
        assertThat(p.check(tmp + "/root2/x")).get().asString().contains("outside the allowed roots");
    }

    @Test
    void resolvesSymlinksOfFilesAndOfDirectories() throws Exception {
        Path outside = Files.createDirectories(tmp.resolve("outside"));
        Files.createSymbolicLink(root.resolve("dirlink"), outside);
        Files.createSymbolicLink(root.resolve("dangling"), outside.resolve("nothing-yet"));
        assertThat(p.check(root + "/dirlink/x.qcow2")).get().asString().contains("resolves to " + outside);
        assertThat(p.check(root + "/dangling")).get().asString().contains("resolves to " + outside);
    }

    @Test
    void aRootThatIsASymlinkIsComparedByItsRealPath() throws Exception {
        Path real = Files.createDirectories(tmp.resolve("real"));
        Path link = Files.createSymbolicLink(tmp.resolve("link"), real);
        PathPolicy linked = new PathPolicy(List.of(link.toString()));
        assertThat(linked.check(link + "/img.qcow2")).isEmpty();
        assertThat(linked.check(real + "/img.qcow2")).isEmpty();
    }

    @Test
    void symlinkLoopsAreRefusedNotFatal() throws Exception {
        Files.createSymbolicLink(root.resolve("a"), root.resolve("b"));
        Files.createSymbolicLink(root.resolve("b"), root.resolve("a"));
        assertThat(p.check(root + "/a")).get().asString().contains("cannot be resolved");
    }

    @Test
    void refusesRelativeUnnormalizedAndEmptyPaths() throws Exception {
        PathPolicy tmpRoot = new PathPolicy(List.of(tmp.toString()));
        assertThat(tmpRoot.check("x.qcow2")).get().asString().contains("not absolute");
        assertThat(tmpRoot.check(tmp + "/a/../b")).get().asString().contains("not normalized");
        assertThat(tmpRoot.check(tmp + "//b")).get().asString().contains("not normalized");
        assertThat(tmpRoot.check("")).isPresent();
    }

    @Test
    void rootsMustBeAbsoluteAndPresent() {
        assertThatThrownBy(() -> new PathPolicy(List.of())).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new PathPolicy(List.of("rel"))).isInstanceOf(IllegalArgumentException.class);
    }
}
