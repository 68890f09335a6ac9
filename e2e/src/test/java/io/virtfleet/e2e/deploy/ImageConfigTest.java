package io.virtfleet.e2e.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The OCI image tarballs built by {@code mvn -Pimages -pl cli -am package} (cli/target/virtfleet-*-image.tar): their
 * config (user, entrypoint, command, ports) and the files the entrypoint needs, and that they agree with what
 * deploy/base runs them as. Skipped when the images were not built (the default build does not build them).
 */
class ImageConfigTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> ENTRYPOINT = List.of("/opt/java/bin/java", "-Djava.awt.headless=true", "-cp",
            "@/app/jib-classpath-file", "io.virtfleet.cli.Virtfleet");

    @Test
    void operatorImageRunsTheOperatorAsNonRoot() throws IOException {
        Image image = imageOf("operator", "65532:65532");
        assertThat(fieldNames(image.config().path("ExposedPorts"))).containsExactlyInAnyOrder("8080/tcp", "9090/tcp");
        runnable(image);
        assertThat(image.files()).doesNotContainKey("lib/x86_64-linux-gnu/libvirt.so.0");

        Deployment d = DeployFiles.find(DeployFiles.render(), Deployment.class, "virtfleet-operator");
        PodSpec pod = d.getSpec().getTemplate().getSpec();
        assertThat(pod.getSecurityContext().getRunAsUser() + ":" + pod.getSecurityContext().getRunAsGroup())
                .isEqualTo(image.config().path("User").asText());
        Container c = pod.getContainers().get(0);
        assertThat(c.getImage()).isEqualTo(image.ref());
        assertThat(c.getPorts()).extracting(p -> p.getContainerPort() + "/tcp")
                .allSatisfy(p -> assertThat(fieldNames(image.config().path("ExposedPorts"))).contains(p));
        assertThat(c.getArgs()).first().isEqualTo("operator");
    }

    @Test
    void agentImageRunsTheAgentAsRootWithLibvirtsClientLibrary() throws IOException {
        Image image = imageOf("agent", "0:0");
        // 8443: the console / VNC / port-forward endpoint (TLS), which the DaemonSet serves
        assertThat(fieldNames(image.config().path("ExposedPorts")))
                .containsExactlyInAnyOrder("8080/tcp", "9090/tcp", "8443/tcp");
        runnable(image);
        assertThat(image.files()).containsKey("lib/x86_64-linux-gnu/libvirt.so.0");
        // libvirt-java loads it for QEMU monitor and guest agent commands (KubeNodeTest caught its absence).
        assertThat(image.files()).containsKey("lib/x86_64-linux-gnu/libvirt-qemu.so.0");
        // qemu-img copies a stopped VM's disks (clone, backup)
        assertThat(image.files()).containsKey("usr/bin/qemu-img");
        assertThat(image.files().get("usr/bin/qemu-img") & 0111).as("qemu-img is executable").isEqualTo(0111);

        List<HasMetadata> objects = DeployFiles.render();
        PodSpec pod = DeployFiles.find(objects, DaemonSet.class, "virtfleet-agent").getSpec().getTemplate().getSpec();
        assertThat(pod.getSecurityContext().getRunAsUser()).isZero();
        Container c = pod.getContainers().get(0);
        assertThat(c.getImage()).isEqualTo(image.ref());
        assertThat(c.getPorts()).extracting(p -> p.getContainerPort() + "/tcp")
                .containsExactlyInAnyOrderElementsOf(fieldNames(image.config().path("ExposedPorts")));
        assertThat(c.getArgs()).first().isEqualTo("agent");
    }

    /**
     * The image of the CLI's {@code command} (cli/target/virtfleet-COMMAND-image.tar): named virtfleet-COMMAND, run as
     * {@code user}, the CLI's entrypoint with {@code command} as its argument.
     */
    private static Image imageOf(String command, String user) throws IOException {
        Image image = Image.read(tarball(command));
        assertThat(image.ref()).isEqualTo("virtfleet-" + command + ":0.1.0-SNAPSHOT");
        assertThat(image.config().path("User").asText()).isEqualTo(user);
        assertThat(strings(image.config().path("Entrypoint"))).isEqualTo(ENTRYPOINT);
        assertThat(strings(image.config().path("Cmd"))).containsExactly(command);
        return image;
    }

    /** What the entrypoint needs: the ELF interpreter, libc, an executable java, the classpath file, users. */
    private static void runnable(Image image) {
        Map<String, Integer> files = image.files();
        assertThat(files).containsKeys("lib64/ld-linux-x86-64.so.2", "lib/x86_64-linux-gnu/libc.so.6",
                "opt/java/lib/libjli.so", "opt/java/lib/server/libjvm.so", "opt/java/lib/modules",
                "opt/java/lib/security/cacerts", "app/jib-classpath-file", "etc/passwd", "etc/group");
        assertThat(files.get("opt/java/bin/java") & 0111).as("java is executable").isEqualTo(0111);
        assertThat(files.get("lib64/ld-linux-x86-64.so.2") & 0111).as("ld.so is executable").isEqualTo(0111);
        assertThat(files.keySet()).as("the runtime has no X11/sound/font natives (headless)")
                .noneMatch(f -> f.endsWith("libawt_xawt.so") || f.contains("libX11") || f.endsWith("libjsound.so"));
        assertThat(new String(image.content("etc/passwd"), StandardCharsets.UTF_8))
                .contains("root:x:0:0:", "nonroot:x:65532:65532:");
        String classpath = new String(image.content("app/jib-classpath-file"), StandardCharsets.UTF_8);
        assertThat(classpath).contains("/app/classes", "/app/libs/");
        // One fabric8 HTTP client (the JDK's): with two factories of equal priority fabric8 picks one at random.
        assertThat(classpath).contains("kubernetes-httpclient-jdk-")
                .doesNotContain("kubernetes-httpclient-vertx", "kubernetes-httpclient-okhttp",
                        "kubernetes-httpclient-jetty");
    }

    private static Path tarball(String flavour) {
        Path tar = DeployFiles.repoRoot().resolve("cli/target/virtfleet-" + flavour + "-image.tar");
        Assumptions.assumeTrue(Files.isRegularFile(tar),
                tar + " not built (mvn -B -Pimages -pl cli -am package -DskipTests)");
        return tar;
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    private static List<String> fieldNames(JsonNode object) {
        List<String> out = new ArrayList<>();
        object.fieldNames().forEachRemaining(out::add);
        return out;
    }

    /** An OCI image layout tarball: index.json → manifest → config and layers. */
    record Image(String ref, JsonNode config, Map<String, Integer> files, Map<String, byte[]> small) {
        static Image read(Path tarball) throws IOException {
            Map<String, byte[]> outer = new HashMap<>();
            try (InputStream in = Files.newInputStream(tarball)) {
                Tar.read(in, (name, mode, data) -> outer.put(name, data.readAllBytes()));
            }
            assertThat(new String(outer.get("oci-layout"), StandardCharsets.UTF_8)).contains("imageLayoutVersion");
            JsonNode index = JSON.readTree(outer.get("index.json"));
            assertThat(index.path("manifests")).hasSize(1);
            JsonNode desc = index.path("manifests").get(0);
            assertThat(desc.path("mediaType").asText()).isEqualTo("application/vnd.oci.image.manifest.v1+json");
            JsonNode manifest = JSON.readTree(blob(outer, desc.path("digest").asText()));
            JsonNode config = JSON.readTree(blob(outer, manifest.path("config").path("digest").asText()));
            assertThat(config.path("os").asText()).isEqualTo("linux");
            assertThat(config.path("architecture").asText()).isEqualTo("amd64");
            Map<String, Integer> files = new HashMap<>();
            Map<String, byte[]> small = new HashMap<>();
            for (JsonNode layer : manifest.path("layers")) {
                byte[] gz = blob(outer, layer.path("digest").asText());
                try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(gz))) {
                    Tar.read(in, (name, mode, data) -> {
                        String n = name.startsWith("./") ? name.substring(2) : name;
                        files.put(n, mode);
                        if (n.startsWith("etc/") || n.startsWith("app/jib-")) {
                            small.put(n, data.readAllBytes());
                        }
                    });
                }
            }
            return new Image(desc.path("annotations").path("org.opencontainers.image.ref.name").asText(),
                    config.path("config"), files, small);
        }

        byte[] content(String file) {
            assertThat(small).containsKey(file);
            return small.get(file);
        }

        private static byte[] blob(Map<String, byte[]> outer, String digest) {
            byte[] b = outer.get("blobs/" + digest.replace(':', '/'));
            assertThat(b).as("blob " + digest).isNotNull();
            return b;
        }
    }

    /** Just enough of (ustar + pax) tar to list regular files with their modes. */
    static final class Tar {
        interface Entry {
            void accept(String name, int mode, InputStream data) throws IOException;
        }

        static void read(InputStream in, Entry entry) throws IOException {
            byte[] header = new byte[512];
            String paxPath = null;
            while (in.readNBytes(header, 0, 512) == 512) {
                if (header[0] == 0) {
                    return;
                }
                String name = field(header, 0, 100);
                String prefix = field(header, 345, 155);
                if (!prefix.isEmpty()) {
                    name = prefix + "/" + name;
                }
                int mode = (int) octal(header, 100, 8);
                long size = octal(header, 124, 12);
                char type = (char) header[156];
                byte[] data = in.readNBytes((int) size);
                in.readNBytes((int) ((512 - size % 512) % 512));
                if (type == 'x') {
                    paxPath = paxValue(data, "path");
                    continue;
                }
                if (paxPath != null) {
                    name = paxPath;
                    paxPath = null;
                }
                if (type == '0' || type == 0) {
                    entry.accept(name, mode, new ByteArrayInputStream(data));
                }
            }
        }

        private static String field(byte[] h, int off, int len) {
            int end = off;
            while (end < off + len && h[end] != 0) {
                end++;
            }
            return new String(h, off, end - off, StandardCharsets.UTF_8);
        }

        private static long octal(byte[] h, int off, int len) {
            String s = field(h, off, len).trim();
            return s.isEmpty() ? 0 : Long.parseLong(s, 8);
        }

        private static String paxValue(byte[] records, String key) {
            for (String line : new String(records, StandardCharsets.UTF_8).split("\n")) {
                int sp = line.indexOf(' ');
                if (sp > 0 && line.startsWith(key + "=", sp + 1)) {
                    return line.substring(sp + 2 + key.length());
                }
            }
            return null;
        }
    }
}
