package io.virtfleet.agent.console;

import io.fabric8.kubernetes.api.model.authentication.UserInfo;
import io.fabric8.kubernetes.api.model.authorization.v1.ResourceAttributesBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.virtfleet.api.v1alpha1.ApiGroup;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.Host;
import io.virtfleet.api.v1alpha1.HostStatus;
import io.virtfleet.reconcilers.domain.xml.DomainDocument;
import io.virtfleet.observability.access.AccessReviews;
import io.virtfleet.observability.access.BearerAuth;
import io.virtfleet.observability.serving.TlsIdentity;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The serial consoles, VNC displays and guest TCP ports of this host's VMs for people authenticated and authorized by
 * Kubernetes, without any access to the host or the guest's network: {@code virtfleet vm console|vnc|port-forward}
 * connect here over TLS and send the user's own bearer token.
 *
 * <p>One request per connection, HTTP/1.1 with an upgrade (as {@code kubectl exec} upgrades to SPDY):
 * {@code GET /apis/virtfleet.io/v1alpha1/namespaces/NS/virtualmachines/NAME/SUB} where SUB is {@code console},
 * {@code vnc} or {@code portforward/PORT}, with {@code Authorization: Bearer TOKEN}. Before a single byte flows:
 * <ol>
 *   <li>TokenReview: the apiserver says who the token belongs to (a forged or expired token: 401);</li>
 *   <li>SubjectAccessReview for that user: verb {@code get} on {@code virtualmachines/console} (or {@code /vnc},
 *   {@code /portforward}) of that VM in its namespace, exactly as RBAC grants it
 *   ({@code resources: [virtualmachines/console], verbs: [get]}); otherwise 403 with the apiserver's reason;</li>
 *   <li>the VM's Domain must be assigned to this host (404 otherwise), and libvirt must open the stream
 *   ({@code virDomainOpenConsole}, {@code virDomainOpenGraphicsFD}, {@code virDomainOpenChannel}; 409 when it cannot,
 *   e.g. the domain is not running, has no VNC display, or another session has the console or the channel); a
 *   port-forward also needs the guest's relay to connect (502 with its reason otherwise).</li>
 * </ol>
 * Then {@code 101 Switching Protocols} and raw bytes both ways until either side closes.
 *
 * <p>The endpoint and its certificate are published in the Host's {@code status.accessEndpoint} (the status
 * subresource, which only agents may write, each only its own Host's); the client pins that certificate. Tokens are
 * never logged.
 */
public final class ConsoleServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ConsoleServer.class);

    /** The RBAC subresources of virtualmachines a session needs ({@code get}), one per kind of stream. */
    public static final String CONSOLE = "console";
    public static final String VNC = "vnc";
    public static final String PORT_FORWARD = "portforward";
    public static final List<String> SUBRESOURCES = List.of(CONSOLE, VNC, PORT_FORWARD);
    /** How long a port-forward waits for the guest's relay to answer. */
    static final long RELAY_TIMEOUT_MS = 10_000;
    static final int MAX_SESSIONS = 64;
    static final int HEAD_LIMIT = 16 * 1024;
    private static final Pattern PATH = Pattern.compile(
            "/apis/virtfleet\\.io/v1alpha1/namespaces/([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)/virtualmachines/"
                    + "([a-z0-9]([-.a-z0-9]{0,251}[a-z0-9])?)/(console|vnc|portforward/([0-9]{1,5}))");

    private final KubernetesClient client;
    /** Uncached: a revoked token or a removed grant stops the very next session. */
    private final BearerAuth auth;
    private final String host;
    private final String libvirtUri;
    private final InetSocketAddress bind;
    private final String advertise;
    private final Semaphore sessions = new Semaphore(MAX_SESSIONS);
    /** UUIDs of VMs with a port-forward session open: their one channel is taken. */
    private final java.util.Set<String> forwarding = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final ExecutorService pool = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "console-session");
        t.setDaemon(true);
        return t;
    });
    private SSLServerSocket server;
    private Thread acceptor;
    private volatile boolean closed;

    /**
     * @param advertise host name or address clients use to reach {@code bind}; null: the bind address (or this
     *                  machine's name when binding every address)
     */
    public ConsoleServer(KubernetesClient client, String host, String libvirtUri, InetSocketAddress bind,
                         String advertise) {
        this.client = client;
        this.auth = new BearerAuth(AccessReviews.uncached(client));
        this.host = host;
        this.libvirtUri = libvirtUri;
        this.bind = bind;
        this.advertise = advertise;
    }

    /** Binds, publishes the endpoint on the Host and accepts sessions; returns once it listens. */
    public synchronized ConsoleServer start() throws IOException, GeneralSecurityException {
        String name = advertise != null ? advertise : bind.getAddress().isAnyLocalAddress()
                ? InetAddress.getLocalHost().getHostName() : bind.getAddress().getHostAddress();
        List<String> sans = new ArrayList<>(List.of("dns:localhost", "ip:127.0.0.1"));
        sans.add((name.matches("[0-9.]+|.*:.*") ? "ip:" : "dns:") + name);
        TlsIdentity tls = TlsIdentity.selfSigned("virtfleet-agent-console", sans);
        server = (SSLServerSocket) tls.context.getServerSocketFactory().createServerSocket();
        server.setReuseAddress(true);
        server.bind(bind, 50);
        server.setEnabledProtocols(new String[] {"TLSv1.3"});
        String endpoint = "https://" + (name.contains(":") ? "[" + name + "]" : name) + ":" + port();
        publish(new HostStatus.AccessEndpoint(endpoint, tls.certificatePem, SUBRESOURCES));
        acceptor = new Thread(this::acceptLoop, "console-accept");
        acceptor.setDaemon(true);
        acceptor.start();
        LOG.info("console/VNC/port-forward endpoint {} (bound to {}:{}, TLS, Kubernetes TokenReview + "
                        + "SubjectAccessReview)",
                endpoint, bind.getAddress().getHostAddress(), port());
        return this;
    }

    public int port() {
        return server.getLocalPort();
    }

    /** Writes (or, {@code endpoint} null, removes) {@code status.accessEndpoint} of this agent's Host. */
    private void publish(HostStatus.AccessEndpoint endpoint) {
        // A merge patch: the agent's other status fields stay; null removes this one (RFC 7386).
        String patch = "{\"status\":{\"accessEndpoint\":"
                + (endpoint == null ? "null" : client.getKubernetesSerialization().asJson(endpoint)) + "}}";
        client.resources(Host.class).withName(host).subresource("status").patch(new PatchContext.Builder()
                .withPatchType(PatchType.JSON_MERGE).withFieldManager(ApiGroup.AGENT_FIELD_MANAGER).build(), patch);
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                Socket s = server.accept();
                if (!sessions.tryAcquire()) {
                    pool.execute(() -> {
                        try (s) {
                            refuse(s.getOutputStream(), 503, "Service Unavailable", "too many console sessions on "
                                    + "host " + host);
                        } catch (IOException ignored) {
                            // the client went away
                        }
                    });
                    continue;
                }
                pool.execute(() -> {
                    try {
                        serve((SSLSocket) s);
                    } finally {
                        sessions.release();
                    }
                });
            } catch (IOException e) {
                if (!closed) {
                    LOG.warn("console endpoint: accept failed: {}", e.getMessage());
                }
            }
        }
    }

    /** What the request head said. */
    record Request(String method, String path, Map<String, String> headers) {
    }

    private void serve(SSLSocket socket) {
        String who = "?";
        try (socket) {
            socket.setSoTimeout(15_000);
            InputStream in = socket.getInputStream();
            OutputStream out = socket.getOutputStream();
            Request req;
            try {
                req = readHead(in);
            } catch (IOException e) {
                refuse(out, 400, "Bad Request", e.getMessage());
                return;
            }
            // Who is asking comes first, as on the apiserver: a stranger learns nothing, not even which paths exist.
            BearerAuth.Outcome caller = auth.authenticate(req.headers().get("authorization"));
            if (!caller.allowed()) {
                refuse(out, caller.status(), reason(caller.status()), caller.message());
                return;
            }
            UserInfo user = caller.user();
            who = user.getUsername();
            Matcher m = PATH.matcher(req.path());
            if (!"GET".equals(req.method()) || !m.matches()) {
                refuse(out, 404, "Not Found", "expected GET /apis/virtfleet.io/v1alpha1/namespaces/NS/"
                        + "virtualmachines/NAME/console (or /vnc, /portforward/PORT)");
                return;
            }
            String ns = m.group(1);
            String name = m.group(3);
            String sub = m.group(5).startsWith(PORT_FORWARD) ? PORT_FORWARD : m.group(5);
            int guestPort = m.group(6) == null ? -1 : Integer.parseInt(m.group(6));
            if (sub.equals(PORT_FORWARD) && (guestPort < 1 || guestPort > 65535)) {
                refuse(out, 400, "Bad Request", "port " + m.group(6) + " is not a TCP port (1-65535)");
                return;
            }
            // Exactly as RBAC grants it: resources [virtualmachines/console], verbs [get], in the VM's namespace.
            BearerAuth.Outcome access = auth.authorize(user, new ResourceAttributesBuilder().withGroup(ApiGroup.GROUP)
                    .withResource("virtualmachines").withSubresource(sub).withVerb("get").withNamespace(ns)
                    .withName(name).build());
            if (!access.allowed()) {
                String denied = access.status() == 403 ? access.message().replaceFirst(
                        "(in the namespace \"[^\"]*\")", "$1 (VirtualMachine " + Matcher.quoteReplacement(name) + ")")
                        : access.message();
                LOG.info("{} of {}/{} refused to {}: {}", sub, ns, name, who, denied);
                refuse(out, access.status(), reason(access.status()), denied);
                return;
            }
            Domain domain = client.resources(Domain.class).inNamespace(ns).withName(name).get();
            if (domain == null || domain.getSpec() == null || !host.equals(domain.getSpec().host)
                    || domain.getSpec().uuid == null) {
                refuse(out, 404, "Not Found", "VirtualMachine " + ns + "/" + name + " does not run on host " + host);
                return;
            }
            String uuid = domain.getSpec().uuid.toLowerCase(Locale.ROOT);
            String what = switch (sub) {
                case VNC -> "VNC display";
                case PORT_FORWARD -> "port " + guestPort + " in the guest";
                default -> "serial console";
            } + " of VirtualMachine " + ns + "/" + name;
            if (sub.equals(PORT_FORWARD) && !forwarding.add(uuid)) {
                refuse(out, 409, "Conflict", "cannot open " + what + ": another port-forward session to this VM is "
                        + "open (one at a time)");
                return;
            }
            try {
                GuestStream stream;
                try {
                    stream = open(sub, uuid, guestPort, domain.getSpec().domainXml);
                } catch (PortForwardStream.RelayRefused e) {
                    refuse(out, 502, "Bad Gateway", "cannot open " + what + ": " + oneLine(e.getMessage()));
                    return;
                } catch (IOException e) {
                    refuse(out, 409, "Conflict", "cannot open " + what + ": " + oneLine(e.getMessage()));
                    return;
                }
                out.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: virtfleet-" + sub
                        + "\r\nConnection: Upgrade\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.flush();
                socket.setSoTimeout(0);
                LOG.info("{} opened by {}", what, who);
                pump(socket, in, out, stream);
                LOG.info("{} closed by {}", what, who);
            } finally {
                if (sub.equals(PORT_FORWARD)) {
                    forwarding.remove(uuid);
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.debug("console session of {} ended: {}", who, e.toString());
        }
    }

    private GuestStream open(String sub, String uuid, int guestPort, String domainXml) throws IOException {
        return switch (sub) {
            case VNC -> GraphicsStream.open(libvirtUri, uuid, vncIndex(domainXml));
            case PORT_FORWARD -> PortForwardStream.open(libvirtUri, uuid, guestPort, RELAY_TIMEOUT_MS);
            default -> CharDeviceStream.console(libvirtUri, uuid);
        };
    }

    /**
     * The index of the first VNC display among the domain's {@code <graphics>}, as {@code virDomainOpenGraphics}
     * counts them (every graphics device, whatever its type), read from the parsed domain.
     */
    static int vncIndex(String domainXml) throws IOException {
        int index;
        try {
            index = domainXml == null || domainXml.isBlank() ? -1
                    : DomainDocument.parse(domainXml).graphicsTypes().indexOf("vnc");
        } catch (DomainDocument.InvalidXmlException e) {
            throw new IOException("the VM's domain XML does not parse: " + e.getMessage(), e);
        }
        if (index < 0) {
            throw new IOException("the VM has no VNC display (spec.graphics: vnc)");
        }
        return index;
    }

    /** VM → client on a thread of its own, client → VM here; whichever ends first ends both. */
    private void pump(Socket socket, InputStream in, OutputStream out, GuestStream console) {
        Thread reader = new Thread(() -> {
            byte[] buf = new byte[8192];
            try {
                int n;
                while ((n = console.read(buf)) > 0) {
                    out.write(buf, 0, n);
                    out.flush();
                }
            } catch (IOException e) {
                LOG.debug("console output ended: {}", e.getMessage());
            } finally {
                try {
                    socket.close(); // ends the input loop below
                } catch (IOException ignored) {
                    // already closed
                }
            }
        }, "session-output");
        reader.setDaemon(true);
        reader.start();
        byte[] buf = new byte[4096];
        try {
            int n;
            while ((n = in.read(buf)) > 0) {
                console.write(buf, n);
            }
        } catch (IOException e) {
            LOG.debug("console input ended: {}", e.getMessage());
        } finally {
            console.abort();
            try {
                socket.close();
            } catch (IOException ignored) {
                // already closed
            }
            try {
                reader.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (reader.isAlive()) {
                // Still inside virStreamRecv: freeing the stream now would crash; leak it rather.
                LOG.warn("session output thread did not stop; leaving its stream open");
            } else {
                console.close();
            }
        }
    }

    static Request readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int state = 0;
        while (state < 4) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("the request ended before its headers did");
            }
            head.write(b);
            if (head.size() > HEAD_LIMIT) {
                throw new IOException("request headers longer than " + HEAD_LIMIT + " bytes");
            }
            state = (b == '\r' && (state == 0 || state == 2)) ? state + 1
                    : (b == '\n' && (state == 1 || state == 3)) ? state + 1 : (b == '\r' ? 1 : 0);
        }
        String[] lines = head.toString(StandardCharsets.ISO_8859_1).split("\r\n");
        String[] first = lines[0].split(" ");
        if (first.length != 3 || !first[2].startsWith("HTTP/1.")) {
            throw new IOException("not an HTTP/1.1 request line");
        }
        Map<String, String> headers = new HashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int c = lines[i].indexOf(':');
            if (c > 0) {
                headers.put(lines[i].substring(0, c).trim().toLowerCase(Locale.ROOT), lines[i].substring(c + 1).trim());
            }
        }
        return new Request(first[0], first[1], headers);
    }

    private static void refuse(OutputStream out, int code, String status, String message) throws IOException {
        byte[] body = (message + "\n").getBytes(StandardCharsets.UTF_8);
        out.write(("HTTP/1.1 " + code + " " + status + "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: "
                + body.length + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(body);
        out.flush();
    }

    private static String reason(int status) {
        return switch (status) {
            case 401 -> "Unauthorized";
            case 403 -> "Forbidden";
            default -> "Service Unavailable";
        };
    }

    private static String oneLine(String s) {
        return s == null ? "" : s.strip().lines().findFirst().orElse("");
    }

    @Override
    public synchronized void close() {
        closed = true;
        try {
            if (server != null) {
                server.close();
            }
        } catch (IOException ignored) {
            // closing anyway
        }
        pool.shutdownNow();
        try {
            publish(null);
        } catch (KubernetesClientException e) {
            LOG.debug("could not unpublish the console endpoint: {}", e.getMessage());
        }
    }
}
