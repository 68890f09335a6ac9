package io.virtfleet.e2e.badinput;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.RunStrategy;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.controlplane.KubectlResult;
import io.virtfleet.e2e.support.BadInputFiles;
import io.virtfleet.e2e.support.Fleet;
import io.virtfleet.e2e.support.LibvirtGuest;
import io.virtfleet.e2e.support.StartFleet;
import io.virtfleet.reconcilers.manifest.KindRules;
import io.virtfleet.reconcilers.manifest.ManifestDocument;
import io.virtfleet.reconcilers.manifest.Manifests;
import io.virtfleet.reconcilers.validation.FieldError;
import io.virtfleet.reconcilers.validation.ValidationContext;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.w3c.dom.Document;

import javax.xml.parsers.DocumentBuilderFactory;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The catalogue of malformed and hostile input ({@code src/test/resources/bad-input/NN-name.yaml}), each
 * applied to the real apiserver as {@code kubectl apply --server-side --validate=strict} would, with the operator and
 * a node agent running. Each file's header names the earliest layer that must refuse it and the error (a regex, found
 * in the message):
 * <ul>
 *   <li>{@code apiserver}: the apply fails (422/400) naming the field; nothing is stored;</li>
 *   <li>{@code operator}: stored, the VM gets the condition ({@code # condition:}, default Failure=True) whose message
 *   names the field, and no Domain;</li>
 *   <li>{@code agent}: the Domain gets {@code status.lastError} from the agent, and nothing is defined in libvirt;</li>
 *   <li>{@code nobody}: a Domain for a host without an agent: it stays without status;</li>
 *   <li>{@code escaped}: accepted free text: the expected value (literal) is in libvirt's parsed XML as text.</li>
 * </ul>
 * A VirtualMachine refused by the apiserver or operator is also refused offline ({@code virtfleet validate}: the
 * operator keeps its own checks for manifests that bypass the apiserver) unless the header says
 * {@code # offline: valid}. Throughout, a bystander VM started once for the class keeps running with the same QEMU.
 */
class BadInputCatalogTest {
    private static final Pattern PLACEHOLDER = Pattern.compile("\\$\\{(BIG|DISKS|NICS):(\\d+)}");
    private static final Duration APISERVER_BUDGET = Duration.ofSeconds(20);

    @StartFleet
    static Fleet fleet;
    static String host;
    static Path symlink;
    static LibvirtGuest bystander;
    static long bystanderPid;
    /** A qcow2 under the allowed root whose header names /etc/shadow as its backing file (made without opening it). */
    static Path shadowQcow2;
    /** Loopback HTTP server of hostile image answers: a redirect to file:///etc/shadow, a 64 GiB announcement. */
    static com.sun.net.httpserver.HttpServer http;

    @BeforeAll
    static void start() throws IOException {
        host = fleet.host("a");
        // A link under the allowed root that points out of it: only the agent, which resolves it, can tell.
        symlink = Fleet.IMAGES.resolve(fleet.namespace() + "-etc-link");
        Files.deleteIfExists(symlink);
        Files.createSymbolicLink(symlink, Path.of("/etc"));
        shadowQcow2 = Fleet.IMAGES.resolve(fleet.namespace() + "-backing-shadow.qcow2");
        Files.deleteIfExists(shadowQcow2);
        Process p = new ProcessBuilder("qemu-img", "create", "-q", "-f", "qcow2", "-u", "-b", "/etc/shadow", "-F",
                "raw", shadowQcow2.toString(), "1M").redirectErrorStream(true).start();
        try {
            assertThat(p.waitFor()).as(new String(p.getInputStream().readAllBytes())).isZero();
        } catch (InterruptedException e) {
            throw new IOException(e);
        }
        http = com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress(
                java.net.InetAddress.getLoopbackAddress(), 0), 0);
        http.createContext("/redirect-to-etc", ex -> {
            ex.getResponseHeaders().add("Location", "file:///etc/shadow");
            ex.sendResponseHeaders(302, -1);
            ex.close();
        });
        http.createContext("/huge", ex -> {
            // Announces 64 GiB and sends nothing: the host must refuse it from the header alone.
            ex.sendResponseHeaders(200, 64L << 30);
            ex.close();
        });
        http.start();
        // Pinned: the shared control plane may still list hosts of earlier test classes whose leases have not expired.
        VirtualMachine b = fleet.testGuest("bystander");
        b.getSpec().nodeName = host;
        fleet.apply(b);
        bystander = fleet.guest(fleet.awaitReady("bystander"));
        bystanderPid = bystander.qemuPid();
        // A second bystander that never runs (runStrategy Halted), for requests that need a stopped VM.
        VirtualMachine halted = fleet.testGuest("halted-bystander");
        halted.getSpec().nodeName = host;
        halted.getSpec().runStrategy = RunStrategy.Halted;
        fleet.apply(halted);
        fleet.await("halted-bystander", "Stopped", Duration.ofSeconds(60),
                v -> v.getStatus() != null && "Stopped".equals(v.getStatus().printableStatus));
    }

    @AfterAll
    static void stop() throws IOException {
        if (fleet != null) {
            fleet.client().namespaces().withName(fleet.namespace() + "-other").delete();
        }
        if (symlink != null) {
            Files.deleteIfExists(symlink);
        }
        if (shadowQcow2 != null) {
            Files.deleteIfExists(shadowQcow2);
        }
        if (http != null) {
            http.stop(0);
        }
    }

    static Stream<String> cases() {
        List<String> all = BadInputFiles.names();
        assertThat(all).as("the catalogue has at least 40 cases").hasSizeGreaterThanOrEqualTo(40);
        // A case that needs a state only another fleet can make (# given:) is run by the class that makes it.
        List<String> names = all.stream().filter(n -> !BadInputFiles.header(BadInputFiles.read(n))
                .containsKey("given")).toList();
        // -Dvirtfleet.badinput.only=REGEX runs the matching cases only (while writing new ones).
        String only = System.getProperty("virtfleet.badinput.only");
        return only == null ? names.stream() : names.stream().filter(n -> n.matches(only));
    }

    /** Every case with a precondition names one that a test class provides (so none is silently left out). */
    @Test
    void everyPreconditionOfACaseHasATestThatProvidesIt() {
        for (String n : BadInputFiles.names()) {
            Map<String, String> header = BadInputFiles.header(BadInputFiles.read(n));
            if (header.containsKey("given")) {
                assertThat(BadInputFiles.GIVEN).as(n + ": # given: " + header.get("given")).containsKey(header.get("given"));
                assertThat(header.get("layer")).as(n + ": a case with a precondition is a request refused in status")
                        .isEqualTo("status");
            }
        }
    }

    /** A catalogue file: its header and its body with placeholders expanded. */
    record Case(String file, String layer, String expect, String condition, boolean offlineValid, String text,
                String kind, String name, String namespace) {
        static Case load(String file) throws IOException, URISyntaxException {
            String raw = BadInputFiles.read(file);
            Map<String, String> header = BadInputFiles.header(raw);
            assertThat(header).as(file + " header").containsKeys("layer", "expect");
            String text = expand(raw);
            Matcher kind = Pattern.compile("(?m)^kind: (\\S+)").matcher(text);
            assertThat(kind.find()).as(file + " kind").isTrue();
            Matcher name = Pattern.compile("(?m)^metadata: \\{name: ([^}]*)}|^metadata:\\n  name: (\\S+)").matcher(text);
            assertThat(name.find()).as(file + " name").isTrue();
            String ns = "other".equals(header.get("namespace")) ? otherNamespace() : fleet.namespace();
            return new Case(file, header.get("layer"), expand(header.get("expect")),
                    header.getOrDefault("condition", "Failure=True"), "valid".equals(header.get("offline")), text,
                    kind.group(1), name.group(1) != null ? name.group(1) : name.group(2), ns);
        }

        private static String expand(String raw) {
            String text = raw.replace("${SYMLINK}", symlink.toString()).replace("${HOST}", host)
                    .replace("${SHADOW_QCOW2}", shadowQcow2.toString())
                    .replace("${HTTP}", "http://127.0.0.1:" + http.getAddress().getPort())
                    .replace("${PREFIX}", fleet.domainPrefix(host)).replace("${NS}", fleet.namespace())
                    .replace("${UUID}", UUID.randomUUID().toString());
            Matcher m = PLACEHOLDER.matcher(text);
            StringBuilder out = new StringBuilder();
            while (m.find()) {
                int n = Integer.parseInt(m.group(2));
                StringBuilder v = new StringBuilder();
                switch (m.group(1)) {
                    case "BIG" -> v.append("a".repeat(n));
                    case "DISKS" -> {
                        v.append('[');
                        for (int i = 0; i < n; i++) {
                            v.append(i == 0 ? "" : ", ").append("{name: d").append(i)
                                    .append(", volume: {path: /var/lib/virtfleet/images/bi-d").append(i).append(".qcow2}}");
                        }
                        v.append(']');
                    }
                    default -> {
                        v.append('[');
                        for (int i = 0; i < n; i++) {
                            v.append(i == 0 ? "" : ", ").append("{name: n").append(i).append(", network: default}");
                        }
                        v.append(']');
                    }
                }
                m.appendReplacement(out, Matcher.quoteReplacement(v.toString()));
            }
            m.appendTail(out);
            return out.toString();
        }

        boolean isVm() {
            return "VirtualMachine".equals(kind);
        }

        String shortName() {
            return name.length() > 60 ? name.substring(0, 60) + "..." : name;
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void refusedAtTheEarliestLayerAndTheBystanderIsUntouched(String file) throws Exception {
        Case c = Case.load(file);
        offline(c);
        Path manifest = Files.createTempFile("bad-input-", ".yaml");
        try {
            Files.writeString(manifest, c.text());
            long t0 = System.nanoTime();
            KubectlResult r = fleet.controlPlane().kubectl(Duration.ofSeconds(60), "apply", "--server-side",
                    "--field-manager=" + Fleet.FIELD_MANAGER, "--validate=strict", "-n", c.namespace(),
                    "-f", manifest.toString());
            Duration took = Duration.ofNanos(System.nanoTime() - t0);
            String out = shorten(r.output());
            switch (c.layer()) {
                case "apiserver" -> {
                    assertThat(r.ok()).as(file + ": the apiserver must refuse it; kubectl said " + out).isFalse();
                    assertThat(Pattern.compile(c.expect()).matcher(r.output()).find())
                            .as(file + ": expected /" + c.expect() + "/ in " + out).isTrue();
                    assertThat(took).as(file + ": refused fast").isLessThan(APISERVER_BUDGET);
                    if (c.name().length() <= 253 && c.name().matches("[a-z0-9.-]+")) {
                        assertThat(fleet.get(c.name())).as(file + ": nothing stored").isNull();
                    }
                }
                case "operator" -> {
                    assertThat(r.ok()).as(file + ": stored; kubectl said " + out).isTrue();
                    String[] cond = c.condition().split("=");
                    VirtualMachine vm = fleet.await(c.name(), c.condition(), Duration.ofSeconds(30), v -> {
                        Condition k = Fleet.conditionOf(v, cond[0]);
                        return k != null && cond[1].equals(k.getStatus()) && k.getMessage() != null
                                && Pattern.compile(c.expect()).matcher(k.getMessage()).find();
                    });
                    assertThat(Fleet.conditionOf(vm, cond[0]).getMessage()).containsPattern(c.expect());
                    assertThat(fleet.domain(c.name())).as(file + ": no Domain for a refused VM").isNull();
                }
                case "agent" -> {
                    assertThat(r.ok()).as(file + ": stored; kubectl said " + out).isTrue();
                    Domain d = awaitDomain(c, Duration.ofSeconds(60), x -> x.getStatus() != null
                            && x.getStatus().lastError != null
                            && Pattern.compile(c.expect()).matcher(x.getStatus().lastError).find());
                    String libvirtName = c.isVm() ? fleet.domainName(host, c.name()) : xmlName(d.getSpec().domainXml);
                    assertThat(fleet.guest(libvirtName).isDefined())
                            .as(file + ": nothing defined in libvirt").isFalse();
                }
                case "nobody" -> {
                    assertThat(r.ok()).as(file + ": stored; kubectl said " + out).isTrue();
                    Awaitility.await().during(Duration.ofSeconds(5)).atMost(Duration.ofSeconds(10))
                            .until(() -> {
                                Domain d = fleet.domain(c.name());
                                return d != null && d.getStatus() == null;
                            });
                }
                case "escaped" -> {
                    assertThat(r.ok()).as(file + ": stored; kubectl said " + out).isTrue();
                    Domain d = awaitDomain(c, Duration.ofSeconds(60), x -> x.getSpec() != null
                            && x.getSpec().domainXml != null);
                    assertThat(d.getSpec().domainXml).as("rendered XML carries the text escaped")
                            .doesNotContain(c.expect()).contains("&lt;/cmdline").contains("]]&gt;");
                    assertThat(cmdline(d.getSpec().domainXml)).as("rendered").isEqualTo(c.expect());
                    LibvirtGuest guest = fleet.guest(fleet.domainName(host, c.name()));
                    Awaitility.await().atMost(Duration.ofSeconds(60)).until(guest::isDefined);
                    String parsed = guest.persistentXml();
                    assertThat(cmdline(parsed)).as("libvirt parsed it as text").isEqualTo(c.expect());
                    assertThat(xml(parsed).getElementsByTagName("disk").getLength()).as("no injected disk").isZero();
                }
                case "status" -> {
                    // Another kind's own status.error (snapshots, restores, clones), written by the operator.
                    assertThat(r.ok()).as(file + ": stored; kubectl said " + out).isTrue();
                    String[] error = new String[1];
                    Awaitility.await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() -> {
                        GenericKubernetesResource g = fleet.client().genericKubernetesResources(
                                "virtfleet.io/v1alpha1", c.kind()).inNamespace(c.namespace()).withName(c.name()).get();
                        Object st = g == null ? null : g.getAdditionalProperties().get("status");
                        error[0] = st instanceof Map<?, ?> m && m.get("error") != null ? m.get("error").toString() : null;
                        return error[0] != null;
                    });
                    assertThat(error[0]).containsPattern(c.expect());
                }
                default -> throw new AssertionError(file + ": unknown layer " + c.layer());
            }
        } finally {
            Files.deleteIfExists(manifest);
            cleanUp(c);
        }
        // Tolerates a libvirtd restart by someone else (QEMU keeps running; virsh fails to connect meanwhile).
        Awaitility.await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500))
                .untilAsserted(() -> assertThat(bystander.state()).as("bystander after " + file).isEqualTo("running"));
        assertThat(bystander.qemuPid()).as("bystander's QEMU after " + file).isEqualTo(bystanderPid);
        assertThat(Fleet.condition(fleet.get("bystander"), "Ready")).as("bystander Ready after " + file).isTrue();
    }

    /**
     * Isolation: a VM of another namespace may not use a host file a VM of this namespace uses writable (here the
     * bystander's data disk). The operator refuses it with a Failure naming the field, without naming the owner.
     */
    @Test
    void aVmOfAnotherNamespaceMayNotUseTheBystandersDisk() {
        String other = otherNamespace();
        try {
            VirtualMachine intruder = fleet.testGuest("intruder");
            intruder.getMetadata().setNamespace(other);
            intruder.getSpec().runStrategy = RunStrategy.Halted;
            intruder.getSpec().disks.get(0).volume.path = fleet.get("bystander").getSpec().disks.get(0).volume.path;
            fleet.apply(intruder);

            Condition[] failure = new Condition[1];
            Awaitility.await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() -> {
                VirtualMachine v = fleet.client().resources(VirtualMachine.class).inNamespace(other)
                        .withName("intruder").get();
                failure[0] = v == null ? null : Fleet.conditionOf(v, "Failure");
                return failure[0] != null && "True".equals(failure[0].getStatus());
            });
            assertThat(failure[0].getMessage()).contains("spec.disks[0].volume.path")
                    .contains("in use by a VirtualMachine of another namespace")
                    .doesNotContain(fleet.namespace() + "/").doesNotContain("bystander\"");
            assertThat(fleet.client().resources(Domain.class).inNamespace(other).withName("intruder").get())
                    .as("no Domain for the intruder").isNull();
            assertThat(bystander.qemuPid()).isEqualTo(bystanderPid);
            assertThat(Fleet.condition(fleet.get("bystander"), "Ready")).isTrue();
        } finally {
            fleet.client().resources(VirtualMachine.class).inNamespace(other).withName("intruder").delete();
            Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> fleet.client()
                    .resources(VirtualMachine.class).inNamespace(other).withName("intruder").get() == null);
        }
    }

    /**
     * What {@code virtfleet validate} says: refused cases are refused offline too, host-only ones pass. A request
     * object (snapshot, restore, clone, backup) refused by the apiserver is refused offline too; one the operator
     * refuses is either valid offline (only the cluster can tell: the VM does not exist) or refused for the same
     * reason — offline validation never contradicts the operator.
     */
    private static void offline(Case c) {
        boolean request = !c.isVm() && c.kind().startsWith("VirtualMachine");
        if (!(c.isVm() && List.of("apiserver", "operator", "agent", "escaped").contains(c.layer()))
                && !(request && List.of("apiserver", "status").contains(c.layer()))) {
            return;
        }
        List<FieldError> errors = new ArrayList<>();
        for (ManifestDocument doc : Manifests.parse(c.text())) {
            errors.addAll(doc.errors());
            if (doc.object() != null) {
                errors.addAll(KindRules.validate(doc.object(), ValidationContext.defaults()));
            }
        }
        if (request && c.layer().equals("status")) {
            assertThat(errors.isEmpty() || errors.stream().anyMatch(e -> Pattern.compile(c.expect())
                    .matcher(e.toString()).find()))
                    .as(c.file() + ": offline " + errors + " agrees with the operator's /" + c.expect() + "/").isTrue();
        } else if (c.offlineValid()) {
            assertThat(errors).as(c.file() + ": valid offline (only the cluster or host can tell)").isEmpty();
        } else {
            assertThat(errors).as(c.file() + ": refused offline too").isNotEmpty();
        }
    }

    private static Domain awaitDomain(Case c, Duration timeout, java.util.function.Predicate<Domain> p) {
        Domain[] last = new Domain[1];
        try {
            Awaitility.await().atMost(timeout).pollInterval(Duration.ofMillis(200)).until(() -> {
                last[0] = fleet.domain(c.name());
                return last[0] != null && p.test(last[0]);
            });
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            throw new AssertionError(c.file() + ": Domain " + c.name() + " is "
                    + (last[0] == null ? "missing" : "status " + last[0].getStatus()), e);
        }
        return last[0];
    }

    private static Document xml(String xml) throws Exception {
        return DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)));
    }

    private static String cmdline(String xml) throws Exception {
        return xml(xml).getElementsByTagName("cmdline").item(0).getTextContent();
    }

    /** A second namespace, for cross-namespace references. */
    static synchronized String otherNamespace() {
        String other = fleet.namespace() + "-other";
        fleet.client().namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(other).endMetadata()
                .build()).serverSideApply();
        return other;
    }

    private static String xmlName(String xml) {
        Matcher m = Pattern.compile("<name>([^<]*)</name>").matcher(xml);
        return m.find() ? m.group(1) : "";
    }

    private static void cleanUp(Case c) {
        if (c.name().length() > 253 || !c.name().matches("[a-z0-9.-]+")) {
            return;
        }
        String resource = c.kind().toLowerCase() + "s.virtfleet.io/" + c.name();
        KubectlResult r = fleet.controlPlane().kubectl(Duration.ofSeconds(90), "delete", "-n", c.namespace(),
                "--ignore-not-found", "--timeout=60s", resource);
        assertThat(r.ok()).as("delete " + resource + ": " + r.output()).isTrue();
        if (c.isVm()) {
            Awaitility.await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                    .until(() -> fleet.domain(c.name()) == null);
        }
    }

    private static String shorten(String s) {
        return s.length() > 4000 ? s.substring(0, 4000) + "...(" + s.length() + " chars)" : s;
    }
}
