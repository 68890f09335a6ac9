package io.virtfleet.agent;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.virtfleet.agent.libvirt.LibvirtConnection;
import io.virtfleet.api.v1alpha1.ApiGroup;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.DomainSpec;
import io.virtfleet.controlplane.EmbeddedControlPlane;
import io.virtfleet.controlplane.Namespaces;
import io.virtfleet.controlplane.RepoRoot;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.libvirt.Connect;
import org.libvirt.LibvirtException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.awaitility.Awaitility.await;

/**
 * Shared fixture of the agent's integration tests: the real kube-apiserver (one per test JVM), the real libvirtd
 * (qemu:///system) and the project's test guest. Missing pieces FAIL with the script that provides them.
 *
 * <p>Test domains are named {@code vfat-<run>-<n>} and marked for hosts named {@code agent-test-<jvm pid>-...}, so
 * leftovers of a crashed run are recognised (their JVM is gone) and removed, without touching a concurrent run.
 */
public final class TestEnv {
    public static final String URI = "qemu:///system";
    public static final String DOMAIN_PREFIX = "vfat-";
    public static final Path GUEST_DIR = Path.of("/var/lib/virtfleet/images/test-guest");
    public static final Path IMAGES = Path.of("/var/lib/virtfleet/images");
    static final String HOST_PREFIX = "agent-test-";

    private static EmbeddedControlPlane controlPlane;
    private static final String RUN = Long.toString(ThreadLocalRandom.current().nextLong(1L << 40, 1L << 41), 36);
    private static int counter;

    private TestEnv() {
    }

    /** The shared control plane (started on first use; stopped when the JVM exits). */
    public static synchronized EmbeddedControlPlane controlPlane() {
        if (controlPlane == null) {
            requireLibvirt();
            requireTestGuest();
            cleanLeftovers();
            controlPlane = EmbeddedControlPlane.builder().start();
            Runtime.getRuntime().addShutdownHook(new Thread(() -> controlPlane.close()));
        }
        return controlPlane;
    }

    public static KubernetesClient client() {
        return controlPlane().client();
    }

    /** A fresh host name for an agent of this JVM. */
    public static synchronized String newHost(String what) {
        return HOST_PREFIX + ProcessHandle.current().pid() + "-" + RUN + "-" + what + "-" + (++counter);
    }

    public static synchronized String newDomainName() {
        return DOMAIN_PREFIX + RUN + "-" + (++counter);
    }

    public static String newNamespace(KubernetesClient c, String what) {
        String ns = "at-" + RUN + "-" + what;
        Namespaces.ensure(c, ns);
        return ns;
    }

    // ------------------------------------------------------------------------------------------------ preconditions

    static void requireLibvirt() {
        if (!Files.exists(Path.of("/run/libvirt/libvirt-sock"))) {
            throw new AssertionError("libvirtd is not running (/run/libvirt/libvirt-sock missing): run "
                    + "scripts/install-libvirt as root");
        }
        Result r = run(30, "virsh", "-c", URI, "version");
        if (r.rc != 0) {
            throw new AssertionError("libvirtd does not answer on " + URI + " (" + r.out.strip() + "): run "
                    + "scripts/install-libvirt as root");
        }
    }

    static void requireTestGuest() {
        for (String f : new String[] {"domain-example.xml", "vmlinuz", "initrd.img", "data.qcow2"}) {
            if (!Files.isRegularFile(GUEST_DIR.resolve(f))) {
                throw new AssertionError("test guest file " + GUEST_DIR.resolve(f) + " missing: run "
                        + "scripts/build-test-guest");
            }
        }
    }

    // ------------------------------------------------------------------------------------------------- guest XML

    /** A guest domain (XML from the test guest's domain-example.xml) with a fresh uuid, marked for {@code host}. */
    public record Guest(String name, String uuid, String xml, Path disk) {
    }

    public static Guest guest(String host, String namespace) {
        return guest(host, namespace, newDomainName(), UUID.randomUUID().toString());
    }

    public static Guest guest(String host, String namespace, String name, String uuid) {
        try {
            String example = Files.readString(GUEST_DIR.resolve("domain-example.xml"));
            String exampleName = extract(example, "<name>([^<]+)</name>");
            Path disk = IMAGES.resolve(name + "-data.qcow2");
            Files.copy(GUEST_DIR.resolve("data.qcow2"), disk, StandardCopyOption.REPLACE_EXISTING);
            String xml = example.replace(exampleName, name)
                    .replaceFirst("<domain type='[a-z]+'>", "<domain type='qemu'>")
                    .replaceFirst("</name>", "</name>\n  <uuid>" + uuid + "</uuid>\n  <metadata>\n    "
                            + mark(host, namespace, name) + "\n  </metadata>");
            // the example's data disk: make sure it points at our copy
            xml = xml.replaceAll("<source file='[^']*-data\\.qcow2'/>", "<source file='" + disk + "'/>");
            return new Guest(name, uuid, xml, disk);
        } catch (IOException e) {
            throw new AssertionError("cannot build the test guest XML from " + GUEST_DIR + ": " + e, e);
        }
    }

    public static String mark(String host, String namespace, String name) {
        return "<virtfleet:vm xmlns:virtfleet=\"" + ApiGroup.LIBVIRT_METADATA_NS + "\" namespace=\"" + namespace
                + "\" name=\"" + name + "\" uid=\"test\" host=\"" + host + "\"/>";
    }

    private static String extract(String s, String regex) {
        Matcher m = Pattern.compile(regex).matcher(s);
        if (!m.find()) {
            throw new AssertionError("no match for " + regex);
        }
        return m.group(1).strip();
    }

    public static Domain domainObject(String namespace, String name, String host, Guest g, String power) {
        Domain d = new Domain();
        d.setMetadata(new ObjectMetaBuilder().withNamespace(namespace).withName(name)
                .withLabels(Map.of(ApiGroup.HOST_LABEL, host)).build());
        DomainSpec s = new DomainSpec();
        s.host = host;
        s.uuid = g.uuid();
        s.domainXml = g.xml();
        s.powerState = power;
        s.restartGeneration = 1L;
        s.shutdownTimeoutSeconds = 3;
        d.setSpec(s);
        return d;
    }

    // --------------------------------------------------------------------------------------------------- libvirt

    /** A listener for tests that do not follow libvirt's events. */
    public static final LibvirtConnection.Listener NO_EVENTS = new LibvirtConnection.Listener() {
        @Override
        public void domainEvent(String uuid, String event) {
        }

        @Override
        public void connected() {
        }

        @Override
        public void disconnected(String reason) {
        }
    };

    /** The agent's libvirt connection to {@code uri} for a test, started and connected (else the test fails). */
    public static LibvirtConnection libvirt(String uri, ScheduledExecutorService scheduler) {
        LibvirtConnection c = new LibvirtConnection(uri, NO_EVENTS, scheduler);
        c.start();
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50)).until(c::isConnected);
        return c;
    }

    /**
     * A libvirt connection for a whole test class, on a scheduler of its own. Register it as
     * {@code @RegisterExtension static final TestEnv.LibvirtFixture LIBVIRT = TestEnv.LibvirtFixture.connected(uri);}
     * JUnit 5 runs a static extension's {@code beforeAll} before the class's {@code @BeforeAll} methods and its
     * {@code afterAll} after the class's {@code @AfterAll} methods, so those may use the connection, and what they
     * build on it is closed before it.
     */
    public static final class LibvirtFixture implements BeforeAllCallback, AfterAllCallback {
        private final String uri;
        private final boolean awaitConnected;
        private ScheduledExecutorService scheduler;
        private LibvirtConnection connection;

        private LibvirtFixture(String uri, boolean awaitConnected) {
            this.uri = uri;
            this.awaitConnected = awaitConnected;
        }

        /** Connected to {@code uri} before the class's tests run (else they fail), as {@link #libvirt} makes it. */
        public static LibvirtFixture connected(String uri) {
            return new LibvirtFixture(uri, true);
        }

        /** Started on {@code uri} without waiting: for a libvirtd that is not there, which the agent keeps retrying. */
        public static LibvirtFixture started(String uri) {
            return new LibvirtFixture(uri, false);
        }

        @Override
        public void beforeAll(ExtensionContext context) {
            scheduler = Executors.newSingleThreadScheduledExecutor();
            if (awaitConnected) {
                connection = libvirt(uri, scheduler);
            } else {
                connection = new LibvirtConnection(uri, NO_EVENTS, scheduler);
                connection.start();
            }
        }

        @Override
        public void afterAll(ExtensionContext context) {
            Closer.closeInOrder(connection);
            scheduler.shutdownNow();
        }

        public LibvirtConnection connection() {
            return connection;
        }
    }

    /**
     * A libvirt-java connection of a test class's own to {@code uri} (e.g. the test driver, whose one in-memory
     * hypervisor the agent's connections in this process share), for defining domains behind the agent's back. What
     * a test defines with {@link #define} is destroyed and undefined after it, after the class's {@code @AfterEach}
     * methods (JUnit 5's order for a static extension); the connection is closed after its {@code @AfterAll} methods.
     */
    public static final class DirectLibvirt implements BeforeAllCallback, AfterEachCallback, AfterAllCallback {
        private final String uri;
        private final List<String> defined = new CopyOnWriteArrayList<>();
        private Connect connect;

        public DirectLibvirt(String uri) {
            this.uri = uri;
        }

        @Override
        public void beforeAll(ExtensionContext context) throws LibvirtException {
            connect = new Connect(uri);
        }

        public Connect connect() {
            return connect;
        }

        /** Defines {@code xml} (whose UUID is {@code uuid}), to be removed after the test. */
        public org.libvirt.Domain define(String uuid, String xml) throws LibvirtException {
            org.libvirt.Domain d = connect.domainDefineXML(xml);
            defined.add(uuid);
            return d;
        }

        @Override
        public void afterEach(ExtensionContext context) {
            for (String uuid : defined) {
                try {
                    org.libvirt.Domain d = connect.domainLookupByUUIDString(uuid);
                    if (d.isActive() == 1) {
                        d.destroy();
                    }
                    d.undefine();
                } catch (LibvirtException e) {
                    // already gone (the agent may have undefined it, which some tests expect)
                }
            }
            defined.clear();
        }

        @Override
        public void afterAll(ExtensionContext context) throws LibvirtException {
            if (connect != null) {
                connect.close();
            }
        }
    }

    public record Result(int rc, String out) {
    }

    public static Result run(int timeoutSeconds, String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError(String.join(" ", cmd) + " timed out");
            }
            return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new AssertionError("cannot run " + String.join(" ", cmd) + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    public static Result virsh(String... args) {
        return virshAt(URI, args);
    }

    /** virsh on the libvirtd at {@code uri} (e.g. one of scripts/libvirt-host). */
    public static Result virshAt(String uri, String... args) {
        List<String> cmd = new ArrayList<>(List.of("virsh", "-q", "-c", uri));
        cmd.addAll(List.of(args));
        return run(60, cmd.toArray(String[]::new));
    }

    /** True when libvirt has a domain with this UUID. */
    public static boolean defined(String uuid) {
        // (domuuid only takes names or ids; domname takes ids or UUIDs)
        return virsh("domname", uuid).rc() == 0;
    }

    /** libvirt's state of the domain ("running", "shut off", ...), null when undefined. */
    public static String state(String uuid) {
        Result r = virsh("domstate", uuid);
        return r.rc() == 0 ? r.out().strip() : null;
    }

    public static int domId(String uuid) {
        Result r = virsh("domid", uuid);
        String s = r.out().strip();
        return s.equals("-") || s.isEmpty() ? -1 : Integer.parseInt(s);
    }

    public static final Path RUN_DIR = Path.of("/var/lib/virtfleet/run");

    /** Destroys and undefines the domain (if there is one), deletes its disk copy and run files; never fails. */
    public static void removeDomain(TestEnv.Guest g) {
        virsh("destroy", g.uuid());
        virsh("undefine", "--nvram", "--managed-save", "--snapshots-metadata", g.uuid());
        deleteFiles(g.name());
    }

    private static void deleteFiles(String name) {
        for (Path p : new Path[] {IMAGES.resolve(name + "-data.qcow2"), RUN_DIR.resolve(name + ".console.log"),
            RUN_DIR.resolve(name + ".cmd.sock")}) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException e) {
                System.err.println("cannot delete " + p + ": " + e);
            }
        }
    }

    /** Removes test domains whose host name says they belong to a JVM that is gone. */
    static void cleanLeftovers() {
        Result list = virsh("list", "--all", "--name");
        for (String name : list.out().split("\\R")) {
            name = name.strip();
            if (!name.startsWith(DOMAIN_PREFIX)) {
                continue;
            }
            String xml = virsh("dumpxml", name).out();
            Matcher m = Pattern.compile("host=\"" + HOST_PREFIX + "(\\d+)-").matcher(xml);
            if (m.find() && ProcessHandle.of(Long.parseLong(m.group(1))).map(ProcessHandle::isAlive).orElse(false)) {
                continue; // a live test JVM's domain
            }
            System.err.println("removing leftover test domain " + name);
            virsh("destroy", name);
            virsh("undefine", "--nvram", name);
            deleteFiles(name);
        }
    }

    /** The repository root (for scripts). */
    public static Path repo() {
        return RepoRoot.require();
    }
}
