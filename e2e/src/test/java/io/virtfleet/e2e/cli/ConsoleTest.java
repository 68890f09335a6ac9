package io.virtfleet.e2e.cli;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBuilder;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.virtfleet.agent.AgentConfig;
import io.virtfleet.agent.NodeAgent;
import io.virtfleet.agent.console.ConsoleServer;
import io.virtfleet.api.v1alpha1.Host;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.cli.vm.ConsoleTls;
import io.virtfleet.e2e.support.Fleet;
import io.virtfleet.e2e.support.Listeners;
import io.virtfleet.e2e.support.LibvirtGuest;
import io.virtfleet.e2e.support.StartFleet;
import io.virtfleet.e2e.support.TokenKubeconfig;
import io.virtfleet.observability.HttpsProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code virtfleet vm console} end to end: the CLI as its own process, the agent's console endpoint (TLS, TokenReview
 * + SubjectAccessReview against the real apiserver), libvirt's virDomainOpenConsole on the test guest's serial port.
 * Console bytes are proven by a marker the guest writes to /dev/console; refusals by the answer and by no console
 * byte arriving.
 */
class ConsoleTest {
    /** With the operator's and the agent's health and metrics ports on, as their commands serve them by default. */
    @StartFleet(endpoints = true)
    static Fleet fleet;
    static ConsoleServer console;
    static Path dir;
    static Path consoleUser;
    static Path viewer;
    static Path vncUser;
    static String otherNamespaceToken;

    @BeforeAll
    static void start() throws Exception {
        console = new ConsoleServer(fleet.client(), fleet.host("a"), AgentConfig.DEFAULT_URI,
                new InetSocketAddress("127.0.0.1", 0), null).start();
        dir = Files.createTempDirectory("virtfleet-console-e2e");
        String ns = fleet.namespace();
        KubernetesClient client = fleet.client();
        client.rbac().clusterRoles().resource(new ClusterRoleBuilder().withNewMetadata().withName("e2e-" + ns
                + "-hosts").endMetadata().withRules(new PolicyRuleBuilder().withApiGroups("virtfleet.io")
                .withResources("hosts").withVerbs("get", "list").build()).build()).create();
        consoleUser = kubeconfig(client, ns, "console-user", List.of("virtualmachines", "virtualmachines/console"));
        viewer = kubeconfig(client, ns, "viewer", List.of("virtualmachines"));
        vncUser = kubeconfig(client, ns, "vnc-user", List.of("virtualmachines", "virtualmachines/vnc",
                "virtualmachines/portforward"));
        String other = ns + "-other";
        client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(other).endMetadata().build())
                .serverSideApply();
        serviceAccount(client, other, "tenant", List.of("virtualmachines", "virtualmachines/console"));
        otherNamespaceToken = token(client, other, "tenant");
    }

    @AfterAll
    static void stop() throws IOException {
        if (console != null) {
            console.close();
        }
        if (fleet != null) {
            fleet.client().rbac().clusterRoles().withName("e2e-" + fleet.namespace() + "-hosts").delete();
            fleet.client().rbac().clusterRoleBindings().withLabel("e2e-console", fleet.namespace()).delete();
        }
        if (dir != null) {
            try (var files = Files.walk(dir)) {
                for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    static void serviceAccount(KubernetesClient client, String ns, String name, List<String> resources) {
        client.serviceAccounts().inNamespace(ns).resource(new ServiceAccountBuilder().withNewMetadata()
                .withName(name).withNamespace(ns).endMetadata().build()).create();
        client.rbac().roles().inNamespace(ns).resource(new RoleBuilder().withNewMetadata().withName(name)
                .withNamespace(ns).endMetadata().withRules(new PolicyRuleBuilder().withApiGroups("virtfleet.io")
                        .withResources(resources).withVerbs("get", "list").build()).build()).create();
        client.rbac().roleBindings().inNamespace(ns).resource(new RoleBindingBuilder().withNewMetadata()
                .withName(name).withNamespace(ns).endMetadata()
                .withNewRoleRef("rbac.authorization.k8s.io", "Role", name)
                .addNewSubject().withKind("ServiceAccount").withName(name).withNamespace(ns).endSubject()
                .build()).create();
        client.rbac().clusterRoleBindings().resource(new ClusterRoleBindingBuilder().withNewMetadata()
                .withName("e2e-" + ns + "-" + name + "-hosts").addToLabels("e2e-console", fleet.namespace())
                .endMetadata().withNewRoleRef("rbac.authorization.k8s.io", "ClusterRole", "e2e-" + fleet.namespace()
                        + "-hosts")
                .addNewSubject().withKind("ServiceAccount").withName(name).withNamespace(ns).endSubject()
                .build()).create();
    }

    static String token(KubernetesClient client, String ns, String name) {
        return client.serviceAccounts().inNamespace(ns).withName(name).tokenRequest(new TokenRequestBuilder()
                .withNewSpec().withExpirationSeconds(3600L).endSpec().build()).getStatus().getToken();
    }

    static Path kubeconfig(KubernetesClient client, String ns, String name, List<String> resources)
            throws IOException {
        serviceAccount(client, ns, name, resources);
        return TokenKubeconfig.write(dir.resolve(name + ".kubeconfig"), fleet.controlPlane(), name,
                token(client, ns, name), ns);
    }

    static Process cli(Path kubeconfig, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                "io.virtfleet.cli.Virtfleet"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("KUBECONFIG", kubeconfig.toString());
        return pb.redirectError(dir.resolve("err-" + System.nanoTime()).toFile()).start();
    }

    static String stderr(Process p) throws IOException {
        // redirectError went to a file: find it through /proc is not portable; read the newest err file instead.
        try (var files = Files.list(dir)) {
            Path newest = files.filter(f -> f.getFileName().toString().startsWith("err-"))
                    .max(java.util.Comparator.comparing(f -> f.getFileName().toString())).orElseThrow();
            return Files.readString(newest);
        }
    }

    /** Reads {@code in} on a thread into a buffer until it ends. */
    static ByteArrayOutputStream drain(InputStream in) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        Thread t = new Thread(() -> {
            byte[] b = new byte[4096];
            try {
                int n;
                while ((n = in.read(b)) > 0) {
                    synchronized (buf) {
                        buf.write(b, 0, n);
                    }
                }
            } catch (IOException ignored) {
                // ended
            }
        });
        t.setDaemon(true);
        t.start();
        return buf;
    }

    static String text(ByteArrayOutputStream buf) {
        synchronized (buf) {
            return buf.toString(StandardCharsets.UTF_8);
        }
    }

    @Test
    void anAuthorizedUserSeesTheConsoleAndCtrlBracketLeaves() throws Exception {
        fleet.apply(fleet.testGuest("con-ok"));
        LibvirtGuest guest = fleet.guest(fleet.awaitReady("con-ok"));

        Process p = cli(consoleUser, "vm", "console", "con-ok");
        ByteArrayOutputStream out = drain(p.getInputStream());
        String marker = "VF-CONSOLE-" + UUID.randomUUID();
        // The session is open once the agent's libvirt stream is: keep writing the marker until it arrives.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!text(out).contains(marker) && System.nanoTime() < deadline && p.isAlive()) {
            guest.exec("echo " + marker + " > /dev/console");
            Thread.sleep(500);
        }
        assertThat(text(out)).as("console output through virtfleet vm console; stderr: " + stderr(p))
                .contains(marker);

        p.getOutputStream().write(0x1d);
        p.getOutputStream().flush();
        assertThat(p.waitFor(20, TimeUnit.SECONDS)).as("Ctrl-] leaves").isTrue();
        assertThat(p.exitValue()).isZero();
        assertThat(stderr(p)).contains("Connected to the serial console of VirtualMachine " + fleet.namespace()
                + "/con-ok").contains("Disconnected");
        fleet.delete("con-ok");
    }

    /**
     * Interactive, as a person uses it: the CLI under a pseudo-terminal (util-linux {@code script}), so it switches the
     * terminal to raw mode. What is typed reaches the guest's serial port — a reader started in the guest through the
     * command channel answers on the console — and Ctrl-] (a raw byte now, not a signal) leaves.
     */
    @Test
    void typedTextReachesTheGuestAndItsAnswerComesBackUnderAPty() throws Exception {
        fleet.apply(fleet.testGuest("con-pty"));
        LibvirtGuest guest = fleet.guest(fleet.awaitReady("con-pty"));
        String word = "typed" + UUID.randomUUID().toString().substring(0, 8);
        // The guest reads one line from its serial port and answers on the console (there is no shell on ttyS0).
        assertThat(guest.exec("(read line < /dev/ttyS0; echo \"VF-ANSWER:$line\" > /dev/console) "
                + ">/dev/null 2>&1 &").exitCode()).isZero();

        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String command = "'" + java + "' -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -cp '"
                + System.getProperty("java.class.path") + "' io.virtfleet.cli.Virtfleet vm console con-pty";
        ProcessBuilder pb = new ProcessBuilder("script", "-qfec", command, "/dev/null");
        pb.environment().put("KUBECONFIG", consoleUser.toString());
        pb.environment().put("TERM", "dumb");
        Process p = pb.redirectErrorStream(true).start();
        ByteArrayOutputStream out = drain(p.getInputStream());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!text(out).contains("Ctrl-] to leave") && System.nanoTime() < deadline && p.isAlive()) {
            Thread.sleep(200);
        }
        assertThat(text(out)).as("connected").contains("Ctrl-] to leave");
        Thread.sleep(1000); // the terminal is raw once stty has run, right after the banner

        OutputStream keys = p.getOutputStream();
        keys.write((word + "\r").getBytes(StandardCharsets.US_ASCII));
        keys.flush();
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!text(out).contains("VF-ANSWER:" + word) && System.nanoTime() < deadline && p.isAlive()) {
            Thread.sleep(200);
        }
        assertThat(text(out)).as("the guest read what was typed and answered").contains("VF-ANSWER:" + word);

        keys.write(0x1d);
        keys.flush();
        assertThat(p.waitFor(20, TimeUnit.SECONDS)).as("Ctrl-] leaves: " + text(out)).isTrue();
        assertThat(p.exitValue()).as(text(out)).isZero();
        assertThat(text(out)).contains("Disconnected from the console");
        fleet.delete("con-pty");
    }

    @Test
    void withoutTheConsoleVerbTheUserGets403AndNotOneByte() throws Exception {
        fleet.apply(fleet.testGuest("con-denied"));
        LibvirtGuest guest = fleet.guest(fleet.awaitReady("con-denied"));
        guest.exec("echo before > /dev/console");

        assertRefusedToTheViewer("console", "con-denied", "console", "console", "no console bytes");
        fleet.delete("con-denied");
    }

    @Test
    void theEndpointRefusesOtherNamespacesForgedAndMissingTokensBeforeAnyConsoleByte() throws Exception {
        fleet.apply(fleet.testGuest("con-raw"));
        fleet.awaitReady("con-raw");
        String ns = fleet.namespace();
        String admin = fleet.controlPlane().config().getOauthToken();

        assertThat(raw(ns, "con-raw", otherNamespaceToken)).startsWith("HTTP/1.1 403 Forbidden")
                .contains("cannot get virtualmachines/console").doesNotContain("VF-");
        assertThat(raw(ns, "con-raw", admin + "x")).startsWith("HTTP/1.1 401 Unauthorized")
                .contains("not accepted").doesNotContain("VF-");
        String forgedJwt = otherNamespaceToken.substring(0, otherNamespaceToken.lastIndexOf('.') + 1) + "AAAA";
        assertThat(raw(ns, "con-raw", forgedJwt)).startsWith("HTTP/1.1 401 Unauthorized");
        assertThat(raw(ns, "con-raw", null)).startsWith("HTTP/1.1 401 Unauthorized");
        assertThat(raw(ns, "no-such-vm", admin)).startsWith("HTTP/1.1 404 Not Found");
        // The admin may: the same request upgrades.
        assertThat(raw(ns, "con-raw", admin)).startsWith("HTTP/1.1 101 Switching Protocols");
        fleet.delete("con-raw");
    }

    @Test
    void nothingListensOffLoopbackWithoutTlsAndAuthentication() throws Exception {
        long pid = ProcessHandle.current().pid();
        List<Listeners.Listener> ours = Listeners.all(0).stream().filter(l -> l.of(pid)).toList();
        assertThat(ours).as("the console endpoint on loopback").anyMatch(l -> l.port() == console.port()
                && l.loopback());
        // The ports really are on: the operator's and the agent's health and metrics, on every address.
        NodeAgent agent = fleet.agent(fleet.host("a"));
        List<Integer> daemonPorts = List.of(agent.healthPort(), agent.metricsPort(), fleet.operator().healthPort(),
                fleet.operator().metricsPort());
        assertThat(daemonPorts).allMatch(p -> p > 0);
        for (int port : daemonPorts) {
            assertThat(ours).as("%s listens on %d", ours, port).anyMatch(l -> l.port() == port && l.wildcard());
        }
        // Every listener of this JVM (operator, agent, console endpoint): loopback, or TLS refusing /metrics to a
        // caller without a valid token. Wildcard ones are probed on 127.0.0.1; nothing else may be contacted.
        Listeners.assertLoopbackOrSecured(ours, "127.0.0.1", address -> false);
        // The probes stay open on the HTTPS health ports (the kubelet's HTTPS probes send no token).
        assertThat(HttpsProbe.get(agent.healthPort(), "/healthz", null).statusCode()).isEqualTo(200);
        assertThat(HttpsProbe.get(fleet.operator().healthPort(), "/healthz", null).statusCode()).isEqualTo(200);
        // The console endpoint: a plain-text client gets no answer but a TLS alert.
        assertThat(HttpsProbe.plainHttpAnswer("127.0.0.1", console.port())).doesNotStartWith("HTTP");
    }

    /**
     * {@code virtfleet vm VERB VM} as the viewer (no {@code virtualmachines/SUBRESOURCE}): exit code 1, one stderr
     * line giving the host's 403 for {@code what} of the VM, nothing on stdout ({@code noOutput} says what that is).
     */
    static void assertRefusedToTheViewer(String verb, String vm, String what, String subresource, String noOutput)
            throws Exception {
        Process p = cli(viewer, "vm", verb, vm);
        ByteArrayOutputStream out = drain(p.getInputStream());
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isEqualTo(1);
        assertThat(stderr(p).lines().filter(l -> !l.isBlank()).toList()).singleElement().asString()
                .startsWith("virtfleet vm " + verb + ": error: " + what + " of VirtualMachine " + fleet.namespace()
                        + "/" + vm + " refused by host " + fleet.host("a") + ": 403 Forbidden: User \"system:"
                        + "serviceaccount:" + fleet.namespace() + ":viewer\" cannot get virtualmachines/"
                        + subresource);
        assertThat(text(out)).as(noOutput).isEmpty();
    }

    /** The first stdout line of {@code p} that matches, within 60 s (the CLI prints its local address). */
    static String awaitLine(Process p, ByteArrayOutputStream out, String regex) throws Exception {
        java.util.regex.Pattern re = java.util.regex.Pattern.compile(regex);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline && p.isAlive()) {
            for (String line : text(out).lines().toList()) {
                java.util.regex.Matcher m = re.matcher(line);
                if (m.find()) {
                    return m.group(1);
                }
            }
            Thread.sleep(200);
        }
        throw new AssertionError("no line matching " + regex + " in: " + text(out) + "; stderr: " + stderr(p));
    }

    static VirtualMachine vncGuest(String name) {
        VirtualMachine vm = fleet.testGuest(name);
        vm.getSpec().graphics = "vnc";
        return vm;
    }

    @Test
    void theRfbHandshakeArrivesThroughVmVncAndTheDisplayListensOnNoPort() throws Exception {
        fleet.apply(vncGuest("con-vnc"));
        LibvirtGuest guest = fleet.guest(fleet.awaitReady("con-vnc"));
        assertThat(guest.liveXml()).as("VNC on a UNIX socket, never a TCP port").contains("type='socket'")
                .doesNotContain("<graphics type='vnc' port=");

        Process p = cli(vncUser, "vm", "vnc", "con-vnc", "--once");
        ByteArrayOutputStream out = drain(p.getInputStream());
        String address = awaitLine(p, out, "at (127\\.0\\.0\\.1:[0-9]+) ");
        assertThat(listeners().stream().filter(l -> l.contains("pid=" + p.pid() + ",")).toList())
                .as("the CLI serves the display on loopback only").isNotEmpty()
                .allMatch(l -> loopback(l.split("\\s+")[3]));
        try (java.net.Socket viewer = new java.net.Socket()) {
            viewer.connect(new InetSocketAddress("127.0.0.1", Integer.parseInt(address.split(":")[1])), 10_000);
            viewer.setSoTimeout(30_000);
            InputStream in = viewer.getInputStream();
            assertThat(new String(in.readNBytes(12), StandardCharsets.US_ASCII)).isEqualTo("RFB 003.008\n");
            // RFC 6143 7.1.2: the client picks a version, the server lists its security types. The agent opened the
            // connection with VIR_DOMAIN_OPEN_GRAPHICS_SKIPAUTH, and Kubernetes already authorized the user: None (1).
            viewer.getOutputStream().write("RFB 003.008\n".getBytes(StandardCharsets.US_ASCII));
            viewer.getOutputStream().flush();
            int count = in.read();
            assertThat(count).as("security types offered").isPositive();
            assertThat(in.readNBytes(count)).contains((byte) 1);
        }
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("--once ends with the viewer").isTrue();
        assertThat(p.exitValue()).isZero();

        long qemu = guest.qemuPid();
        assertThat(listeners().stream().filter(l -> l.contains("pid=" + qemu + ",")).toList())
                .as("QEMU of a VNC VM listens on no TCP port").isEmpty();
        fleet.delete("con-vnc");
    }

    @Test
    void withoutTheVncVerbTheUserGets403AndNoDisplay() throws Exception {
        fleet.apply(vncGuest("con-vnc-denied"));
        fleet.awaitReady("con-vnc-denied");
        assertRefusedToTheViewer("vnc", "con-vnc-denied", "VNC display", "vnc", "no address printed, no display");
        // The console verb does not open the display either, and a VM without VNC has none to open.
        assertThat(raw(fleet.namespace(), "con-vnc-denied", token(fleet.client(), fleet.namespace(), "console-user"),
                "vnc")).startsWith("HTTP/1.1 403 Forbidden").contains("cannot get virtualmachines/vnc")
                .doesNotContain("RFB");
        fleet.delete("con-vnc-denied");
    }

    /**
     * A web server inside the test guest (busybox httpd on the guest's loopback) reached through
     * {@code virtfleet vm port-forward}: local loopback port → CLI → TLS → agent → virtio-serial channel → the guest's
     * relay → 127.0.0.1:8080 in the guest. No packet goes to any network address outside this machine's loopback.
     */
    @Test
    void portForwardReachesAServiceOnTheGuestsLoopback() throws Exception {
        fleet.apply(fleet.testGuest("con-pf"));
        LibvirtGuest guest = fleet.guest(fleet.awaitReady("con-pf"));
        String marker = "VF-PF-" + UUID.randomUUID();
        assertThat(guest.exec("mkdir -p /tmp/www && echo " + marker + " > /tmp/www/index.html && "
                + "httpd -p 127.0.0.1:8080 -h /tmp/www").exitCode()).isZero();

        Process p = cli(vncUser, "vm", "port-forward", "con-pf", ":8080");
        ByteArrayOutputStream out = drain(p.getInputStream());
        int local = Integer.parseInt(awaitLine(p, out, "Forwarding from 127\\.0\\.0\\.1:([0-9]+) -> 8080 in "
                + "VirtualMachine " + fleet.namespace() + "/con-pf"));
        try {
            for (int i = 0; i < 2; i++) { // one session after the other over the VM's one channel
                assertThat(httpGet(local)).as("connection " + (i + 1) + "; stderr: " + stderr(p))
                        .startsWith("HTTP/1.").contains(marker);
            }
            List<String> cliListeners = listeners().stream().filter(l -> l.contains("pid=" + p.pid() + ","))
                    .toList();
            assertThat(cliListeners).as("the CLI listens on loopback only").isNotEmpty()
                    .allMatch(l -> loopback(l.split("\\s+")[3]));
        } finally {
            p.destroy();
            p.waitFor(10, TimeUnit.SECONDS);
        }
        // Nothing listens on the guest's port 9: the relay's reason reaches the client as the agent's answer.
        assertThat(raw(fleet.namespace(), "con-pf", token(fleet.client(), fleet.namespace(), "vnc-user"),
                "portforward/9")).startsWith("HTTP/1.1 502 Bad Gateway").contains("connection refused");
        fleet.delete("con-pf");
    }

    @Test
    void withoutThePortForwardVerbTheUserIsRefused() throws Exception {
        fleet.apply(fleet.testGuest("con-pf-denied"));
        fleet.awaitReady("con-pf-denied");
        Process p = cli(consoleUser, "vm", "port-forward", "con-pf-denied", "2222:22");
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isEqualTo(1);
        assertThat(stderr(p).lines().filter(l -> !l.isBlank()).toList()).singleElement().asString()
                .contains("forbidden").contains("virtualmachines/portforward");
        // The agent checks on its own, whatever a client does.
        assertThat(raw(fleet.namespace(), "con-pf-denied", token(fleet.client(), fleet.namespace(), "console-user"),
                "portforward/22")).startsWith("HTTP/1.1 403 Forbidden")
                .contains("cannot get virtualmachines/portforward");
        assertThat(raw(fleet.namespace(), "con-pf-denied", otherNamespaceToken, "portforward/22"))
                .startsWith("HTTP/1.1 403 Forbidden");
        fleet.delete("con-pf-denied");
    }

    static String httpGet(int port) throws IOException {
        try (java.net.Socket s = new java.net.Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
            s.setSoTimeout(30_000);
            s.getOutputStream().write("GET / HTTP/1.0\r\nHost: guest\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** {@code ss -ltnpH}: every listening TCP socket of this machine, with its process. */
    static List<String> listeners() throws Exception {
        Process ss = new ProcessBuilder("ss", "-ltnpH").redirectErrorStream(true).start();
        String out = new String(ss.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        ss.waitFor(10, TimeUnit.SECONDS);
        return out.lines().toList();
    }

    static boolean loopback(String local) {
        return local.startsWith("127.0.0.1:") || local.startsWith("[::1]:") || local.startsWith("[::ffff:127.0.0.1]:");
    }

    /** One console request to the endpoint published on the Host; the answer's head and first bytes. */
    static String raw(String ns, String vm, String token) throws Exception {
        return raw(ns, vm, token, "console");
    }

    /** One request for {@code sub} (console, vnc, portforward/PORT); the answer's head and first bytes. */
    static String raw(String ns, String vm, String token, String sub) throws Exception {
        Host host = fleet.client().resources(Host.class).withName(fleet.host("a")).get();
        URI uri = URI.create(host.getStatus().accessEndpoint.url);
        String pem = host.getStatus().accessEndpoint.certificate;
        SSLContext ctx = ConsoleTls.pinned(pem);
        try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket(uri.getHost(), uri.getPort())) {
            s.setSoTimeout(3000);
            OutputStream o = s.getOutputStream();
            o.write(("GET /apis/virtfleet.io/v1alpha1/namespaces/" + ns + "/virtualmachines/" + vm
                    + "/" + sub + " HTTP/1.1\r\n" + (token != null ? "Authorization: Bearer " + token + "\r\n" : "")
                    + "Connection: Upgrade\r\nUpgrade: virtfleet-console\r\n\r\n").getBytes(StandardCharsets.UTF_8));
            o.flush();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            byte[] b = new byte[4096];
            try {
                int n;
                while ((n = s.getInputStream().read(b)) > 0 && got.size() < 65536) {
                    got.write(b, 0, n);
                }
            } catch (java.net.SocketTimeoutException e) {
                // an open session sends nothing until the guest writes: the head is what counts
            }
            return got.toString(StandardCharsets.UTF_8);
        }
    }
}
