package io.virtfleet.cli;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.virtfleet.api.v1alpha1.ApiGroup;
import io.virtfleet.controlplane.EmbeddedControlPlane;
import io.virtfleet.controlplane.RepoRoot;
import io.virtfleet.observability.startup.ExitCodes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code virtfleet operator} and {@code virtfleet agent} as processes, started against each set-up mistake: no
 * kubeconfig, an apiserver that is not there, a real apiserver without virtfleet's CRDs, credentials it refuses or a
 * user without RBAC, and (the agent) a libvirt socket that is missing or refuses connections. Each must end in one
 * line naming what it tried and what to check, with its documented exit code, and no stack trace unless
 * {@code --verbose}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DaemonStartupTest {
    Path dir;
    EmbeddedControlPlane cp;
    Path admin;

    record Result(int exitCode, List<String> err, String all) {
        String lastLine() {
            return err.isEmpty() ? "" : err.get(err.size() - 1);
        }
    }

    @BeforeAll
    void start() throws IOException {
        dir = Files.createTempDirectory("virtfleet-startup-");
        // CRDs are installed by crdsInstalled() below, after the tests that need them missing.
        cp = EmbeddedControlPlane.builder().withoutCrds().start();
        admin = cp.kubeconfig();
        cp.client().namespaces().resource(new NamespaceBuilder().withNewMetadata()
                .withName(ApiGroup.SYSTEM_NAMESPACE).endMetadata().build()).create();
    }

    @AfterAll
    void stop() throws IOException {
        if (cp != null) {
            cp.close();
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    // ------------------------------------------------------------------------------------------------ kubeconfig

    @Test
    @Order(1)
    void aKubeconfigThatDoesNotExist() throws Exception {
        for (String daemon : List.of("operator", "agent")) {
            Result r = run(daemon, Map.of(), "--kubeconfig", dir.resolve("nope.yaml").toString());
            assertFailure(r, ExitCodes.NO_KUBECONFIG, "virtfleet " + daemon + ": error: --kubeconfig "
                    + dir.resolve("nope.yaml") + ": no such file; pass --kubeconfig with an existing kubeconfig file");
        }
    }

    @Test
    @Order(1)
    void noKubeconfigAnywhere() throws Exception {
        Path home = Files.createDirectories(dir.resolve("empty-home"));
        for (String daemon : List.of("operator", "agent")) {
            Result r = run(daemon, Map.of("HOME", home.toString()));
            assertFailure(r, ExitCodes.NO_KUBECONFIG, "virtfleet " + daemon + ": error: no kubeconfig: tried "
                    + "--kubeconfig (not given), $KUBECONFIG (not set), " + home.resolve(".kube/config")
                    + " (no such file) and the in-cluster service account");
            assertThat(r.lastLine()).endsWith("; pass --kubeconfig FILE or set KUBECONFIG");
        }
    }

    @Test
    @Order(1)
    void aFileThatIsNotAKubeconfig() throws Exception {
        Path junk = Files.writeString(dir.resolve("junk.yaml"), "clusters: [not, a, kubeconfig\n");
        Result r = run("operator", Map.of(), "--kubeconfig", junk.toString());
        assertFailure(r, ExitCodes.NO_KUBECONFIG, "virtfleet operator: error: --kubeconfig " + junk
                + " is not a usable kubeconfig (");
    }

    // ------------------------------------------------------------------------------------------------- apiserver

    @Test
    @Order(1)
    void anApiserverThatIsNotThere() throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        Path kc = kubeconfig("unreachable", k -> k.replace(cp.serverUrl(), "https://127.0.0.1:" + closed));
        for (String daemon : List.of("operator", "agent")) {
            Result r = run(daemon, Map.of(), "--kubeconfig", kc.toString());
            assertFailure(r, ExitCodes.APISERVER_UNREACHABLE, "virtfleet " + daemon + ": error: cannot reach the "
                    + "Kubernetes API at https://127.0.0.1:" + closed + "/ (from kubeconfig " + kc + "): connection "
                    + "refused; check that the apiserver runs and that this address is right and reachable from here");
        }
        // --verbose adds the stack trace, still ending in the same line
        Result verbose = run("operator", Map.of(), "--kubeconfig", kc.toString(), "--verbose");
        assertThat(verbose.exitCode()).isEqualTo(ExitCodes.APISERVER_UNREACHABLE);
        assertThat(verbose.all()).contains("\tat ", "StartupFailure");
        assertThat(verbose.lastLine()).startsWith("virtfleet operator: error: cannot reach the Kubernetes API");
    }

    @Test
    @Order(1)
    void credentialsTheApiserverRefuses() throws Exception {
        Path kc = kubeconfig("bad-token", k -> k.replaceAll("token: .*", "token: not-a-valid-token"));
        Result r = run("operator", Map.of(), "--kubeconfig", kc.toString());
        assertFailure(r, ExitCodes.NOT_PERMITTED, "virtfleet operator: error: the Kubernetes API at "
                + cp.serverUrl() + "/ refused the credentials of kubeconfig " + kc + " (401 Unauthorized); check the "
                + "user's token or client certificate in it");
    }

    @Test
    @Order(2)
    void anApiserverWithoutVirtfleetsCrds() throws Exception {
        Result op = run("operator", Map.of(), "--kubeconfig", admin.toString());
        assertFailure(op, ExitCodes.CRDS_MISSING, "virtfleet operator: error: the Kubernetes API at "
                + cp.serverUrl() + "/ does not serve virtualmachines, domains, hosts, virtualmachinesnapshots, "
                + "virtualmachinerestores, virtualmachineclones, virtualmachinebackups, virtualmachinefailovers, "
                + "virtualmachinemigrations (virtfleet.io/v1alpha1): virtfleet's CRDs are not installed; install them with kubectl apply "
                + "--server-side -k deploy/base (or -f crds/)");
        Result agent = run("agent", Map.of(), "--kubeconfig", admin.toString());
        assertFailure(agent, ExitCodes.CRDS_MISSING, "virtfleet agent: error: the Kubernetes API at "
                + cp.serverUrl() + "/ does not serve domains, hosts, virtualmachinesnapshots, ");
    }

    @Test
    @Order(3)
    void crdsInstalled() {
        try (Stream<Path> crds = Files.list(RepoRoot.require().resolve("crds"))) {
            cp.installCrds(crds.filter(p -> p.toString().endsWith(".yaml")).sorted().toList());
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    @Order(4)
    void aUserWithoutPermissions() throws Exception {
        // A ServiceAccount with no RoleBinding at all: authenticated, allowed nothing beyond discovery.
        var sa = cp.client().serviceAccounts().inNamespace("default").resource(
                new io.fabric8.kubernetes.api.model.ServiceAccountBuilder().withNewMetadata().withName("nobody")
                        .endMetadata().build()).create();
        String token = cp.client().serviceAccounts().inNamespace("default").withName(sa.getMetadata().getName())
                .tokenRequest(new io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder().withNewSpec()
                        .withExpirationSeconds(3600L).endSpec().build()).getStatus().getToken();
        Path kc = kubeconfig("nobody", k -> k.replaceAll("token: .*", "token: " + token));
        Result op = run("operator", Map.of(), "--kubeconfig", kc.toString());
        assertFailure(op, ExitCodes.NOT_PERMITTED, "virtfleet operator: error: the user of kubeconfig " + kc
                + " may not list virtualmachines.virtfleet.io (cluster-wide), watch virtualmachines.virtfleet.io "
                + "(cluster-wide), ");
        assertThat(op.lastLine()).endsWith("; check the RoleBindings and ClusterRoleBindings of that user (the "
                + "operator's are in deploy/base/operator/rbac.yaml)");
        Result agent = run("agent", Map.of(), "--kubeconfig", kc.toString());
        assertFailure(agent, ExitCodes.NOT_PERMITTED, "virtfleet agent: error: the user of kubeconfig " + kc
                + " may not list domains.virtfleet.io (cluster-wide), ");
        assertThat(agent.lastLine()).contains("create leases.coordination.k8s.io in namespace virtfleet-system")
                .endsWith("(the agent's are in deploy/base/agent/rbac.yaml)");
    }

    // ---------------------------------------------------------------------------------------------------- libvirt

    @Test
    @Order(5)
    void aLibvirtSocketThatDoesNotExist() throws Exception {
        Path socket = dir.resolve("no-such-libvirt-sock");
        assertLibvirtUnreachable(socket, "0s", ": Failed to connect socket to '" + socket + "': No such file or "
                + "directory; the socket does not exist: check that libvirtd");
    }

    @Test
    @Order(5)
    void aLibvirtSocketNobodyListensOn() throws Exception {
        Path socket = dir.resolve("dead-libvirt-sock");
        // A UNIX socket whose server is gone: the file stays, connect() gets ECONNREFUSED (as after libvirtd died).
        try (ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            s.bind(UnixDomainSocketAddress.of(socket));
        }
        assertThat(socket).exists();
        assertLibvirtUnreachable(socket, "1s", " within 1 s: Failed to connect socket to '" + socket + "': "
                + "Connection refused; the socket exists but no daemon accepts on it");
    }

    /**
     * The agent, with a working apiserver, against libvirt at {@code socket} with {@code --libvirt-wait wait}: exit
     * LIBVIRT_UNREACHABLE, last line "cannot connect to libvirt at URI" then {@code afterUri}.
     */
    private void assertLibvirtUnreachable(Path socket, String wait, String afterUri) throws Exception {
        String uri = "qemu+unix:///system?socket=" + socket;
        Result r = run("agent", Map.of(), "--kubeconfig", admin.toString(), "--libvirt-uri", uri,
                "--libvirt-wait", wait);
        assertFailure(r, ExitCodes.LIBVIRT_UNREACHABLE, "virtfleet agent: error: cannot connect to libvirt at " + uri
                + afterUri);
    }

    // ------------------------------------------------------------------------------------------------------ tools

    private static void assertFailure(Result r, int exitCode, String lastLinePrefix) {
        assertThat(r.exitCode()).as(r.all()).isEqualTo(exitCode);
        assertThat(r.lastLine()).as(r.all()).startsWith(lastLinePrefix);
        assertThat(r.all()).as("no stack trace without --verbose").doesNotContain("\tat ").doesNotContain("Caused by");
        assertThat(r.err().stream().filter(l -> l.contains(": error: ")).count()).as(r.all()).isEqualTo(1);
    }

    private Path kubeconfig(String name, java.util.function.UnaryOperator<String> edit) throws IOException {
        String text = Files.readString(admin, StandardCharsets.UTF_8);
        return Files.writeString(dir.resolve(name + ".kubeconfig"), edit.apply(text));
    }

    /** {@code java -cp <test classpath> io.virtfleet.cli.Virtfleet DAEMON ARGS} with the agent's host set. */
    private Result run(String daemon, Map<String, String> env, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-Xshare:auto", "-Xmx256m", "-cp", System.getProperty("java.class.path"),
                Virtfleet.class.getName(), daemon, "--health-port", "-1", "--metrics-port", "-1"));
        if (daemon.equals("agent")) {
            cmd.addAll(List.of("--host", "startup-test", "--domain-prefix", "vf-startup-test-"));
        }
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new java.io.File(
                "/dev/null")));
        pb.environment().remove("KUBECONFIG");
        pb.environment().remove("KUBERNETES_SERVICE_HOST");
        pb.environment().putAll(env);
        Path out = Files.createTempFile(dir, daemon, ".out");
        Path err = Files.createTempFile(dir, daemon, ".err");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile());
        Process p = pb.start();
        if (!p.waitFor(90, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            throw new AssertionError(daemon + " did not exit within 90 s: " + Files.readString(err));
        }
        String e = Files.readString(err, StandardCharsets.UTF_8);
        return new Result(p.exitValue(), e.lines().toList(), Files.readString(out, StandardCharsets.UTF_8) + e);
    }
}
