package io.virtfleet.agent.guest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.virtfleet.api.v1alpha1.DeviceStatus;
import io.virtfleet.api.v1alpha1.GuestInterface;
import io.virtfleet.api.v1alpha1.GuestOSInfo;
import io.virtfleet.reconcilers.domain.xml.DomainDocument;
import io.virtfleet.reconcilers.domain.xml.CharDevice;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/** Pure: the guest agent's replies turned into status fields, and the agent channel's state from the live XML. */
public final class GuestReplies {
    /** The virtio-serial port name qemu-guest-agent opens (libvirt's convention; the renderer adds the channel). */
    public static final String CHANNEL = "org.qemu.guest_agent.0";

    private static final ObjectMapper JSON = new ObjectMapper();

    private GuestReplies() {
    }

    /** The channel as the live XML shows it. */
    public enum Channel {
        /** The domain has no guest agent channel. */
        NONE,
        /** The guest has opened the port: an agent listens (libvirt's {@code state='connected'}). */
        CONNECTED,
        /** No process in the guest has the port open. */
        DISCONNECTED
    }

    /**
     * The guest agent channel's state in a running domain's live XML. libvirt tracks QEMU's VSERPORT_CHANGE events
     * and writes {@code <target type='virtio' name='org.qemu.guest_agent.0' state='connected'/>}; a QEMU too old for
     * those events gives no state, which libvirt treats as connected (it then tries the agent), and so do we.
     */
    public static Channel channel(DomainDocument live) {
        if (live == null || live.def().devices == null || live.def().devices.channels == null) {
            return Channel.NONE;
        }
        for (CharDevice c : live.def().devices.channels) {
            if (c.target != null && CHANNEL.equals(c.target.name)) {
                return "disconnected".equals(c.target.state) ? Channel.DISCONNECTED : Channel.CONNECTED;
            }
        }
        return Channel.NONE;
    }

    /** One interface as libvirt's virDomainInterfaceAddresses (source AGENT) returns it. */
    public record RawInterface(String name, String mac, List<String> addresses) {
    }

    /**
     * The guest's interfaces, each named after the VM's interface with its MAC ({@code devices}: the Domain's
     * status devices), loopback left out (it is no interface of the VM), sorted by guest name so an unchanged guest
     * gives an equal list.
     */
    public static List<GuestInterface> interfaces(List<RawInterface> raw, List<DeviceStatus> devices) {
        List<GuestInterface> out = new ArrayList<>();
        for (RawInterface r : raw) {
            if (loopback(r)) {
                continue;
            }
            String mac = r.mac() == null ? null : r.mac().toLowerCase(Locale.ROOT);
            String name = devices == null || mac == null ? null : devices.stream()
                    .filter(d -> DeviceStatus.KIND_INTERFACE.equals(d.kind) && d.mac != null
                            && d.mac.equalsIgnoreCase(mac))
                    .map(d -> d.name).filter(Objects::nonNull).findFirst().orElse(null);
            out.add(new GuestInterface(name, r.name(), mac, r.addresses() == null ? List.of() : r.addresses()));
        }
        out.sort(Comparator.comparing(g -> Objects.requireNonNullElse(g.interfaceName, "")));
        return out;
    }

    private static boolean loopback(RawInterface r) {
        if ("lo".equals(r.name())) {
            return true;
        }
        boolean zeroMac = r.mac() == null || r.mac().equals("00:00:00:00:00:00");
        return zeroMac && r.addresses() != null && !r.addresses().isEmpty()
                && r.addresses().stream().allMatch(a -> a.startsWith("127.") || a.startsWith("::1/"));
    }

    /**
     * The OS info from the replies of {@code guest-get-osinfo} and {@code guest-get-host-name} (qemu-guest-agent's
     * QMP schema: {@code {"return": {"id": …, "name": …, "version-id": …, "kernel-release": …}}} and
     * {@code {"return": {"host-name": …}}}); either may be null (the command failed or is not supported: old agents
     * lack guest-get-osinfo).
     */
    public static GuestOSInfo osInfo(String osinfoReply, String hostnameReply) {
        GuestOSInfo info = new GuestOSInfo();
        returned(osinfoReply).ifPresent(r -> {
            info.id = text(r, "id");
            info.name = text(r, "name");
            info.versionId = text(r, "version-id");
            info.kernelRelease = text(r, "kernel-release");
        });
        returned(hostnameReply).ifPresent(r -> info.hostname = text(r, "host-name"));
        return info;
    }

    private static Optional<JsonNode> returned(String reply) {
        if (reply == null) {
            return Optional.empty();
        }
        try {
            JsonNode r = JSON.readTree(reply).get("return");
            return r != null && r.isObject() ? Optional.of(r) : Optional.empty();
        } catch (java.io.IOException e) {
            return Optional.empty();
        }
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        if (v == null || !v.isTextual()) {
            return null;
        }
        // A guest controls these strings: keep them short and printable in the status.
        String s = v.asText().replaceAll("\\p{Cntrl}", "");
        return s.length() > 253 ? s.substring(0, 253) : s;
    }
}
