package io.virtfleet.operator;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A VirtualMachine manifest as a user would write it (YAML text), built fluently. */
class TestVm {
    final String name;
    final String namespace;
    /** Top-level scalar fields of the spec, written as {@code key: value}. */
    private final Map<String, String> spec = new LinkedHashMap<>();
    Map<String, String> selector;
    String mac = "52:54:00:6b:3c:58";
    String diskPath;
    final Map<String, String> annotations = new LinkedHashMap<>();
    final List<String> extraSpec = new ArrayList<>();

    TestVm(String namespace, String name) {
        this.namespace = namespace;
        this.name = name;
        this.diskPath = "/var/lib/virtfleet/images/" + name + ".qcow2";
        spec.put("runStrategy", "Always");
        spec.put("hypervisor", "qemu");
        spec.put("memory", "1Gi");
    }

    /** Sets a top-level spec field, by its YAML name, to a scalar ({@code spec("memory", "2Gi")}). */
    TestVm spec(String key, String value) {
        spec.put(key, value);
        return this;
    }

    TestVm strategy(String s) {
        return spec("runStrategy", s);
    }

    TestVm on(String host) {
        return spec("nodeName", host);
    }

    TestVm selecting(String key, String value) {
        selector = Map.of(key, value);
        return this;
    }

    TestVm mac(String m) {
        mac = m;
        return this;
    }

    TestVm annotate(String k, String v) {
        annotations.put(k, v);
        return this;
    }

    /** The {@code metadata.annotations} block (nothing without annotations). */
    final String annotationsYaml() {
        StringBuilder a = new StringBuilder();
        if (!annotations.isEmpty()) {
            a.append("  annotations:\n");
            annotations.forEach((k, v) -> a.append("    ").append(k).append(": \"").append(v).append("\"\n"));
        }
        return a.toString();
    }

    String yaml() {
        StringBuilder y = new StringBuilder();
        y.append("apiVersion: virtfleet.io/v1alpha1\nkind: VirtualMachine\nmetadata:\n");
        y.append("  name: ").append(name).append('\n');
        y.append("  namespace: ").append(namespace).append('\n');
        y.append(annotationsYaml());
        y.append("spec:\n");
        spec.forEach((k, v) -> y.append("  ").append(k).append(": ").append(v).append('\n'));
        if (selector != null) {
            y.append("  hostSelector:\n    matchLabels:\n");
            selector.forEach((k, v) -> y.append("      ").append(k).append(": \"").append(v).append("\"\n"));
        }
        y.append("  cpu: {cores: 1}\n");
        y.append("  graphics: none\n");
        y.append("  disks:\n  - {name: root, volume: {path: ").append(diskPath).append("}}\n");
        y.append("  interfaces:\n  - {name: default, network: default, macAddress: \"").append(mac).append("\"}\n");
        for (String s : extraSpec) {
            y.append("  ").append(s).append('\n');
        }
        return y.toString();
    }
}
