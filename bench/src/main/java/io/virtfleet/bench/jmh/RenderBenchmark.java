package io.virtfleet.bench.jmh;

import io.virtfleet.api.v1alpha1.VirtualMachine;
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
 * <p>TODO(hot-plug planner): a {@code plan()} benchmark for a 20-device diff belongs here once the device planner
 * exists (reconcilers has no device planner yet; node-agent's DomainSyncPlanner plans power actions only). Shape:
 * a live domain with 10 disks + 10 interfaces, a desired spec that adds 10, removes 5 and changes 5; score plans/s.
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
    public String floorJdkSerialize() throws Exception {
        StringWriter w = new StringWriter(8192);
        transformer.transform(new DOMSource(dom), new StreamResult(w));
        return w.toString();
    }
}
