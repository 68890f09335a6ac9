package io.virtfleet.bench.jmh;

import io.virtfleet.api.v1alpha1.VirtualMachine;
import io.virtfleet.reconcilers.domain.xml.DomainDef;
import io.virtfleet.reconcilers.domain.xml.DomainXmlCodec;
import io.virtfleet.reconcilers.hotplug.DeviceAction;
import io.virtfleet.reconcilers.hotplug.DevicePlanner;
import io.virtfleet.reconcilers.manifest.ManifestDocument;
import io.virtfleet.reconcilers.manifest.Manifests;
import io.virtfleet.reconcilers.render.DomainRenderer;
import io.virtfleet.reconcilers.render.DomainXml;
import io.virtfleet.reconcilers.render.HostInfo;
import io.virtfleet.reconcilers.render.Identity;
import io.virtfleet.reconcilers.render.RenderOptions;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.w3c.dom.Document;

import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.transform.OutputKeys;
import javax.xml.transform.Transformer;
import javax.xml.transform.TransformerFactory;
import javax.xml.transform.dom.DOMSource;
import javax.xml.transform.stream.StreamResult;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Domain XML rendering of the seed-004 VM (examples/seed-004.yaml, the full q35 virt-install domain), one thread, so
 * the score is renders per second per core. {@link #floorJdkSerialize} is the floor it is divided by: the JDK's own
 * XML serializer writing the very same document from an already-built DOM (no validation, no model) on the same core
 * in the same run.
 *
 * <p>{@link #plan} and {@link #planFromXml}: the hot-plug planner ({@code DevicePlanner}) on a 20-device diff — a live
 * domain with 10 disks + 10 interfaces, a desired one that keeps 10, removes 5 disks, changes 5 interfaces' model
 * (RestartRequired) and adds 5 disks + 5 interfaces; {@code planFromXml} includes parsing both documents, as the
 * agent does on every sync of a running domain.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class RenderBenchmark {
    /** System property with the path of examples/seed-004.yaml (set by the render scenario for forked JVMs). */
    public static final String SEED_PROPERTY = "virtfleet.bench.seed004";

    private VirtualMachine vm;
    private HostInfo host;
    private RenderOptions options;
    private String liveXml;
    private String desiredXml;
    private DomainDef live;
    private DomainDef desired;
    private Document dom;
    private Transformer transformer;

    @Setup
    public void setup() throws Exception {
        vm = load(Path.of(System.getProperty(SEED_PROPERTY, "examples/seed-004.yaml")));
        host = new HostInfo("node-a", List.of("/var/lib/virtfleet"), "", null, null);
        options = new RenderOptions(Identity.uuidFor(vm), null);
        String xml = render().xml();
        var f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(true);
        dom = f.newDocumentBuilder().parse(new org.xml.sax.InputSource(new StringReader(xml)));
        transformer = TransformerFactory.newInstance().newTransformer();
        transformer.setOutputProperty(OutputKeys.OMIT_XML_DECLARATION, "yes");
        RenderOptions planOptions = new RenderOptions("6c1d3a52-6f1e-4cc4-9a0b-3f4c1b7e2a10", null);
        liveXml = DomainRenderer.render(devices(0, 10, 10, 10, null), host, planOptions).xml();
        desiredXml = DomainRenderer.render(devices(0, 5, 10, 15, "e1000"), host, planOptions).xml();
        live = DomainXmlCodec.parse(liveXml);
        desired = DomainXmlCodec.parse(desiredXml);
        int actions = DevicePlanner.plan(desired, live).size();
        if (actions != 20) {
            throw new IllegalStateException("the plan benchmark's diff should have 20 actions, has " + actions);
        }
    }

    /**
     * A small VM with disks {@code d<from>..d<to-1>} plus {@code d<addFrom>..d<addTo-1>} and as many interfaces
     * {@code n<i>}; interfaces 0-4 get {@code changedModel} when it is set.
     */
    static VirtualMachine devices(int from, int to, int addFrom, int addTo, String changedModel) {
        StringBuilder y = new StringBuilder("""
                apiVersion: virtfleet.io/v1alpha1
                kind: VirtualMachine
                metadata: {name: plan, namespace: bench}
                spec:
                  hypervisor: kvm
                  memory: 1Gi
                  cpu: {cores: 2}
                  disks:
                """);
        for (int i = from; i < to; i++) {
            y.append("  - {name: d").append(i).append(", volume: {path: /var/lib/virtfleet/images/d").append(i)
                    .append(".qcow2, format: qcow2}}\n");
        }
        for (int i = addFrom; i < addTo; i++) {
            y.append("  - {name: d").append(i).append(", volume: {path: /var/lib/virtfleet/images/d").append(i)
                    .append(".qcow2, format: qcow2}}\n");
        }
        y.append("  interfaces:\n");
        for (int i = 0; i < 10 + (addTo - addFrom); i++) {
            String model = changedModel != null && i < 5 ? changedModel : "virtio";
            y.append("  - {name: n").append(i).append(", bridge: br0, model: ").append(model)
                    .append(String.format(", macAddress: \"52:54:00:00:01:%02x\"}%n", i));
        }
        List<ManifestDocument> docs = Manifests.parse(y.toString());
        if (docs.isEmpty() || docs.get(0).vm() == null || !docs.get(0).errors().isEmpty()) {
            throw new IllegalStateException("plan benchmark VM is invalid: "
                    + (docs.isEmpty() ? "empty" : docs.get(0).errors()));
        }
        return docs.get(0).vm();
    }

    public static VirtualMachine load(Path seed) throws java.io.IOException {
        List<ManifestDocument> docs = Manifests.parse(Files.readString(seed));
        if (docs.isEmpty() || docs.get(0).vm() == null || !docs.get(0).errors().isEmpty()) {
            throw new IllegalStateException(seed + " has no valid VirtualMachine: "
                    + (docs.isEmpty() ? "empty" : docs.get(0).errors()));
        }
        return docs.get(0).vm();
    }

    @Benchmark
    public DomainXml render() {
        return DomainRenderer.render(vm, host, options);
    }

    @Benchmark
    public List<DeviceAction> plan() {
        return DevicePlanner.plan(desired, live);
    }

    @Benchmark
    public List<DeviceAction> planFromXml() {
        return DevicePlanner.plan(desiredXml, liveXml);
    }

    @Benchmark
    public String floorJdkSerialize() throws Exception {
        StringWriter w = new StringWriter(8192);
        transformer.transform(new DOMSource(dom), new StreamResult(w));
        return w.toString();
    }
}
