package io.virtfleet.operator;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ManagedFieldsEntry;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.virtfleet.api.v1alpha1.ApiGroup;
import io.virtfleet.api.v1alpha1.Domain;
import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.controlplane.EmbeddedControlPlane;
import io.virtfleet.controlplane.Namespaces;
import io.virtfleet.reconcilers.lifecycle.Conditions;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Operator tests run against a REAL kube-apiserver + etcd (the JVM's shared {@link EmbeddedControlPlane}), with fake
 * hosts ({@link FakeAgent}). Each test class works in its own namespace(s) and its own host names, so classes do not
 * see each other's objects.
 */
abstract class OperatorTestSupport {
    static final String USER = "test-user";
    static EmbeddedControlPlane cp;
    static KubernetesClient client;
    private static final ObjectMapper JSON = new ObjectMapper();
    /** What each test VM's owner last wrote (ns/name → manifest), for the drift check. */
    static final Map<String, GenericKubernetesResource> written = new ConcurrentHashMap<>();

    @BeforeAll
    static void controlPlane() {
        cp = EmbeddedControlPlane.shared();
        client = cp.client();
        ensureNamespace(ApiGroup.SYSTEM_NAMESPACE);
        Awaitility.setDefaultPollInterval(Duration.ofMillis(100));
        Awaitility.setDefaultTimeout(Duration.ofSeconds(30));
    }

    /** The fake hosts the running test started with {@link #testHost}. */
    private final List<FakeAgent> testHosts = new ArrayList<>();

    /** A ready fake host for the running test only: it is closed (its Host left not ready) after the test. */
    FakeAgent testHost(String name, Map<String, String> labels, int cpus, String memory, String... drivers) {
        return testHost(name, labels, cpus, memory, true, drivers);
    }

    /** The same; with {@code auto} false it heartbeats but never acts on its Domains (a slow or stuck agent). */
    FakeAgent testHost(String name, Map<String, String> labels, int cpus, String memory, boolean auto,
                       String... drivers) {
        FakeAgent a = FakeAgent.start(client, name, labels, cpus, memory, auto, drivers);
        testHosts.add(a);
        return a;
    }

    @AfterEach
    void closeTestHosts() {
        testHosts.forEach(FakeAgent::close);
        testHosts.clear();
    }

    static ConditionFactory eventually() {
        return Awaitility.await().ignoreExceptions();
    }

    static String newNamespace(String prefix) {
        String ns = uniqueName(prefix);
        ensureNamespace(ns);
        return ns;
    }

    /** {@code prefix-} and six random hex digits: a name no other test class or earlier run uses. */
    static String uniqueName(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 6);
    }

    static void ensureNamespace(String ns) {
        Namespaces.ensure(client, ns);
    }

    /**
     * The operator configuration tests start from: pending VMs are looked at again every 5 s (not the default 30 s),
     * so a test need not wait for a Host or Lease event. A test that wants to see only what those events trigger
     * sets a longer {@code pendingRetry} on it.
     */
    static OperatorConfig.Builder testConfig() {
        return OperatorConfig.builder().pendingRetry(Duration.ofSeconds(5));
    }

    /**
     * An operator with its own client (as a separate process would have), reconciling only {@code namespaces}, built
     * from {@code config} as given (start from {@link #testConfig()}).
     */
    static VirtfleetOperator startOperator(OperatorConfig.Builder config, String... namespaces) {
        KubernetesClient own = new KubernetesClientBuilder().withConfig(cp.config()).build();
        VirtfleetOperator op = new VirtfleetOperator(config.namespaces(Set.of(namespaces))
                .exitOnLostLeadership(false).build());
        op.start(own);
        clients.put(op, own);
        return op;
    }

    private static final Map<VirtfleetOperator, KubernetesClient> clients = new ConcurrentHashMap<>();

    static void stopOperator(VirtfleetOperator op) {
        if (op == null) {
            return;
        }
        op.close();
        KubernetesClient c = clients.remove(op);
        if (c != null) {
            c.close();
        }
    }

    /** kubectl apply --server-side, as the VM's owner; returns {@code vm}. */
    static TestVm apply(TestVm vm) {
        client.genericKubernetesResources(ApiGroup.API_VERSION, "VirtualMachine").inNamespace(vm.namespace)
                .resource(manifest(vm)).fieldManager(USER).forceConflicts().serverSideApply();
        return recordWritten(vm);
    }

    /** Records {@code vm}'s manifest as what its owner last wrote, for {@link #assertNoDrift}; returns {@code vm}. */
    static TestVm recordWritten(TestVm vm) {
        written.put(vm.namespace + "/" + vm.name, manifest(vm));
        return vm;
    }

    private static GenericKubernetesResource manifest(TestVm vm) {
        return client.getKubernetesSerialization().unmarshal(vm.yaml(), GenericKubernetesResource.class);
    }

    /** Applies {@code vm} and waits until its status says Running; returns {@code vm}. */
    static TestVm running(TestVm vm) {
        apply(vm);
        eventually().until(() -> "Running".equals(printable(vm.namespace, vm.name)));
        return vm;
    }

    /** Sets one annotation as the owner would (kubectl annotate --overwrite), and remembers it for the drift check. */
    static void annotate(TestVm vm, String key, String value) {
        vm.annotate(key, value);
        apply(vm);
    }

    static VirtualMachine vm(String ns, String name) {
        return client.resources(VirtualMachine.class).inNamespace(ns).withName(name).get();
    }

    static Domain domain(String ns, String name) {
        return client.resources(Domain.class).inNamespace(ns).withName(name).get();
    }

    static Condition condition(VirtualMachine vm, String type) {
        return vm == null || vm.getStatus() == null ? null : Conditions.find(vm.getStatus().conditions, type);
    }

    static String conditionStatus(String ns, String name, String type) {
        Condition c = condition(vm(ns, name), type);
        return c == null ? null : c.getStatus() + "/" + c.getReason();
    }

    static String printable(String ns, String name) {
        VirtualMachine v = vm(ns, name);
        return v == null || v.getStatus() == null ? null : v.getStatus().printableStatus;
    }

    static long restartGeneration(String ns, String name) {
        Domain d = domain(ns, name);
        return d == null || d.getSpec().restartGeneration == null ? -1 : d.getSpec().restartGeneration;
    }

    static List<Event> events(String ns, String name) {
        List<Event> out = new ArrayList<>();
        for (Event e : client.v1().events().inNamespace(ns).list().getItems()) {
            if (e.getInvolvedObject() != null && name.equals(e.getInvolvedObject().getName())) {
                out.add(e);
            }
        }
        return out;
    }

    static List<String> eventReasons(String ns, String name) {
        return events(ns, name).stream().map(Event::getReason).toList();
    }

    /**
     * The VM's spec and metadata are exactly what its owner wrote: virtfleet added nothing, not even a finalizer
     * (the server only its bookkeeping), and its field manager owns nothing but status.
     */
    static void assertNoDrift(String ns, String name) {
        GenericKubernetesResource doc = written.get(ns + "/" + name);
        GenericKubernetesResource live = client.genericKubernetesResources(ApiGroup.API_VERSION, "VirtualMachine")
                .inNamespace(ns).withName(name).get();
        assertThat(live).as("VM " + ns + "/" + name).isNotNull();
        JsonNode want = JSON.valueToTree(doc);
        JsonNode got = JSON.valueToTree(live);
        assertThat(got.get("spec")).as("spec of " + name).isEqualTo(want.get("spec"));
        ObjectNode wantMeta = ((ObjectNode) want.get("metadata")).deepCopy();
        ObjectNode gotMeta = ((ObjectNode) got.get("metadata")).deepCopy();
        assertThat(live.getMetadata().getFinalizers()).as("finalizers").isNullOrEmpty();
        for (String server : List.of("finalizers", "managedFields", "resourceVersion", "generation", "uid",
                "creationTimestamp")) {
            gotMeta.remove(server);
        }
        assertThat(gotMeta).as("metadata of " + name).isEqualTo(wantMeta);
        for (ManagedFieldsEntry m : live.getMetadata().getManagedFields()) {
            if (!ApiGroup.OPERATOR_FIELD_MANAGER.equals(m.getManager())) {
                continue;
            }
            Map<String, Object> fields = new HashMap<>(m.getFieldsV1().getAdditionalProperties());
            fields.remove("f:status");
            if (fields.containsKey("f:metadata")) {
                @SuppressWarnings("unchecked")
                Map<String, Object> meta = new HashMap<>((Map<String, Object>) fields.remove("f:metadata"));
                assertThat(meta).as("metadata fields owned by the operator").isEmpty();
            }
            assertThat(fields).as("fields owned by the operator (" + m.getOperation() + ")").isEmpty();
        }
    }
}
