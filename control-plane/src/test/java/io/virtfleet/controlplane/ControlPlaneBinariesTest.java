package io.virtfleet.controlplane;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ControlPlaneBinariesTest {

    @Test
    void missingBinariesTellTheUserToRunTheInstallScript(@TempDir Path empty) {
        String before = System.getProperty(ControlPlaneBinaries.DIR_PROPERTY);
        System.setProperty(ControlPlaneBinaries.DIR_PROPERTY, empty.toString());
        try {
            assertThatThrownBy(ControlPlaneBinaries::locate)
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("scripts/install-control-plane")
                    .hasMessageContaining("kube-apiserver")
                    .hasMessageContaining(empty.toString());
        } finally {
            if (before == null) {
                System.clearProperty(ControlPlaneBinaries.DIR_PROPERTY);
            } else {
                System.setProperty(ControlPlaneBinaries.DIR_PROPERTY, before);
            }
        }
    }

    @Test
    void defaultDirMatchesTheInstallScriptLayout() {
        assertThat(ControlPlaneBinaries.defaultDir().getFileName().toString())
                .isEqualTo(ControlPlaneBinaries.K8S_VERSION + "-" + ControlPlaneBinaries.os() + "-"
                        + ControlPlaneBinaries.arch());
    }

    @Test
    void javaDefaultDirIsTheOneTheInstallScriptPrints() throws Exception {
        Path script = RepoRoot.require().resolve("scripts/install-control-plane");
        Process p = new ProcessBuilder("bash", script.toString(), "--print-dir").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes()).strip();
        assertThat(p.waitFor()).isZero();
        assertThat(Path.of(out)).isEqualTo(ControlPlaneBinaries.defaultDir());
    }

    @Test
    void crdFilesComeFromTheRepository() {
        Path root = RepoRoot.require();
        assertThat(RepoRoot.crdFiles(root)).isNotEmpty()
                .allSatisfy(p -> assertThat(p.getFileName().toString()).matches(".*\\.ya?ml"));
    }
}
