package io.virtfleet.operator;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * One test class's namespaces and the operator reconciling them (optionally with one ready FakeAgent host), started
 * before the class's tests and stopped after them. Register it on a static field:
 * <pre>{@code @RegisterExtension static final ClassOperator fixture = new ClassOperator("sched");}</pre>
 * The names are chosen when the field is initialised, so the class can keep them in its own static fields; the
 * objects are made in {@link #beforeAll}.
 */
final class ClassOperator implements BeforeAllCallback, AfterAllCallback {
    /** The first namespace; {@link #namespaces} lists all of them, each the operator watches. */
    final String ns;
    final List<String> namespaces;
    /** The FakeAgent host's name (null without one). */
    final String host;
    private final String prefix;
    private final Supplier<OperatorConfig.Builder> config;
    private VirtfleetOperator operator;
    private FakeAgent agent;

    /** Namespaces named {@code prefix-<random>}, one per prefix, and an operator with the default configuration. */
    ClassOperator(String... prefixes) {
        this(prefixes[0], OperatorTestSupport::testConfig, null,
                Arrays.stream(prefixes).map(OperatorTestSupport::uniqueName).toList());
    }

    private ClassOperator(String prefix, Supplier<OperatorConfig.Builder> config, String host,
                          List<String> namespaces) {
        this.prefix = prefix;
        this.config = config;
        this.host = host;
        this.namespaces = namespaces;
        this.ns = namespaces.get(0);
    }

    /** The same, the operator built from {@code config} (startOperator adds the namespaces). */
    ClassOperator configured(Supplier<OperatorConfig.Builder> config) {
        return new ClassOperator(prefix, config, host, namespaces);
    }

    /**
     * The same, with a ready FakeAgent host for the whole class (8 CPUs, 16Gi, kvm and qemu, no labels), named after
     * the first namespace's prefix.
     */
    ClassOperator withHost() {
        return new ClassOperator(prefix, config, OperatorTestSupport.uniqueName(prefix), namespaces);
    }

    VirtfleetOperator operator() {
        return operator;
    }

    /** Stops the operator and starts a new one with the same configuration (what a rollout of it does). */
    void restart() {
        OperatorTestSupport.stopOperator(operator);
        operator = start();
    }

    private VirtfleetOperator start() {
        return OperatorTestSupport.startOperator(config.get(), namespaces.toArray(String[]::new));
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        // A static extension's beforeAll runs before the class's (and OperatorTestSupport's) @BeforeAll methods,
        // so it connects to the control plane itself.
        OperatorTestSupport.controlPlane();
        namespaces.forEach(OperatorTestSupport::ensureNamespace);
        if (host != null) {
            agent = FakeAgent.start(OperatorTestSupport.client, host, Map.of(), 8, "16Gi", true, "kvm", "qemu");
        }
        operator = start();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        OperatorTestSupport.stopOperator(operator);
        if (agent != null) {
            agent.close();
        }
    }
}
