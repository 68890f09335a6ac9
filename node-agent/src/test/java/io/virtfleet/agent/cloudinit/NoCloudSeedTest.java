package io.virtfleet.agent.cloudinit;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class NoCloudSeedTest {
    static final String UUID = "6f1b1b4e-2f7a-4a57-9c2e-1d3f5a7b9c0d";

    static String text(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    @Test
    void metaDataCarriesTheInstanceIdentityAndUserDataIsAlwaysThere() {
        Map<String, byte[]> f = NoCloudSeed.files(UUID, "web-1", null, null);
        assertThat(f.keySet()).containsExactly("meta-data", "user-data");
        assertThat(text(f.get("meta-data"))).isEqualTo("instance-id: " + UUID + "\nlocal-hostname: web-1\n");
        assertThat(f.get("user-data")).isEmpty();
    }

    @Test
    void networkConfigIsWrittenUnderCloudInitsFileName() {
        Map<String, byte[]> f = NoCloudSeed.files(UUID, "web-1", "#cloud-config\n", "version: 2\n");
        assertThat(f.keySet()).containsExactly("meta-data", "user-data", "network-config");
        assertThat(text(f.get("network-config"))).isEqualTo("version: 2\n");
    }

    @Test
    void noValueCanAddAMetaDataKey() {
        assertThatThrownBy(() -> NoCloudSeed.files(UUID + "\nlocal-hostname: evil", "web-1", null, null))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> NoCloudSeed.files(UUID, "web-1: x", null, null))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
