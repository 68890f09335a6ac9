package io.virtfleet.agent.host;

import io.virtfleet.api.v1alpha1.HostCpu;
import io.virtfleet.api.v1alpha1.HostNetworking;
import io.virtfleet.agent.libvirt.Capabilities;
import org.libvirt.Connect;
import org.libvirt.LibvirtException;
import org.libvirt.Network;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * What VMs may rely on when they are placed on, or migrated to, this host: libvirt's networks, the host's Linux
 * bridges and its CPU. Published in {@code Host.status.networking} and {@code Host.status.cpu}.
 */
public final class HostFacts {
    private HostFacts() {
    }

    /** libvirt's networks (active and defined) with their bridges, and the host's Linux bridges. */
    public static HostNetworking networking(Connect c, Path sysClassNet) throws LibvirtException {
        HostNetworking out = new HostNetworking();
        TreeSet<String> active = new TreeSet<>(List.of(c.listNetworks()));
        TreeSet<String> all = new TreeSet<>(active);
        all.addAll(List.of(c.listDefinedNetworks()));
        for (String name : all) {
            String bridge = null;
            try {
                Network n = c.networkLookupByName(name);
                try {
                    bridge = n.getBridgeName();
                } finally {
                    n.free();
                }
            } catch (LibvirtException e) {
                // No bridge (e.g. a macvtap or hostdev network), or the network went away meanwhile.
            }
            out.networks.add(new HostNetworking.Network(name, active.contains(name), bridge));
        }
        out.bridges = bridges(sysClassNet);
        return out;
    }

    /** Interfaces that are Linux bridges: the kernel gives each a {@code bridge/} directory in sysfs. */
    static List<String> bridges(Path sysClassNet) {
        List<String> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(sysClassNet)) {
            s.filter(p -> Files.isDirectory(p.resolve("bridge"))).map(p -> p.getFileName().toString()).sorted()
                    .forEach(out::add);
        } catch (IOException | RuntimeException e) {
            // Not Linux, or no sysfs: report none rather than guess.
        }
        return out;
    }

    /**
     * The host CPU from libvirt's capabilities XML ({@code /capabilities/host/cpu}). The signature hashes vendor,
     * model, CPUID family/model/stepping and the sorted feature list — what a host-passthrough guest sees — and not
     * microcode, topology or frequency, which differ between identical machines.
     */
    public static HostCpu cpu(String capabilitiesXml) {
        HostCpu out = new HostCpu();
        Document d = Capabilities.document(capabilitiesXml);
        try {
            NodeList hosts = d.getElementsByTagName("host");
            if (hosts.getLength() == 0) {
                return null;
            }
            NodeList cpus = ((Element) hosts.item(0)).getElementsByTagName("cpu");
            if (cpus.getLength() == 0) {
                return null;
            }
            Element cpu = (Element) cpus.item(0);
            out.arch = text(cpu, "arch");
            out.vendor = text(cpu, "vendor");
            out.model = text(cpu, "model");
            StringBuilder id = new StringBuilder();
            id.append(out.arch).append('|').append(out.vendor).append('|').append(out.model);
            NodeList sig = cpu.getElementsByTagName("signature");
            if (sig.getLength() > 0) {
                Element s = (Element) sig.item(0);
                id.append('|').append(s.getAttribute("family")).append('/').append(s.getAttribute("model"))
                        .append('/').append(s.getAttribute("stepping"));
            }
            TreeSet<String> features = new TreeSet<>();
            NodeList fs = cpu.getElementsByTagName("feature");
            for (int i = 0; i < fs.getLength(); i++) {
                features.add(((Element) fs.item(i)).getAttribute("name"));
            }
            id.append('|').append(String.join(",", features));
            out.signature = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(id.toString().getBytes(StandardCharsets.UTF_8)));
            return out;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        } catch (Exception e) {
            throw new IllegalArgumentException("cannot parse libvirt capabilities XML: " + e.getMessage(), e);
        }
    }

    private static String text(Element parent, String tag) {
        NodeList l = parent.getElementsByTagName(tag);
        return l.getLength() == 0 ? null : l.item(0).getTextContent().strip();
    }
}
