package io.virtfleet.operator;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A VirtualMachine manifest as a user would write it (YAML text), built fluently. */
class TestVm {
    final String name;
    final String namespace;
    String runStrategy = "Always";
    String hypervisor = "qemu";
    String nodeName;
    Map<String, String> selector;
    int cores = 1;
    String memory = "1Gi";
    String mac = "52:54:00:6b:3c:58";
    String diskPath;
    final Map<String, String> annotations = new LinkedHashMap<>();
    final Map<String, String> labels = new LinkedHashMap<>();
    final List<String> extraSpec = new ArrayList<>();

    TestVm(String namespace, String name) {
        this.namespace = namespace;
        this.name = name;
        this.diskPath = "/var/lib/virtfleet/images/" + name + ".qcow2";
    }

    TestVm strategy(String s) {
        runStrategy = s;
        return this;
    }

    TestVm hypervisor(String h) {
        hypervisor = h;
        return this;
    }

    TestVm on(String host) {
        nodeName = host;
        return this;
    }

    TestVm selecting(String key, String value) {
        selector = Map.of(key, value);
        return this;
    }

    TestVm cores(int n) {
        cores = n;
        return this;
    }

    TestVm memory(String m) {
        memory = m;
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

    TestVm label(String k, String v) {
        labels.put(k, v);
        return this;
    }

    String yaml() {
        StringBuilder y = new StringBuilder();
        y.append("apiVersion: virtfleet.io/v1alpha1\nkind: VirtualMachine\nmetadata:\n");
        y.append("  name: ").append(name).append('\n');
        y.append("  namespace: ").append(namespace).append('\n');
        if (!labels.isEmpty()) {
            y.append("  labels:\n");
            labels.forEach((k, v) -> y.append("    ").append(k).append(": \"").append(v).append("\"\n"));
        }
        if (!annotations.isEmpty()) {
            y.append("  annotations:\n");
            annotations.forEach((k, v) -> y.append("    ").append(k).append(": \"").append(v).append("\"\n"));
        }
        y.append("spec:\n");
        y.append("  runStrategy: ").append(runStrategy).append('\n');
        y.append("  hypervisor: ").append(hypervisor).append('\n');
        if (nodeName != null) {
            y.append("  nodeName: ").append(nodeName).append('\n');
        }
        if (selector != null) {
            y.append("  hostSelector:\n    matchLabels:\n");
            selector.forEach((k, v) -> y.append("      ").append(k).append(": \"").append(v).append("\"\n"));
        }
        y.append("  cpu: {cores: ").append(cores).append("}\n");
        y.append("  memory: ").append(memory).append('\n');
        y.append("  graphics: none\n");
        y.append("  disks:\n  - {name: root, volume: {path: ").append(diskPath).append("}}\n");
        y.append("  interfaces:\n  - {name: default, network: default, macAddress: \"").append(mac).append("\"}\n");
        for (String s : extraSpec) {
            y.append("  ").append(s).append('\n');
        }
        return y.toString();
    }
}
