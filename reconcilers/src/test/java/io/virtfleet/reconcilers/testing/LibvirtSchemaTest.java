package io.virtfleet.reconcilers.testing;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The schema check can fail: it rejects what libvirt rejects, and a missing schema is a failure, not a skip. */
class LibvirtSchemaTest {
    @Test
    void rejectsInvalidDomains() {
        assertThat(LibvirtSchema.problems("<domain type='kvm'><name>x</name><memory>1</memory><devices>"
                + "<disk type='file' device='floppy-ish'/></devices></domain>")).isNotEmpty();
        assertThat(LibvirtSchema.problems("<domain type='vmware-esx'><name>x</name></domain>")).isNotEmpty();
        assertThat(LibvirtSchema.problems("<domain type='kvm'><name>x</name><genid>abc</genid></domain>"))
                .isNotEmpty();
    }

    @Test
    void acceptsAMinimalDomain() {
        assertThat(LibvirtSchema.problems("<domain type='qemu'><name>x</name><memory>1024</memory>"
                + "<os><type>hvm</type></os></domain>")).isEmpty();
    }

    @Test
    void aMissingSchemaFailsWithInstructions() {
        assertThatThrownBy(() -> LibvirtSchema.load(Path.of("/nonexistent/domain.rng")))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("scripts/install-libvirt")
                .hasMessageContaining(LibvirtSchema.PROPERTY);
    }
}
