package io.virtfleet.agent;

import io.fabric8.kubernetes.client.KubernetesClient;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.time.Duration;
import java.util.function.UnaryOperator;

import static org.awaitility.Awaitility.await;

/**
 * One integration test class's place on the shared kube-apiserver ({@link TestEnv#client()}): a fresh host name and
 * namespace, the class's {@link DomainObjects}, and, when asked for, a node agent for that host. Register it as
 * {@code @RegisterExtension static final TestHost ENV = TestHost.withAgent("what", config -> ...);}: JUnit 5 runs a
 * static extension's {@code beforeAll} before the class's {@code @BeforeAll} methods and its {@code afterAll} (which
 * closes the agent) after the class's {@code @AfterAll} methods.
 */
public final class TestHost implements BeforeAllCallback, AfterAllCallback {
    private final String what;
    private final UnaryOperator<AgentConfig> agentConfig;
    private KubernetesClient client;
    private String host;
    private String ns;
    private DomainObjects objects;
    private NodeAgent agent;

    private TestHost(String what, UnaryOperator<AgentConfig> agentConfig) {
        this.what = what;
        this.agentConfig = agentConfig;
    }

    /** A host name and namespace named after {@code what}, no agent (the test builds the agent's parts itself). */
    public static TestHost withoutAgent(String what) {
        return new TestHost(what, null);
    }

    /**
     * As {@link #withoutAgent}, and an agent for the host, configured by {@code config} from
     * {@code AgentConfig.forHost(host)}, started before the class's tests (see {@link #startAgent()}).
     */
    public static TestHost withAgent(String what, UnaryOperator<AgentConfig> config) {
        return new TestHost(what, config);
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        client = TestEnv.client();
        host = TestEnv.newHost(what);
        ns = TestEnv.newNamespace(client, what);
        objects = new DomainObjects(client, ns);
        if (agentConfig != null) {
            startAgent();
        }
    }

    /**
     * Starts a new agent for the host (after the test closed the last one, e.g. to restart it) and waits until it is
     * connected to libvirt and has listed the host's Domains.
     */
    public NodeAgent startAgent() {
        NodeAgent a = new NodeAgent(agentConfig.apply(AgentConfig.forHost(host)), client);
        agent = a;
        a.start();
        await().atMost(Duration.ofSeconds(30)).until(() -> a.isLibvirtConnected() && a.hasSynced());
        return a;
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (agent != null) {
            agent.close();
        }
    }

    public KubernetesClient client() {
        return client;
    }

    public String host() {
        return host;
    }

    public String ns() {
        return ns;
    }

    public DomainObjects objects() {
        return objects;
    }

    public NodeAgent agent() {
        return agent;
    }
}
